"""Profile validation, every type, beyond the basics of test_profiles.py: delimiters and
quotes, headers, fixed-width lines that overrun their fields, XML repetitions, namespaces,
nested attributes and formats, database formats, and the Java patterns refused at import."""

from __future__ import annotations

import pytest

from postroom.engine._formats import parse_date
from postroom.engine._profiles import profile_problems
from postroom.errors import ValidationError
from postroom.model import Profile, load_text, parse_component

pytestmark = pytest.mark.fast


def _profile(text: str) -> Profile:
    (loaded,) = load_text("type: profile\nname: P\n" + text, "profile.yaml")
    component = parse_component(loaded)
    assert isinstance(component, Profile)
    return component


def _refused(text: str) -> str:
    with pytest.raises(ValidationError) as caught:
        _profile(text)
    return str(caught.value)


def test_a_semicolon_file_with_quotes_and_no_header() -> None:
    profile = _profile("delimiter: ';'\nquote: \"'\"\nheader: false\n"
                       "fields: [{name: code, required: true}, {name: amount, type: number, format: '#,##0.00'},"
                       " {name: paid, type: boolean}]\n")
    assert profile_problems(profile, b"A1;'1,234.50';yes\nB2;'7;8';no\n;3.00;maybe\n") == [
        "line 2: field amount: '7;8' is not a number in the format #,##0.00",
        "line 3: field code: is required and empty",
        "line 3: field paid: 'maybe' is not a boolean (true or false)",
    ]


def test_a_header_line_is_skipped_and_too_many_fields_are_named() -> None:
    profile = _profile("fields: [a, {name: b, type: number}]\n")
    assert profile_problems(profile, b"a,b\nx,12\n") == []
    assert profile_problems(profile, b"a,b\nb-is-text,zwei\n") == ["line 2: field b: 'zwei' is not a number"]
    assert profile_problems(profile, b"a,b\nx,1,extra\n") == ["line 2: 3 fields, and the profile has 2"]


def test_fixed_width_dates_max_length_and_a_line_longer_than_its_fields() -> None:
    profile = _profile("layout: fixed_width\nheader: true\nfields:\n"
                       "  - {name: code, length: 4, max_length: 3}\n"
                       "  - {name: day, type: date, format: ddMMyyyy, length: 8}\n")
    assert profile_problems(profile, b"CODEDAY.....\nAB  07032024\n") == []
    assert profile_problems(profile, b"CODEDAY.....\nABCD31022024\nAB  07032024 lost\n") == [
        "line 2: field code: is 4 characters long, more than its max_length 3",
        "line 2: field day: '31022024' is not a date (day is out of range for month) in the format ddMMyyyy",
        "line 3: is 17 characters long, and the fields take 12; the rest (' lost') is in no field "
        "(give the fields their lengths)",
    ]


XML = """profile_type: xml
root: c:patient
namespaces: {c: "urn:clinic"}
elements:
  - {name: c:name, required: true}
  - {name: c:born, type: date, format: dd.MM.yyyy}
  - {name: c:visits, type: number}
  - name: c:address
    attributes: [{name: kind, required: true}]
    elements: [{name: c:city, required: true}]
"""


def test_xml_namespaces_nested_attributes_formats_and_repetition() -> None:
    profile = _profile(XML)
    good = (b'<p:patient xmlns:p="urn:clinic"><p:name>Ann</p:name><p:born>07.03.1990</p:born>'
            b'<p:visits>3</p:visits><p:address kind="home"><p:city>Oslo</p:city></p:address></p:patient>')
    assert profile_problems(profile, good) == []  # the prefix may differ; the namespace decides
    bad = (b'<c:patient xmlns:c="urn:clinic" xmlns:o="urn:other"><o:name>Ann</o:name><c:born>1990-03-07</c:born>'
           b'<c:visits>many</c:visits><c:address><c:city>A</c:city><c:city>B</c:city></c:address></c:patient>')
    assert profile_problems(profile, bad) == [
        "c:patient/c:name: is required and missing",
        "c:patient/c:born: '1990-03-07' does not match the date format dd.MM.yyyy",
        "c:patient/c:visits: 'many' is not a number",
        "c:patient/c:address/@kind: is required and missing",
        "c:patient/c:address/c:city: appears 2 times, and the profile has it once (set repeating: true)",
    ]
    assert profile_problems(profile, b"<patient/>") == [
        "the root element is patient, and the profile expects c:patient"]


def test_database_columns_with_formats_and_booleans() -> None:
    profile = _profile("profile_type: database\ntable: visits\ncolumns:\n"
                       "  - {name: day, type: date, format: M/d/yyyy}\n  - {name: paid, type: boolean}\n"
                       "  - {name: fee, type: number, required: true}\n")
    assert profile_problems(profile, b'{"day": "3/7/2024", "paid": "yes", "fee": 12.5}') == []
    assert profile_problems(profile, b'{"day": "2024-03-07", "paid": "perhaps", "fee": "12,50"}') == [
        "column day: '2024-03-07' does not match the date format M/d/yyyy",
        "column paid: 'perhaps' is not a boolean (true or false)",
        "column fee: '12,50' is not a number",
    ]
    assert profile_problems(profile, b'"a row"') == ["is a string, and a database row is an object of columns"]


@pytest.mark.parametrize("text, says", [
    ("fields: [{name: d, type: date, format: yyyy-QQ}]",
     "profile.yaml:3: field fields.0.format: format 'yyyy-QQ' for a date: Q is not a pattern letter Postroom "
     "reads (it knows y year, M month, d day,"),
    ("fields: [{name: d, type: date, format: \"yyyy 'at\"}]",
     "field fields.0.format: format \"yyyy 'at\" for a date: a quote (') is not closed"),
    ("fields: [{name: d, type: date, format: yyyy-MM-dd yyyy}]",
     "format 'yyyy-MM-dd yyyy' for a date: the year appears twice (y); a pattern reads each part once"),
    ("fields: [{name: n, type: number, format: money}]",
     "field fields.0.format: format 'money' for a number: it has no digit (0 or #); write a Java number pattern "
     "such as #,##0.00"),
    ("profile_type: database\ntable: t\ncolumns: [{name: d, type: date, format: D/yyyy}]",
     "field columns.0.format: format 'D/yyyy' for a date: D is not a pattern letter Postroom reads"),
    ("profile_type: xml\nroot: r\nelements: [{name: d, type: number, format: 0.0.0}]",
     "elements.0.format: format '0.0.0' for a number: Postroom understands digits (0, #), grouping commas, one "
     "decimal point"),
])
def test_a_pattern_postroom_cannot_read_is_refused_at_import(text: str, says: str) -> None:
    assert says in _refused(text + "\n")


@pytest.mark.parametrize("text, pattern, iso", [
    ("Thu, 7 Mar 2024 16:05:00 +0100", "EEE, d MMM yyyy HH:mm:ss Z", "2024-03-07T16:05:00+01:00"),
    ("2024-03-07T16:05:00Z", "yyyy-MM-dd'T'HH:mm:ssX", "2024-03-07T16:05:00+00:00"),
    ("2024-03-07 16:05 -05:30", "yyyy-MM-dd HH:mm XXX", "2024-03-07T16:05:00-05:30"),
    ("Thursday 07/03/24 04:05 PM", "EEEE dd/MM/yy hh:mm a", "2024-03-07T16:05:00"),
])
def test_dates_with_day_names_and_zones_are_read(text: str, pattern: str, iso: str) -> None:
    assert parse_date(text, pattern).isoformat() == iso
