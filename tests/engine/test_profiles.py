"""Profiles (CONTRACT.md): the component forms, import errors, and validation per type."""

from __future__ import annotations

from decimal import Decimal

import pytest

from postroom.engine._formats import format_number, parse_date, parse_number
from postroom.engine._profiles import profile_problems
from postroom.errors import ValidationError
from postroom.model import Profile, load_text, parse_component

pytestmark = pytest.mark.fast


def _profile(text: str) -> Profile:
    (loaded,) = load_text(text, "profile.yaml")
    component = parse_component(loaded)
    assert isinstance(component, Profile)
    return component


CSV = _profile("""
type: profile
id: patient-csv
name: Patient CSV
profile_type: flat_file
fields:
  - first_name
  - {name: last_visit_date, type: date, format: "M/d/yyyy"}
  - {name: visits, type: number, format: "#,##0"}
  - {name: email_address, required: true, max_length: 20}
  - {name: active, type: boolean}
""")


def test_flat_file_fits() -> None:
    data = b'first_name,last_visit_date,visits,email_address,active\nAnn,3/7/2024,"1,204",ann@example.com,true\n'
    assert profile_problems(CSV, data) == []


@pytest.mark.parametrize("row, problem", [
    ("Ann,13/45/2020,1,a@x.io,true", "line 2: field last_visit_date: '13/45/2020' is not a date "
                                     "(month must be in 1..12) in the format M/d/yyyy"),
    ("Ann,3/7/2024,many,a@x.io,true", "line 2: field visits: 'many' is not a number in the format #,##0"),
    ("Ann,3/7/2024,1,,true", "line 2: field email_address: is required and empty"),
    ("Ann,3/7/2024,1,a-very-long-address@example.com,true",
     "line 2: field email_address: is 31 characters long, more than its max_length 20"),
    ("Ann,3/7/2024,1,a@x.io,maybe", "line 2: field active: 'maybe' is not a boolean (true or false)"),
    ("Ann,2024-03-07,1,a@x.io,true", "line 2: field last_visit_date: '2024-03-07' does not match the date "
                                     "format M/d/yyyy"),
])
def test_flat_file_problems_name_the_field(row: str, problem: str) -> None:
    data = ("first_name,last_visit_date,visits,email_address,active\n" + row + "\n").encode()
    assert profile_problems(CSV, data) == [problem]


def test_fixed_width() -> None:
    profile = _profile("""
type: profile
name: Fixed
profile_type: flat_file
layout: fixed_width
header: false
fields: [{name: code, length: 4, required: true}, {name: amount, type: number, length: 8}]
""")
    assert profile_problems(profile, b"AB12   12.50\n") == []
    assert profile_problems(profile, b"    xx\n") == ["line 1: field code: is required and empty",
                                                    "line 1: field amount: 'xx' is not a number"]


JSON = _profile("""
type: profile
id: patient-record
name: Patient record (JSON)
profile_type: json
elements:
  - name: RecordData
    type: object
    elements:
      - {name: First Name, type: string}
      - {name: Email Address, type: string, required: true}
      - {name: Visits, type: number}
      - {name: Tags, type: array, items: string}
      - {name: Lines, type: array, elements: [{name: sku, required: true}]}
""")


def test_json_fits_and_problems() -> None:
    good = b'{"RecordData": {"First Name": "Ann", "Email Address": "a@x.io", "Visits": 2, "Tags": ["x"]}}'
    assert profile_problems(JSON, good) == []
    bad = (b'{"RecordData": {"First Name": 5, "Visits": true, "Tags": ["x", 1], "Lines": [{"sku": "A"}, {}]}}')
    assert profile_problems(JSON, bad) == [
        "RecordData.First Name: is a number, and the profile expects string",
        "RecordData.Email Address: is required and missing",
        "RecordData.Visits: is a boolean, and the profile expects number",
        "RecordData.Tags[1]: is a number, and the profile expects string",
        "RecordData.Lines[1].sku: is required and missing",
    ]
    assert profile_problems(JSON, b"[1]") == ["the document: is an array, and the profile expects an object"]
    assert profile_problems(JSON, b"{nope")[0].startswith("the document is not json data: not valid JSON")


XML = _profile("""
type: profile
name: Patient XML
profile_type: xml
root: patient
namespaces: {c: "urn:clinic"}
attributes: [{name: id, required: true}]
elements:
  - {name: name, required: true}
  - {name: visit, type: date, repeating: true}
  - {name: c:plan}
  - {name: address, elements: [city], attributes: [type]}
""")


def test_xml_fits_and_problems() -> None:
    good = (b'<patient id="1" xmlns:c="urn:clinic"><name>Ann</name><visit>2024-01-02</visit>'
            b'<visit>2024-02-03</visit><c:plan>gold</c:plan></patient>')
    assert profile_problems(XML, good) == []
    assert profile_problems(XML, b"<patient><visit>soon</visit></patient>") == [
        "patient/@id: is required and missing",
        "patient/name: is required and missing",
        "patient/visit: 'soon' is not a date in ISO 8601 form (2024-03-07 or 2024-03-07T16:05:00); give the "
        "element a format (M/d/yyyy...) to read another form",
    ]
    assert profile_problems(XML, b"<person/>") == ["the root element is person, and the profile expects patient"]


def test_database_rows() -> None:
    profile = _profile("""
type: profile
name: Patients table
profile_type: database
table: patients
columns: [{name: id, type: number, required: true}, email, {name: seen, type: date}]
""")
    assert profile_problems(profile, b'{"id": 1, "email": "a@x.io", "seen": "2024-01-02"}') == []
    assert profile_problems(profile, b'[{"email": "a"}, {"id": "x", "colour": "red"}]') == [
        "row 1: column id: is required and missing",
        "row 2: column colour: is not a column of the profile (columns: email, id, seen)",
        "row 2: column id: 'x' is not a number",
    ]


@pytest.mark.parametrize("text, says", [
    ("profile_type: xml\nelements: [a]", "an xml profile needs root"),
    ("profile_type: database\ncolumns: [a]", "a database profile needs table"),
    ("profile_type: json\nfields: [a]", "fields belongs to a flat_file profile, and this one is profile_type: json"),
    ("layout: fixed_width\nfields: [a, {name: b, length: 3}]", "layout: fixed_width needs a length on every "
                                                               "field; a has none"),
    ("profile_type: json\nelements: [{name: a, type: list}]", "elements.0.type: Input should be"),
    ("fields: [{name: a, type: money}]", "Input should be 'text', 'number', 'date' or 'boolean'"),
])
def test_import_errors_name_the_field(text: str, says: str) -> None:
    with pytest.raises(ValidationError) as caught:
        _profile("type: profile\nname: Bad\n" + text + "\n")
    assert says in str(caught.value)


@pytest.mark.parametrize("value, pattern, text", [
    ("1234567.891", "#,##0.00", "1,234,567.89"), ("0.5", "0.###", "0.5"), ("7", "000", "007"),
    ("-1234.5", "#,##0", "-1,234"), ("0.25", "0%", "25%"), ("2.5", "0", "2"), ("3.5", "0", "4"),
])
def test_format_number(value: str, pattern: str, text: str) -> None:
    assert format_number(Decimal(value), pattern) == text


def test_parse_date_and_number() -> None:
    assert parse_date("3/7/2024", "M/d/yyyy").date().isoformat() == "2024-03-07"
    assert parse_date("07-Mar-24 4:05 PM", "dd-MMM-yy h:mm a").isoformat() == "2024-03-07T16:05:00"
    assert parse_number("1,234.50", "#,##0.00") == Decimal("1234.50")
