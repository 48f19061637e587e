"""Malformed XML, XML entities, deeply nested JSON: each fails its own document with the
reason, the other documents go on, the execution is not an internal error (issue 7, item 10)."""


import pytest

from postroom.sdk import Document
from support.engine_helpers import logs, run_yaml

pytestmark = pytest.mark.fast

XML_SPLIT = """
type: process
name: xml
shapes:
  start: {type: start, mode: data_passthrough, next: split}
  split: {type: data_process, steps: [{type: split, profile_type: xml, element: /list/p}], next: show}
  show: {type: notify, message: "{1}", parameters: [{profile_element: name}]}
"""

JSON_SPLIT = XML_SPLIT.replace("profile_type: xml, element: /list/p", "profile_type: json, element: list")

GOOD = "<list><p><name>Ann</name></p><p><name>Bob</name></p></list>"
BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE list [<!ENTITY lol0 "lol">'
                  + "".join(f'<!ENTITY lol{i} "' + f"&lol{i - 1};" * 10 + '">' for i in range(1, 10))
                  + "]><list><p><name>&lol9;</name></p></list>")  # 10^9 times "lol" once expanded


def run(process: str, *datas: str | bytes):
    result, recorder, _ = run_yaml(process, inputs=[Document(d) for d in datas])
    return result, recorder


def assert_fails_alone(result, recorder, words: str, good: list[str]):
    assert result.error is None and result.status == "complete_with_errors"
    assert logs(recorder, "info") == good
    (shape, document, message), = recorder.errors
    assert shape == "split" and document == 2 and words in message, message
    assert not [m for _, m, _ in recorder.logs if "internal error" in m]


def test_malformed_xml_fails_its_document_with_the_parser_position():
    result, recorder = run(XML_SPLIT, GOOD, "<list><p><name>Cy</p></list>", GOOD)
    assert_fails_alone(result, recorder, "split failed: not well-formed XML: mismatched tag: line 1, column",
                       ["Ann", "Bob", "Ann", "Bob"])


def test_external_entities_are_refused_and_the_file_is_never_read(tmp_path):
    secret = tmp_path / "secret.key"
    secret.write_text("TOP-SECRET-KEY", encoding="utf-8")
    xxe = f'<!DOCTYPE list [<!ENTITY x SYSTEM "file://{secret}">]><list><p><name>&x;</name></p></list>'
    result, recorder = run(XML_SPLIT, GOOD, xxe, GOOD)
    assert_fails_alone(result, recorder, "XML with a DOCTYPE is refused", ["Ann", "Bob", "Ann", "Bob"])
    assert "TOP-SECRET-KEY" not in repr(recorder.logs) + repr(recorder.errors)


def test_entity_expansion_is_refused_at_once():
    result, recorder = run(XML_SPLIT, GOOD, BILLION_LAUGHS, GOOD)
    # "at once": refused for its DOCTYPE before any entity is expanded (the message says so)
    assert_fails_alone(result, recorder, "XML with a DOCTYPE is refused", ["Ann", "Bob", "Ann", "Bob"])


def test_deeply_nested_json_fails_its_document():
    good = '{"list": [{"name": "Ann"}]}'
    deep = '{"list": [' + "[" * 100_000 + "]" * 100_000 + "]}"
    result, recorder = run(JSON_SPLIT, good, deep, good)
    assert_fails_alone(result, recorder, "split failed: JSON nested too deeply to read", ["Ann", "Ann"])


def test_profile_element_on_bad_xml_or_json_fails_that_document_in_any_shape():
    process = """
type: process
name: read
shapes:
  start: {type: start, mode: data_passthrough, next: show}
  show: {type: notify, message: "{1}", parameters: [{profile_element: name}], next: fail}
  fail: {type: exception, message: "bad {1}", parameters: [{profile_element: name}]}
"""
    result, recorder = run(process, "<p><name>Ann</name></p>", "<p><name>Bob</p>", "[" * 50_000,
                           '<!DOCTYPE p SYSTEM "file:///etc/passwd"><p/>')
    assert result.error is None and result.status == "complete_with_errors"
    assert [(s, d) for s, d, _ in recorder.errors] == [("show", 2), ("show", 3), ("show", 4), ("fail", 1)]
    messages = [m for _, _, m in recorder.errors]
    assert "profile_element cannot read the document: not well-formed XML" in messages[0]
    assert "JSON nested too deeply" in messages[1]
    assert "DOCTYPE is refused" in messages[2]
    assert messages[3] == "bad Ann"
