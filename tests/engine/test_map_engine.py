"""The Map shape in the engine: repeating elements, JSON → CSV, XML, properties carried over,
a bad document failing alone, and the CSV → JSON → CSV round trip."""

from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from postroom.sdk import Document
from support.engine_helpers import run_yaml

pytestmark = pytest.mark.fast


def _outputs(text: str, *data: bytes, props: dict | None = None) -> tuple[list[Document], list[str]]:
    docs = []
    for item in data:
        doc = Document(item)
        for key, value in (props or {}).items():
            doc.set_property(key, value)
        docs.append(doc)
    result, recorder, _ = run_yaml(text, docs, test_mode=True)
    return [d for shape, _, d in recorder.shape_documents if shape == "end"], [e[2] for e in recorder.errors]


def _process(map_id: str) -> str:
    return f"""
---
type: process
name: P
id: p
shapes:
  start: {{type: start, mode: data_passthrough, next: map}}
  map: {{type: map, map: {map_id}, next: end}}
  end: {{type: stop}}
"""


ORDER = """
type: profile
id: order
name: Order
profile_type: json
elements:
  - {name: id, type: string}
  - {name: items, type: array, elements: [sku, {name: qty, type: number}]}
---
type: profile
id: shipment
name: Shipment
profile_type: json
elements:
  - {name: ref, type: string}
  - {name: lines, type: array, elements: [code, {name: count, type: number}]}
---
type: map
id: order-to-shipment
name: Order to shipment
from_profile: order
to_profile: shipment
mappings:
  - {from: id, to: ref}
  - {from: "items[*].sku", to: "lines[*].code"}
  - {to: "lines[*].count", function: multiply, inputs: [{from: "items[*].qty"}, "2"]}
""" + _process("order-to-shipment")


def test_repeating_elements_map_entry_by_entry_and_properties_carry_over() -> None:
    order = b'{"id": "O1", "items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 3}]}'
    out, errors = _outputs(ORDER, order, props={"mail.subject": "kept"})
    assert errors == []
    (doc,) = out
    assert json.loads(doc.data) == {"ref": "O1", "lines": [{"code": "A", "count": 2}, {"code": "B", "count": 6}]}
    assert doc.properties["mail.subject"] == "kept"


def test_a_document_that_does_not_fit_fails_alone() -> None:
    good = b'{"id": "O1", "items": []}'
    bad = b'{"id": 5, "items": []}'
    out, errors = _outputs(ORDER, bad, good)
    assert [json.loads(d.data) for d in out] == [{"ref": "O1"}]
    assert errors == ["map order-to-shipment: the document does not fit profile order: id: is a number, and the "
                      "profile expects string"]


ROUND = """
type: profile
id: rec-csv
name: CSV
fields: [name, note, city]
---
type: profile
id: rec-json
name: JSON
profile_type: json
elements: [{name: Person, type: object, elements: [Name, Note, City]}]
---
type: map
id: csv-to-json
name: CSV to JSON
from_profile: rec-csv
to_profile: rec-json
mappings:
  - {from: name, to: Person.Name}
  - {from: note, to: Person.Note}
  - {from: city, to: Person.City}
---
type: map
id: json-to-csv
name: JSON to CSV
from_profile: rec-json
to_profile: rec-csv
mappings:
  - {from: Person.Name, to: name}
  - {from: Person.Note, to: note}
  - {from: Person.City, to: city}
---
type: process
name: Round trip
id: round
shapes:
  start: {type: start, mode: data_passthrough, next: there}
  there: {type: map, map: csv-to-json, next: back}
  back: {type: map, map: json-to-csv, next: end}
  end: {type: stop}
"""


def test_json_to_csv_quotes_what_needs_quoting() -> None:
    out, errors = _outputs(ROUND, 'name,note,city\nZoë,"a, ""b""\nc",Oslo\n'.encode())
    assert errors == []
    assert out[0].data.decode() == 'name,note,city\nZoë,"a, ""b""\nc",Oslo\n'


_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_text, _text, _text), min_size=1, max_size=4))
@example([('"', ",", "a\r\nb"), ("", "", ""), (" x ", "日本", "é\n")])
def test_csv_to_json_and_back_gives_the_original_records(records: list[tuple[str, str, str]]) -> None:
    inputs = []
    for record in records:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows([["name", "note", "city"], record])
        inputs.append(buffer.getvalue().encode("utf-8"))
    out, errors = _outputs(ROUND, *inputs)
    assert errors == []
    back = [tuple(list(csv.reader(io.StringIO(d.data.decode("utf-8"), newline="")))[1]) for d in out]
    assert back == records


def test_a_record_without_its_header_line_fails_naming_the_profile() -> None:
    out, errors = _outputs(ROUND, b"Ann,note,Oslo\n")
    assert out == []
    assert errors == ["map csv-to-json: the document holds no record under its header line; profile rec-csv has "
                      "header: true (a split with headers: retain keeps the header line with each record)"]


XML_MAP = """
type: profile
id: person-json
name: Person JSON
profile_type: json
elements: [id, name, {name: visits, type: array, items: string}]
---
type: profile
id: person-xml
name: Person XML
profile_type: xml
root: patient
attributes: [id]
elements: [name, {name: visit, repeating: true}]
---
type: map
id: json-to-xml
name: JSON to XML
from_profile: person-json
to_profile: person-xml
mappings:
  - {from: id, to: patient/@id}
  - {from: name, to: patient/name}
  - {from: "visits[*]", to: "patient/visit[*]"}
""" + _process("json-to-xml")


def test_json_to_xml_with_an_attribute_and_repeating_elements() -> None:
    out, errors = _outputs(XML_MAP, '{"id": "7", "name": "Zoë & Bo", "visits": ["2024-01-02", "2024-02-03"]}'
                           .encode())
    assert errors == []
    assert out[0].data.decode() == ('<patient id="7"><name>Zoë &amp; Bo</name><visit>2024-01-02</visit>'
                                    '<visit>2024-02-03</visit></patient>')
