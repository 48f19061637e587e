"""Data Process steps, profiles and values."""

import base64
import json

import pytest

from postroom.sdk import SPOOL_THRESHOLD, Document
from support.engine_helpers import logs, run_yaml

CSV = "id,name,team\nP1,Ann,red\nP2,\"Bob, Jr.\",red\nP3,Cy,blue\nP4,\"Di\nDa\",blue\nP5,Ed,red\n"


def run_steps(steps: str, data: str | bytes, log: str = "{1}", params: str = "[{document_property: none}]",
              extra: str = ""):
    text = f"""
type: process
name: dp
shapes:
  start: {{type: start, mode: data_passthrough, next: dp}}
  dp: {{type: data_process, steps: {steps}, next: show}}
  show: {{type: notify, message: "{log}", parameters: {params}}}
{extra}
"""
    result, recorder, ctx = run_yaml(text, inputs=[Document(data)], test_mode=True)
    entered = [doc.data.decode() for shape, _, doc in recorder.shape_documents if shape == "show"]
    return result, recorder, entered


@pytest.mark.fast
def test_split_by_line_keeps_quoted_line_breaks_and_retains_header():
    result, _, docs = run_steps("[{type: split, headers: retain}]", CSV)
    assert docs == [
        "id,name,team\nP1,Ann,red",
        'id,name,team\nP2,"Bob, Jr.",red',
        "id,name,team\nP3,Cy,blue",
        'id,name,team\nP4,"Di\nDa",blue',
        "id,name,team\nP5,Ed,red",
    ]


@pytest.mark.fast
def test_split_with_header_removed_and_batches():
    _, _, docs = run_steps("[{type: split, headers: remove, batch_count: 2}]", CSV)
    assert docs == ['P1,Ann,red\nP2,"Bob, Jr.",red', 'P3,Cy,blue\nP4,"Di\nDa",blue', "P5,Ed,red"]
    _, _, docs = run_steps("[{type: split, headers: none}]", "a\r\nb\r\n\r\nc")
    assert docs == ["a", "b", "c"]


@pytest.mark.fast
def test_split_by_profile_link_element_groups_consecutive_records():
    _, _, docs = run_steps("[{type: split, by: profile, link_element: team, headers: retain}]", CSV)
    assert docs == ['id,name,team\nP1,Ann,red\nP2,"Bob, Jr.",red', 'id,name,team\nP3,Cy,blue\nP4,"Di\nDa",blue',
                    "id,name,team\nP5,Ed,red"]


@pytest.mark.fast
def test_profile_element_reads_columns_through_a_profile_without_header():
    extra = """
---
type: profile
name: patients
id: patients
header: false
fields: [id, name, team]
"""
    text = f"""
type: process
name: dp
profile: patients
shapes:
  start: {{type: start, mode: data_passthrough, next: dp}}
  dp: {{type: data_process, steps: [{{type: split, headers: remove}}], next: show}}
  show: {{type: notify, message: "{{1}}/{{2}}", parameters: [{{profile_element: name}}, {{profile_element: TEAM}}]}}
{extra}
"""
    result, recorder, _ = run_yaml(text, inputs=[Document(CSV)])
    assert logs(recorder) == ["Ann/red", "Bob, Jr./red", "Cy/blue", "Di\nDa/blue", "Ed/red"]


@pytest.mark.fast
def test_json_and_xml_split_and_paths():
    data = json.dumps({"patients": [{"name": "Zoë", "tags": {"lang": "en"}}, {"name": "José", "tags": {"lang": "es"}}]})
    _, recorder, docs = run_steps("[{type: split, profile_type: json, element: patients}]", data,
                                  log="{1} {2}", params="[{profile_element: name}, {profile_element: tags.lang}]")
    assert logs(recorder) == ["Zoë en", "José es"]
    xml = "<list><patient id='1'><name>Ann</name></patient><patient id='2'><name>Bob</name></patient></list>"
    _, recorder, _ = run_steps("[{type: split, profile_type: xml, element: /list/patient}]", xml,
                               log="{1}:{2}", params="[{profile_element: name}, {profile_element: '@id'}]")
    assert logs(recorder) == ["Ann:1", "Bob:2"]


@pytest.mark.fast
def test_combine_flat_file_keeps_one_header():
    _, _, docs = run_steps("[{type: split, headers: retain}, {type: combine, profile_type: flat_file}]", CSV)
    assert docs == [CSV]


