#!/usr/bin/env python3
"""Script step benchmark: the sandboxed script step against the same script run in-process.

    python bench/script_step.py                 # 20,000 documents
    python bench/script_step.py --documents 100000

Splits a CSV of N patient rows into N documents, then runs a small script on each
(``properties["mail.subject"] = "Hello " + text.split(",")[1]`` and ``text = text.upper()``):

* sandboxed: the Data Process ``script`` step as it runs now, in one child process for the
  step (documents sent in batches over a pipe, one result back for each);
* in-process: the same code ``exec``-ed in Postroom's own process, once per document, with
  the same names (what the step did before it was sandboxed), on the same documents;
* split only: the same process without the script step, the baseline both include.

Prints the time per document each adds over the split alone, and the ratio.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from postroom.sdk import Document  # noqa: E402
from support.engine_helpers import run_yaml  # noqa: E402

CODE = 'properties["mail.subject"] = "Hello " + text.split(",")[1]\ntext = text.upper()\n'
PROCESS = """
type: process
name: bench
shapes:
  start: {{type: start, mode: data_passthrough, next: dp}}
  dp: {{type: data_process, steps: [{{type: split}}{script}], next: end}}
  end: {{type: stop, continue: true}}
"""


def in_process(docs: list[Document]) -> None:
    """The script as the step ran it before: exec in this process, once per document."""
    code = compile(CODE, "<script>", "exec")
    for doc in docs:
        scope = {"data": doc.data, "text": doc.text(), "properties": dict(doc.properties),
                 "dynamic": dict(doc.dynamic), "process_properties": {}, "log": None, "output": None}
        exec(code, scope)  # noqa: S102 - the benchmark's own code
        new = doc.with_data(scope["text"])
        new.properties = {str(k): str(v) for k, v in scope["properties"].items()}


def timed(text: str, data: str) -> float:
    started = time.perf_counter()
    result, _, _ = run_yaml(text, inputs=[Document(data)])
    assert result.status == "complete", result
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=20_000)
    args = parser.parse_args()
    n = args.documents
    data = "".join(f"P{i},Patient {i},Lyon\n" for i in range(n))
    import json

    split_only = timed(PROCESS.format(script=""), data)
    sandboxed = timed(PROCESS.format(script=", {type: script, code: " + json.dumps(CODE) + "}"), data)
    docs = [Document(line) for line in data.splitlines()]
    started = time.perf_counter()
    in_process(docs)
    inline = time.perf_counter() - started
    per_sandboxed = (sandboxed - split_only) / n * 1e6
    per_inline = inline / n * 1e6
    print(f"{n:,} documents: split only {split_only:.2f} s, with the sandboxed script {sandboxed:.2f} s")
    print(f"sandboxed script step  {per_sandboxed:7.1f} µs per document")
    print(f"in-process exec        {per_inline:7.1f} µs per document")
    print(f"ratio sandboxed / in-process: {per_sandboxed / per_inline:.1f}")


if __name__ == "__main__":
    main()
