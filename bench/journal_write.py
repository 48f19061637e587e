#!/usr/bin/env python3
"""Send-journal write benchmark: one outcome recorded through SQLAlchemy Core against the
driver's own connection.

    python bench/journal_write.py                       # SQLite in a temporary folder
    python bench/journal_write.py --url postgresql://USER:PASSWORD@HOST:PORT/DB

Begins N journal entries, then records each outcome once per call, the way a sending thread
does before its next email's final dot, two ways:

* Core: ``journal_finish`` (a SQLAlchemy ``update()`` in a write transaction from the pool);
* driver: ``journal_finish_many`` with one item (the prepared UPDATE on the journal's held
  driver connection, ``executemany``, commit).

Each is run twice, alternating; prints microseconds a call. Used as evidence in docs/adr/0008.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from postroom.repository import open_repository  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--url", default=None, help="a database URL (default: SQLite in a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        repo = open_repository(args.url, home=home)
        try:
            execution = f"bench-{uuid.uuid4().hex}"
            keys = [f"send/{n}" for n in range(args.calls)]
            repo.journal_begin_many(execution, [(key, f"<{n}@bench.invalid>") for n, key in enumerate(keys)])

            def core() -> None:
                for key in keys:
                    repo.journal_finish(execution, key, "sent", "250 ok")

            def driver() -> None:
                for key in keys:
                    repo.journal_finish_many(execution, [(key, "sent", "250 ok")])

            print(f"journal write: {args.calls:,} outcomes, one a call, on {repo.display_url}")
            for label, work in (("Core journal_finish", core), ("driver journal_finish_many", driver)) * 2:
                started = time.perf_counter()
                work()
                print(f"  {label:28} {(time.perf_counter() - started) / args.calls * 1e6:6.0f} us a call")
        finally:
            repo.close()


if __name__ == "__main__":
    main()