@pytest.mark.fast
def test_combine_json_makes_an_array():
    data = json.dumps({"p": [1, {"a": "é"}, "x"]})
    _, _, docs = run_steps("[{type: split, profile_type: json, element: p}, {type: combine, profile_type: json}]", data)
    assert json.loads(docs[0]) == [1, {"a": "é"}, "x"]


@pytest.mark.fast
def test_search_replace_base64_and_encoding_steps():
    _, _, docs = run_steps("[{type: search_replace, pattern: '(\\w+)@example\\.com', replacement: '\\1@clinic.test'},"
                           " {type: base64_encode}]", "mail ann@example.com now")
    assert base64.b64decode(docs[0]) == b"mail ann@clinic.test now"
    _, _, docs = run_steps("[{type: base64_decode}]", base64.b64encode("Zoë".encode()))
    assert docs == ["Zoë"]
    result, recorder, docs = run_steps("[{type: character_decode, encoding: latin-1}]", "Zoë".encode("latin-1"))
    assert docs == ["Zoë"]


@pytest.mark.fast
def test_zip_and_unzip_round_trip():
    _, _, docs = run_steps("[{type: zip}, {type: unzip}]", "hello")
    assert docs == ["hello"]


def test_script_step_changes_data_properties_and_can_fan_out():
    code = 'properties["mail.subject"] = "Hello " + text.upper()\noutput = [text + "-1", text + "-2"]\n'
    steps = json.dumps([{"type": "script", "code": code}])
    result, recorder, docs = run_steps(steps, "ann", log="{1}", params="[{document_property: mail.subject}]")
    assert docs == ["ann-1", "ann-2"]
    assert logs(recorder) == ["Hello ANN", "Hello ANN"]


def test_a_failing_step_fails_only_its_document():
    steps = "[{type: split}, {type: script, code: \"if text == 'bad': raise ValueError('no thanks')\"}]"
    result, recorder, docs = run_steps(steps, "good\nbad\nfine")
    assert docs == ["good", "fine"]
    assert result.status == "complete_with_errors"
    assert recorder.errors[0][0] == "dp" and "no thanks" in recorder.errors[0][2]


@pytest.mark.fast
def test_large_documents_spool_to_disk_and_come_back_whole():
    big = ("x" * 1000 + "\n") * (SPOOL_THRESHOLD // 1000 + 50)
    doc = Document(big)
    assert doc.spooled
    _, _, docs = run_steps("[{type: search_replace, pattern: 'x+', replacement: y}]", big)
    assert docs[0] == "y\n" * (SPOOL_THRESHOLD // 1000 + 50)


@pytest.mark.fast
def test_decision_compares_numbers_as_numbers_and_missing_values_as_empty():
    result, recorder, _ = run_yaml("""
type: process
name: d
shapes:
  start: {type: start, next: a}
  a: {type: decision, first: "10", comparison: greater, second: "9", true: b, false: no}
  b: {type: decision, first: "10", comparison: less, second: "9.5x", true: c, false: no}
  c: {type: decision, first: {document_property: missing}, comparison: equals, second: "", true: yes, false: no}
  yes: {type: notify, message: "all true"}
  no: {type: notify, message: "wrong"}
""")
    assert logs(recorder) == ["all true"]


def test_spooled_false_path_keeps_order_beyond_memory_limit():
    rows = "\n".join(f"{i},{'yes' if i % 3 else 'no'}" for i in range(12000))
    text = """
type: process
name: many
shapes:
  start: {type: start, mode: data_passthrough, next: split}
  split: {type: data_process, steps: [{type: split}], next: dec}
  dec: {type: decision, first: {dynamic_document_property: none}, comparison: equals, second: "", true: route, false: end}
  route: {type: route, by: {document_property: none}, cases: [{comparison: equals, value: "never", next: end}], default: last}
  last: {type: notify, message: "{1}", parameters: [{profile_element: n, profile: cols}]}
  end: {type: stop}
---
type: profile
name: cols
header: false
fields: [n, c]
"""
    result, recorder, ctx = run_yaml(text, inputs=[Document(rows)], batch_size=500)
    assert result.documents_out == 12000
    # all 12,000 waited in the spool (more than it keeps in memory) and came back in order
    assert logs(recorder) == [str(i) for i in range(12000)]
