"""Value sources in a Map, as a mapping's value and as a function's inputs, with defaults:
exact outputs through the engine."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from postroom.sdk import Document
from support.engine_helpers import run_yaml

pytestmark = pytest.mark.fast

TEXT = """
type: profile
id: v-in
name: In
profile_type: json
elements: [id, {name: note, type: string}, {name: lines, type: array, elements: [sku]}]
---
type: profile
id: v-out
name: Out
profile_type: json
elements: [File, Batch, Source, Run, Data, Key, Note, Day, Missing, {name: Codes, type: array, items: string}]
---
type: cross_reference
id: v-codes
columns: [sku, code]
rows: [[A, alpha], [B, beta]]
---
type: map
id: v-map
name: Values
from_profile: v-in
to_profile: v-out
mappings:
  - {to: File, value: {document_property: disk.file_name}}
  - {to: Batch, value: {dynamic_document_property: batch}}
  - {to: Source, value: {process_property: source}, default: nowhere}
  - {to: Run, value: {dynamic_process_property: run}, default: no run}
  - {to: Data, value: {current_data: true}}
  - {to: Key, function: concat, inputs: [{process_property: source}, "/", {dynamic_document_property: batch}, "/",
                                          {from: id}]}
  - {to: Note, from: note, default: (none)}
  - {to: Day, function: current_date, format: yyyy-MM-dd}
  - {to: Missing, function: upper, inputs: [{from: "lines[5].sku"}]}
  - {to: "Codes[*]", function: cross_reference, table: v-codes, inputs: [{from: "lines[*].sku"}], match: sku,
     output: code, default: unknown}
---
type: process
name: P
id: p
shapes:
  start: {type: start, mode: data_passthrough, next: map}
  map: {type: map, map: v-map, next: end}
  end: {type: stop}
"""


def test_value_sources_defaults_and_a_cross_reference_over_a_repeating_element() -> None:
    data = b'{"id": "7", "lines": [{"sku": "A"}, {"sku": "Q"}, {"sku": "B"}]}'
    doc = Document(data, {"disk.file_name": "in.json"}, {"batch": "b1"})
    before = datetime.now().astimezone().strftime("%Y-%m-%d")
    result, recorder, _ = run_yaml(TEXT, [doc], test_mode=True, process_properties={"source": "clinic"})
    after = datetime.now().astimezone().strftime("%Y-%m-%d")
    assert [e[2] for e in recorder.errors] == []
    (out,) = [json.loads(d.data) for shape, _, d in recorder.shape_documents if shape == "end"]
    assert out.pop("Day") in (before, after)
    assert out == {"File": "in.json", "Batch": "b1", "Source": "clinic", "Run": "no run", "Data": data.decode(),
                   "Key": "clinic/b1/7", "Note": "(none)", "Missing": "", "Codes": ["alpha", "unknown", "beta"]}


ROWS = """
type: profile
id: r-csv
name: CSV
fields: [id, seen, fee, paid]
---
type: profile
id: r-table
name: Table
profile_type: database
table: visits
columns: [{name: id, type: number, required: true}, {name: seen, type: date, format: yyyy-MM-dd},
          {name: fee, type: number}, {name: paid, type: boolean}, note]
---
type: map
id: r-map
name: To a row
from_profile: r-csv
to_profile: r-table
mappings:
  - {from: id, to: id}
  - {to: seen, function: date_format, inputs: [{from: seen}], input_format: d/M/yyyy, output_format: yyyy-MM-dd}
  - {from: fee, to: fee}
  - {from: paid, to: paid}
  - {to: note, function: concat, inputs: ["visit ", {from: id}]}
---
type: process
name: P
id: p
shapes:
  start: {type: start, mode: data_passthrough, next: map}
  map: {type: map, map: r-map, next: end}
  end: {type: stop}
"""


def test_a_record_becomes_a_database_row_with_typed_columns() -> None:
    docs = [Document(b"id,seen,fee,paid\n7,3/4/2024,12.50,yes\n"), Document(b"id,seen,fee,paid\n,3/4/2024,1,no\n"),
            Document(b"id,seen,fee,paid\n8,31/4/2024,1,no\n")]
    _, recorder, _ = run_yaml(ROWS, docs, test_mode=True)
    rows = [json.loads(d.data) for shape, _, d in recorder.shape_documents if shape == "end"]
    assert rows == [{"id": 7, "seen": "2024-04-03", "fee": 12.5, "paid": True, "note": "visit 7"}]
    assert [e[2] for e in recorder.errors] == [
        "map r-map: the result does not fit profile r-table: column id: is required and missing",
        "map r-map: mapping 2 (to seen): '31/4/2024' is not a date (day is out of range for month) in the format "
        "d/M/yyyy",
    ]
