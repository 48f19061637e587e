#!/usr/bin/env python3
"""HTTP Client connector overhead: documents POSTed per second by the connector (a path
placeholder, JSON check, headers, response into a document with its properties) against a
bare ``httpx.Client`` loop posting the same bodies to the same local server, in one run.

    .venv/bin/python bench/http_send.py [COUNT]      # 2,000 documents

The server is the tests' threaded http.server (tests/support/httpkit.py) on 127.0.0.1, so
both sides pay the same server cost. Target: the connector keeps at least 0.7 of the bare
loop's throughput; exit 1 when it does not.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

import httpx  # noqa: E402

from postroom.connectors.http import HttpConnection, HttpConnector, HttpOperation  # noqa: E402
from postroom.sdk import Document  # noqa: E402
from postroom.sdk.testing import MemoryContext  # noqa: E402
from support.httpkit import ApiServer, Reply  # noqa: E402

TARGET = 0.7


def main(count: int) -> int:
    server = ApiServer()
    server.handler = lambda seen: Reply(201, {"id": seen.path.rsplit("/", 1)[-1]})
    bodies = [f'{{"patient_id": "P{n:06d}", "name": "Ann Lee"}}'.encode() for n in range(count)]
    try:
        docs = [Document(body, {"id": f"P{n:06d}"}) for n, body in enumerate(bodies)]
        for number, doc in enumerate(docs, 1):
            doc.seq = number
        operation = HttpOperation(method="POST", path="/patients/{1}", parameters=[{"document_property": "id"}])
        session = HttpConnector().open(HttpConnection(base_url=server.url), operation, MemoryContext())
        started = time.perf_counter()
        results = list(session.execute(docs, "bench"))
        connector_s = time.perf_counter() - started
        session.close()
        assert all(isinstance(r, Document) for r in results)
        with httpx.Client() as client:
            started = time.perf_counter()
            for n, body in enumerate(bodies):
                client.post(f"{server.url}/patients/P{n:06d}", content=body,
                            headers={"Content-Type": "application/json"}).json()
            bare_s = time.perf_counter() - started
    finally:
        server.close()
    ratio = bare_s / connector_s
    print(f"http: {count:,} POSTs to a local server")
    print(f"  HTTP connector  {connector_s:6.2f} s  {count / connector_s:8,.0f} documents/s")
    print(f"  bare httpx loop {bare_s:6.2f} s  {count / bare_s:8,.0f} requests/s")
    print(f"  ratio: the connector keeps {ratio:.2f} of the bare loop's throughput (target {TARGET})")
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
