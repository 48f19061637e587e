"""Paths into document data (CONTRACT.md): parse/format round trip, reading and writing."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postroom.model._pathdata import first_text, read_json, read_xml, write_json, write_xml
from postroom.model._paths import ANY, ElementPath, PathError, Step, format_path, parse_path

pytestmark = pytest.mark.fast

_names = st.text(min_size=1, max_size=12).filter(lambda s: "\x00" not in s)
_json_step = st.one_of(
    _names.map(lambda n: Step(name=n)),
    st.integers(0, 99).map(lambda i: Step(index=i)),
    st.just(Step(index=ANY)),
)


@given(st.lists(_json_step, min_size=1, max_size=6))
def test_json_path_round_trip(steps: list[Step]) -> None:
    path = ElementPath("json", tuple(steps))
    assert parse_path(format_path(path), "json") == path


_xml_name = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_.:-]{0,8}\Z")


@given(st.lists(st.tuples(_xml_name, st.sampled_from([None, 0, 3, ANY])), min_size=1, max_size=5),
       st.one_of(st.none(), _xml_name), st.booleans())
def test_xml_path_round_trip(elements: list, attribute: str | None, absolute: bool) -> None:
    steps: list[Step] = []
    for name, index in elements:
        steps.append(Step(name=name))
        if index is not None:
            steps.append(Step(index=index))
    if attribute:
        steps.append(Step(name=attribute, attribute=True))
    path = ElementPath("xml", tuple(steps), absolute)
    assert parse_path(format_path(path), "xml") == path


@given(_names)
def test_flat_file_name_is_the_whole_path(name: str) -> None:
    path = parse_path(name, "flat_file")
    assert path.names == (name,)
    assert format_path(path) == name


def test_json_names_as_written_with_spaces() -> None:
    path = parse_path("RecordData.Email Address", "json")
    assert path.steps == (Step(name="RecordData"), Step(name="Email Address"))
    assert parse_path("items[*].sku", "json").steps == (Step(name="items"), Step(index=ANY), Step(name="sku"))
    assert parse_path("$.address.city", "json").names == ("address", "city")
    assert parse_path(r"a\.b.c", "json").names == ("a.b", "c")


@pytest.mark.parametrize("text, kind, says", [
    ("items[x].sku", "json", "[x] at character 6 is not an index"),
    ("items[0", "json", "is not closed"),
    ("a..b", "json", "an empty name at character 3"),
    ("a]b", "json", "closes nothing"),
    ("patient/@id/name", "xml", "an attribute (@name) is the last step"),
    ("patient//city", "xml", "step 2 is empty"),
    ("", "json", "the path is empty"),
])
def test_bad_paths_say_why(text: str, kind: str, says: str) -> None:
    with pytest.raises(PathError) as caught:
        parse_path(text, kind)  # type: ignore[arg-type]
    assert says in str(caught.value)


def test_read_json_every_entry_with_its_index() -> None:
    data = {"items": [{"sku": "A1"}, {"sku": "B2"}, {"qty": 3}], "Full Name": "Ann Lee", "n": None}
    assert read_json(data, parse_path("items[*].sku", "json")) == [((0,), "A1"), ((1,), "B2")]
    assert first_text(read_json(data, parse_path("items[1].sku", "json"))) == "B2"
    assert first_text(read_json(data, parse_path("items.0.sku", "json"))) == "A1"
    assert first_text(read_json(data, parse_path("Full Name", "json"))) == "Ann Lee"
    assert first_text(read_json(data, parse_path("n", "json"))) == ""
    assert first_text(read_json(data, parse_path("items[2]", "json"))) == '{"qty": 3}'
    assert read_json(data, parse_path("missing.path", "json")) == []


def test_write_json_makes_objects_and_arrays() -> None:
    top = write_json(None, parse_path("RecordData.Email Address", "json"), "a@example.com")
    top = write_json(top, parse_path("lines[*].code", "json"), "X", (1,))
    top = write_json(top, parse_path("lines[*].code", "json"), "W", (0,))
    assert top == {"RecordData": {"Email Address": "a@example.com"}, "lines": [{"code": "W"}, {"code": "X"}]}


_XML = ('<patient id="7" xmlns:c="urn:clinic"><name>Ann</name><address type="home"><city> Oslo </city>'
        '</address><visit>1</visit><visit>2</visit><c:plan>gold</c:plan></patient>')


@pytest.mark.parametrize("text, value", [
    ("patient/name", "Ann"), ("/patient/address/city", "Oslo"), ("address/city", "Oslo"),
    ("patient/address/@type", "home"), ("@id", "7"), ("patient/visit[1]", "2"),
    ("patient/c:plan", "gold"), ("/name", ""), ("patient/nothing", ""),
])
def test_read_xml(text: str, value: str) -> None:
    root = ET.fromstring(_XML)
    matches = read_xml(root, parse_path(text, "xml"), {"c": "urn:clinic"})
    assert first_text(matches) == value


def test_read_xml_repeating() -> None:
    root = ET.fromstring(_XML)
    assert read_xml(root, parse_path("patient/visit[*]", "xml")) == [((0,), "1"), ((1,), "2")]


def test_write_xml() -> None:
    root = write_xml(None, parse_path("patient/@id", "xml"), "9")
    write_xml(root, parse_path("patient/visit[*]/date", "xml"), "2026-01-02", (1,))
    write_xml(root, parse_path("patient/name", "xml"), "Bo & Co")
    assert ET.tostring(root, encoding="unicode") == (
        '<patient id="9"><visit /><visit><date>2026-01-02</date></visit><name>Bo &amp; Co</name></patient>')
