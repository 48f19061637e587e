#!/usr/bin/env python3
"""Flow Control overhead: documents per second through Set Properties and Message, behind a
Flow Control (unit document or batch of 100, parallel 1 or 4), next to the same process with
a Message in its place, in one run.

    .venv/bin/python bench/flow_control.py [COUNT]      # 20,000 documents

The shapes are pure Python, so threads do not add speed here (the GIL): this measures what a
unit costs. Parallel lanes pay off when the work per unit waits (a script step's sandbox, a
server). Every variant must put out every document once; exit 1 when one does not.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from postroom.sdk import Document  # noqa: E402
from support.engine_helpers import run_yaml  # noqa: E402

PROCESS = """
type: process
name: flow
shapes:
  start: {type: start, mode: data_passthrough, next: flow}
  flow: FLOW
  set: {type: set_properties, properties: [{property: dynamic.x, value: [{current_data: true}]}], next: msg}
  msg: {type: message, text: "x {1}", parameters: [{dynamic_document_property: x}]}
"""
PLAIN = "{type: message, text: '{1}', parameters: [{current_data: true}], next: set}"


def variants() -> list[tuple[str, str]]:
    out = [("no flow control", PROCESS.replace("FLOW", PLAIN))]
    for unit in ("document", "batch"):
        for parallel in (1, 4):
            flow = f"{{type: flow_control, unit: {unit}, batch_size: 100, parallel: {parallel}, next: set}}"
            out.append((f"unit {unit}, parallel {parallel}", PROCESS.replace("FLOW", flow)))
    return out


def main(count: int) -> int:
    failed = False
    for label, text in variants():
        docs = [Document(f"d{i}".encode()) for i in range(count)]
        began = time.perf_counter()
        result, _, _ = run_yaml(text, docs)
        seconds = time.perf_counter() - began
        print(f"{label:28s} {count / seconds:10,.0f} documents/s  ({result.documents_out:,} out)")
        failed = failed or result.documents_out != count
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000))
