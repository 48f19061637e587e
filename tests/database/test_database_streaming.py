"""Streaming through the database connector (issue 10: memory stays flat over a large
result): a query as a connector shape in the middle of a process gives one document per row,
and a result ten times larger does not take ten times the memory. Measured with tracemalloc
(allocations, not time), against a real PostgreSQL."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

from sqlalchemy import create_engine, text

from postroom.sdk import Document
from support.engine_helpers import run_yaml

PROCESS = """
type: process
id: fan-out
name: A query per document
shapes:
  start: {{type: start, mode: data_passthrough, next: rows}}
  rows: {{type: connector, connection: db, operation: rows, next: note}}
  note:
    type: set_properties
    properties: [{{property: disk.file_name, value: [row-, {{profile_element: n}}, .json]}}]
    next: last
  last: {{type: decision, first: {{profile_element: n}}, comparison: equals, second: "{count}", true: keep, false: done}}
  keep: {{type: connector, connection: folder, operation: write}}
  done: {{type: stop}}
---
type: connection
connector: database
id: db
name: Clinic database
settings: {{url: "{url}"}}
---
type: operation
connector: database
id: rows
name: Rows
settings:
  action: query
  sql: "SELECT g AS n, repeat('x', 200) AS pad FROM generate_series(1, CAST(:count AS integer)) AS g ORDER BY g"
  parameters: {{count: {{profile_element: count}}}}
---
type: connection
connector: disk
id: folder
name: Folder
settings: {{directory: "{folder}"}}
---
type: operation
connector: disk
id: write
name: Write
settings: {{action: send, write_option: overwrite}}
"""


def _run(url: str, folder: Path, count: int) -> tuple[int, int]:
    """Documents out and the peak of memory allocated during the run (bytes)."""
    process = PROCESS.format(url=url, folder=folder, count=count)
    tracemalloc.start()
    try:
        result, _, _ = run_yaml(process, [Document(json.dumps({"count": count}))])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.status == "complete", result
    return result.documents_out, peak


def test_a_query_in_the_middle_of_a_process_does_not_hold_its_whole_result(postgres_database: str,
                                                                           tmp_path: Path) -> None:
    url = postgres_database.replace("postgresql+psycopg://", "postgresql://")
    _run(url, tmp_path / "warm", 100)  # imports and first-use caches are not the result's memory
    small_out, small_peak = _run(url, tmp_path / "small", 3_000)
    large_out, large_peak = _run(url, tmp_path / "large", 30_000)
    # every row passed on, the last one all the way to the disk write, the values as stored
    assert (small_out, large_out) == (3_000, 30_000)
    last = json.loads((tmp_path / "large" / "row-30000.json").read_text(encoding="utf-8"))
    assert last == {"n": 30000, "pad": "x" * 200}
    assert sorted(p.name for p in (tmp_path / "large").iterdir()) == ["row-30000.json"]
    # held whole, the 27,000 more rows took 40 MB more (a document per row, ~1.5 KB each with
    # its properties); streamed, the larger run peaks a few MB above the smaller one (the spool
    # keeps up to 5,000 documents in memory before it writes them to disk)
    assert large_peak - small_peak < 12_000_000, (small_peak, large_peak)
    engine = create_engine(postgres_database)
    with engine.connect() as conn:  # the server is fine and the cursor closed
        assert conn.execute(text("SELECT count(*) FROM pg_cursors")).scalar() == 0
    engine.dispose()
