"""Message shape: Boomi's numbered placeholders and Java MessageFormat quoting."""

import pytest

from postroom.errors import ValidationError
from postroom.model import compile_message, load_text, parse_component, render
from support.engine_helpers import logs, run_yaml

pytestmark = pytest.mark.fast


@pytest.mark.parametrize(
    ("text", "params", "expected"),
    [
        ("Dear {1},", ["Alice"], "Dear Alice,"),
        ("{1} o'clock {2}", ["12", "x"], "12 oclock {2}"),  # unclosed quote: the rest is literal
        ("It''s {1}", ["here"], "It's here"),
        ("'{'\"a\": {1}'}'", ["1"], '{"a": 1}'),  # JSON braces go in quotes
        ("don't {1}", ["x"], "dont {1}"),
        ("{1}{1}{2}", ["a", "b"], "aab"),
        ("no placeholders", [], "no placeholders"),
        ("'it''s' {1}", ["ok"], "it's ok"),
    ],
)
def test_messageformat_rules(text, params, expected):
    assert render(compile_message(text), params) == expected


def test_quotes_inside_parameter_values_are_untouched():
    assert render(compile_message("Dear {1},"), ["O'Brien"]) == "Dear O'Brien,"
    assert render(compile_message("Dear {1},"), ["It''s {2}"]) == "Dear It''s {2},"


@pytest.mark.parametrize("text", ["a { b", "{x}", "{0}", "{1"])
def test_unquoted_brace_that_is_not_a_placeholder_is_a_validation_error(text):
    yaml_text = f"""
type: process
name: bad message
shapes:
  start: {{type: start, next: m}}
  m: {{type: message, text: {text!r}, parameters: [a]}}
"""
    with pytest.raises(ValidationError) as info:
        parse_component(load_text(yaml_text, "bad.yaml")[0])
    problem = info.value.problems[0]
    assert problem.file == "bad.yaml"
    assert problem.line == 6
    assert problem.field == "shapes.m"


def test_message_replaces_data_and_keeps_properties():
    result, recorder, _ = run_yaml("""
type: process
name: m
shapes:
  start: {type: start, next: props}
  props: {type: set_properties, properties: [{property: dynamic.who, value: [José, " ", Zoë]}], next: m}
  m: {type: message, text: "Hello {1}, it''s {2}", parameters: [{dynamic_document_property: who}, {execution_property: process_name}], next: log}
  log: {type: notify, message: "{1}|{2}", parameters: [{dynamic_document_property: who}, {execution_property: execution_id}]}
""")
    assert result.status == "complete"
    assert logs(recorder) == ["José Zoë|exec-test"]


def test_message_combine_builds_one_document():
    result, recorder, _ = run_yaml("""
type: process
name: combine
shapes:
  start: {type: start, next: csv}
  csv: {type: message, text: "a\\nb\\nc", next: split}
  split: {type: data_process, steps: [{type: split}], next: m}
  m: {type: message, combine: true, text: "got: {1}", parameters: [{execution_property: process_id}], next: log}
  log: {type: notify, message: "{1}", parameters: [{document_property: none}]}
""")
    assert result.status == "complete"
    assert result.documents_out == 1


def test_yaml_keeps_codes_times_and_dates_as_typed():
    from postroom.model import load_text

    data = load_text("a: 01234\nb: 1:30\nc: 2026-10-02\nd: yes\ne: 12\nf: 0x1F\ng: 1_000\n")[0].data
    assert data == {"a": "01234", "b": "1:30", "c": "2026-10-02", "d": "yes", "e": 12, "f": 31, "g": "1_000"}
