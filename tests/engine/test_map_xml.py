"""XML in a Map with namespaces, attributes on the root and on nested elements, repeating
dated elements, and paths relative to the root, both ways: XML → JSON → XML gives the
document back, its elements in the profile's order."""

from __future__ import annotations

import json

import pytest

from postroom.sdk import Document
from support.engine_helpers import run_yaml

pytestmark = pytest.mark.fast

TEXT = """
type: profile
id: px
name: X
profile_type: xml
root: c:patient
namespaces: {c: "urn:clinic"}
attributes: [{name: id, required: true}]
elements:
  - {name: c:name, required: true}
  - {name: c:visit, type: date, format: dd.MM.yyyy, repeating: true}
  - {name: c:address, attributes: [kind], elements: [c:city]}
---
type: profile
id: pj
name: J
profile_type: json
elements: [Id, Name, City, Kind, {name: Visits, type: array, items: string}]
---
type: map
id: x2j
name: x2j
from_profile: px
to_profile: pj
mappings:
  - {from: c:patient/@id, to: Id}
  - {from: c:name, to: Name}
  - {from: c:address/c:city, to: City}
  - {from: c:address/@kind, to: Kind}
  - {to: "Visits[*]", function: date_format, inputs: [{from: "c:visit[*]"}], input_format: dd.MM.yyyy, output_format: yyyy-MM-dd}
---
type: map
id: j2x
name: j2x
from_profile: pj
to_profile: px
mappings:
  - {from: Id, to: c:patient/@id}
  - {from: Name, to: c:name}
  - {from: City, to: c:address/c:city}
  - {from: Kind, to: c:address/@kind}
  - {to: "c:visit[*]", function: date_format, inputs: [{from: "Visits[*]"}], input_format: yyyy-MM-dd, output_format: dd.MM.yyyy}
---
type: process
name: P
id: p
shapes:
  start: {type: start, mode: data_passthrough, next: a}
  a: {type: map, map: x2j, next: b}
  b: {type: map, map: j2x, next: end}
  end: {type: stop}
"""

SOURCE = ('<p:patient xmlns:p="urn:clinic" id="7"><p:name>Zoë</p:name><p:visit>07.03.2024</p:visit>'
          '<p:visit>08.04.2024</p:visit><p:address kind="home"><p:city>Oslo</p:city></p:address></p:patient>')


def test_xml_to_json_and_back() -> None:
    _, recorder, _ = run_yaml(TEXT, [Document(SOURCE.encode())], test_mode=True)
    assert [e[2] for e in recorder.errors] == []
    seen = {shape: d.data.decode() for shape, _, d in recorder.shape_documents}
    assert json.loads(seen["b"]) == {"Id": "7", "Name": "Zoë", "City": "Oslo", "Kind": "home",
                                     "Visits": ["2024-03-07", "2024-04-08"]}
    # the j2x mappings write address before visit; the profile's order wins
    assert seen["end"] == SOURCE.replace("p:", "c:").replace("xmlns:p", "xmlns:c")


def test_a_source_that_misses_a_required_attribute_fails_alone() -> None:
    bad = SOURCE.replace(' id="7"', "")
    _, recorder, _ = run_yaml(TEXT, [Document(bad.encode()), Document(SOURCE.encode())], test_mode=True)
    assert [e[2] for e in recorder.errors] == [
        "map x2j: the document does not fit profile px: c:patient/@id: is required and missing"]
    assert len([1 for shape, _, _ in recorder.shape_documents if shape == "end"]) == 1
