"""Value sources compiled once per shape, and split records read without parsing them again
(issue 13, engine speed): every document still gets its own values, exactly what the csv
module reads, and what a shape sets on one document never reaches another."""

import csv
import io

import pytest

from postroom.engine._flatfile import parse_record
from postroom.sdk import Document
from support.engine_helpers import logs, run_yaml

pytestmark = pytest.mark.fast

# quoted fields with the delimiter, a doubled quote, a line break and CR LF in them; a quote
# inside an unquoted field; a blank line; CR LF and CR line endings; a short row
TRICKY = (
    'ID,name,email,consent\r\n'
    'P1,"Walker, Alice",alice@example.com,yes\r\n'
    'P2,"Bob ""the builder""",bob@example.org,no\n'
    '\n'
    'P3,"Cy\nDa",cy@example.net,yes\r'
    "P4,Ed 5'11\",ed@example.com,yes\n"
    'P5,"Fay\r\nGo",fay@example.com,yes\n'
    'P6,Hal\n'
)


def letters(data: str, profile: str = "", extra: str = "") -> str:
    return f"""
type: process
name: letters
{profile}
shapes:
  start: {{type: start, mode: data_passthrough, next: split}}
  split: {{type: data_process, steps: [{{type: split, profile_type: flat_file, headers: retain}}], next: consent}}
  consent: {{type: decision, first: {{profile_element: consent}}, comparison: equals, second: "yes",
            true: props, false: skip}}
  props:
    type: set_properties
    properties:
      - {{property: disk.file_name, value: [{{profile_element: id}}, ".txt"]}}
      - {{property: dynamic.to, value: [{{profile_element: email}}]}}
    next: letter
  letter: {{type: message, text: "Dear {{1}}, '{{'{{2}}'}}' {{3}}", next: show,
           parameters: [{{profile_element: name}}, {{dynamic_document_property: to}},
                        {{document_property: disk.file_name}}]}}
  show: {{type: notify, message: "{{1}}", parameters: [{{current_data: true}}]}}
  skip: {{type: stop}}
{extra}
"""


def expected(data: str) -> list[str]:
    out = []
    for row in csv.DictReader(io.StringIO(data, newline="")):
        if row["consent"] == "yes":
            out.append(f"Dear {row['name']}, {{{row['email']}}} {row['ID']}.txt")
    return out


def test_each_patient_gets_its_own_columns_exactly_as_the_csv_module_reads_them():
    result, recorder, _ = run_yaml(letters(TRICKY), inputs=[Document(TRICKY)], batch_size=2)
    assert logs(recorder, "info") == expected(TRICKY)
    assert result.status == "complete" and result.documents_out == 6  # both paths end at a stop


def test_a_column_a_record_does_not_have_is_empty_and_names_are_matched_without_case():
    data = "ID,name,consent,email\nP1,Ann,yes\nP2,Bo,yes,bo@example.com\n"
    _, recorder, _ = run_yaml(letters(data), inputs=[Document(data)], batch_size=1)
    # "id" reads column ID; P1 has no email column: empty, not P2's
    assert logs(recorder, "info") == ["Dear Ann, {} P1.txt", "Dear Bo, {bo@example.com} P2.txt"]


def test_a_profile_with_another_delimiter_reads_the_split_records_by_it():
    data = "ID;name;email;consent\nP1;\"A;nn\";a@example.com;yes\nP2;Bo;b@example.com;no\n"
    profile = "profile: semi"
    extra = """---
type: profile
id: semi
name: semi
profile_type: flat_file
delimiter: ";"
"""
    _, recorder, _ = run_yaml(letters(data, profile, extra), inputs=[Document(data)], batch_size=10)
    assert logs(recorder, "info") == ["Dear A;nn, {a@example.com} P1.txt"]


def test_the_view_the_split_keeps_is_what_parsing_the_document_gives():
    split_docs = run_split_documents(TRICKY)
    assert len(split_docs) == 6
    for doc in split_docs:
        fresh = parse_record(doc.text())
        view = doc.cached("", lambda d: pytest.fail("the split's view was not kept"))
        for column in ("ID", "id", "name", "email", "consent", "missing"):
            assert view(column) == fresh.get(column), (doc.text(), column)


def run_split_documents(data: str) -> list[Document]:
    """The documents a split with its header retained makes, as the next shape gets them."""
    text = """
type: process
name: p
shapes:
  start: {type: start, mode: data_passthrough, next: split}
  split: {type: data_process, steps: [{type: split, headers: retain}], next: keep}
  keep: {type: stop}
"""
    _, recorder, _ = run_yaml(text, inputs=[Document(data)], test_mode=True)
    return [doc for shape, _, doc in recorder.shape_documents if shape == "keep"]


def test_a_header_that_looks_like_json_is_not_taken_for_a_kept_view():
    docs = run_split_documents("[id],name\nP1,Ann\n")
    assert len(docs) == 1
    computed = doc_view_computed(docs[0])
    assert computed, "the document is parsed when read (its first byte decides the format)"


def doc_view_computed(doc: Document) -> bool:
    called = []
    doc.cached("", lambda d: called.append(1) or (lambda path: ""))
    return bool(called)


def test_what_set_properties_sets_on_one_patient_never_reaches_another():
    data = "id,email,consent\nP1,a@example.com,yes\nP2,,yes\nP3,c@example.com,yes\n"
    text = """
type: process
name: isolation
shapes:
  start: {type: start, mode: data_passthrough, next: split}
  split: {type: data_process, steps: [{type: split, headers: retain}], next: first}
  first: {type: decision, first: {profile_element: email}, comparison: equals, second: "", true: show, false: props}
  props: {type: set_properties, next: show,
          properties: [{property: mail.to_address, value: [{profile_element: email}]}]}
  show: {type: notify, message: "{1}={2}", parameters: [{profile_element: id}, {document_property: mail.to_address}]}
"""
    _, recorder, _ = run_yaml(text, inputs=[Document(data)], batch_size=3)
    # the true path (no email) runs first; P2 keeps no address of P1 or P3
    assert logs(recorder, "info") == ["P2=", "P1=a@example.com", "P3=c@example.com"]


def test_a_number_compared_with_a_fixed_text_is_compared_as_text_and_numbers_as_numbers():
    data = "id,age,flag\nP1,42,yes\nP2,42.0,yes \nP3,7,no\n"
    text = """
type: process
name: numbers
shapes:
  start: {type: start, mode: data_passthrough, next: split}
  split: {type: data_process, steps: [{type: split, headers: retain}], next: text}
  text: {type: decision, first: {profile_element: flag}, comparison: equals, second: "yes", true: num, false: num}
  num: {type: decision, first: {profile_element: age}, comparison: equals, second: "42", true: yes, false: no}
  yes: {type: notify, message: "{1} 42", parameters: [{profile_element: id}]}
  no: {type: notify, message: "{1} not", parameters: [{profile_element: id}]}
"""
    _, recorder, _ = run_yaml(text, inputs=[Document(data)])
    assert logs(recorder, "info") == ["P1 42", "P2 42", "P3 not"]
