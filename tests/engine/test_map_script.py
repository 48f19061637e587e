"""The Map ``script`` function: a Python expression over the inputs, run in the script
sandbox (one child process per Map shape run, fed whole batches), its errors failing the
document alone with the map, the mapping and the expression's line."""

from __future__ import annotations

import json
import os

import pytest
from pydantic import ValidationError

from postroom.model._maps import MapEntry
from postroom.sdk import Document
from support.engine_helpers import logs, run_yaml

PROFILES = """
type: profile
id: s-in
name: In
profile_type: json
elements: [name, qty, price, {name: tags, type: array, items: string}]
---
type: profile
id: s-out
name: Out
profile_type: json
elements: [Title, Total, Half, Parts, Pid, Ok, Nothing, When, {name: Tags, type: array, items: string}]
"""


def _yaml(*mappings: str, batch: str = "") -> str:
    lines = "\n".join(f"  - {m}" for m in mappings)
    return PROFILES + f"""
---
type: map
id: s-map
name: Script map
from_profile: s-in
to_profile: s-out
mappings:
{lines}
---
type: process
name: P
id: p
shapes:
  start: {{type: start, mode: data_passthrough, next: map}}
  map: {{type: map, map: s-map, next: end}}
  end: {{type: stop}}
"""


def _run(text: str, *data: str, **options: object) -> tuple[list[dict], list[str], object]:
    result, recorder, _ = run_yaml(text, [Document(d.encode()) for d in data], test_mode=True, **options)
    out = [json.loads(d.data) for shape, _, d in recorder.shape_documents if shape == "end"]
    return out, [e[2] for e in recorder.errors], recorder


def test_expressions_give_exact_texts() -> None:
    text = _yaml(
        '{to: Title, function: script, inputs: [{from: name}], expression: "inputs[0].strip().title()"}',
        '{to: Total, function: script, inputs: [{from: qty}, {from: price}], '
        'expression: "Decimal(inputs[0]) * Decimal(inputs[1])"}',
        '{to: Half, function: script, inputs: [{from: qty}], code: "int(inputs[0]) / 2"}',
        '{to: Parts, function: script, inputs: [{from: name}, "-"], '
        'script: "inputs[1].join(re.findall(\'[a-z]+\', inputs[0]))"}',
        '{to: Ok, function: script, inputs: [{from: qty}], expression: "int(inputs[0]) > 2"}',
        '{to: Nothing, function: script, inputs: [], expression: "None", default: "none given"}',
        '{to: When, function: script, expression: "datetime.date(2024, 3, 7) + datetime.timedelta(days=30)"}',
        '{to: "Tags[*]", function: script, inputs: [{from: "tags[*]"}], expression: "inputs[0].upper()"}',
    )
    out, errors, _ = _run(text, '{"name": "  ada lovelace ", "qty": "3", "price": "2.50", "tags": ["a", "b"]}',
                          '{"name": "bo", "qty": "1", "price": "0.1", "tags": []}')
    assert errors == []
    assert out == [
        {"Title": "Ada Lovelace", "Total": "7.50", "Half": "1.5", "Parts": "ada-lovelace", "Ok": "true",
         "Nothing": "none given", "When": "2024-04-06", "Tags": ["A", "B"]},
        {"Title": "Bo", "Total": "0.1", "Half": "0.5", "Parts": "bo", "Ok": "false", "Nothing": "none given",
         "When": "2024-04-06"},
    ]


def test_an_error_fails_that_document_alone_naming_map_mapping_and_line() -> None:
    text = _yaml(
        "{from: name, to: Title}",
        '{to: Half, function: script, inputs: [{from: qty}], expression: "(\\n  len(inputs[0])\\n  and 100 / int(inputs[0])\\n)"}',
    )
    out, errors, _ = _run(text, '{"name": "a", "qty": "4"}', '{"name": "b", "qty": "0"}',
                          '{"name": "c", "qty": "x"}', '{"name": "d", "qty": "5"}')
    assert out == [{"Title": "a", "Half": "25.0"}, {"Title": "d", "Half": "20.0"}]
    assert errors == [
        "map s-map: mapping 2 (to Half): the script raised ZeroDivisionError: division by zero "
        "(line 3 of the expression)",
        "map s-map: mapping 2 (to Half): the script raised ValueError: invalid literal for int() with base 10: "
        "'x' (line 3 of the expression)",
    ]


def test_a_result_that_is_not_text_fails_the_document() -> None:
    out, errors, _ = _run(_yaml('{to: Title, function: script, inputs: [{from: name}], expression: "[inputs[0]]"}'),
                          '{"name": "a"}')
    assert out == []
    assert errors == ["map s-map: mapping 1 (to Title): the script raised TypeError: the expression gave a list; "
                      "it must give text, a number, a date, True/False or None (line 1 of the expression)"]


def test_one_child_process_serves_every_record_and_every_script_mapping() -> None:
    text = _yaml('{to: Pid, function: script, expression: "__import__(\'os\').getpid()"}',
                 '{to: Title, function: script, inputs: [{from: name}], expression: "inputs[0] * 2"}')
    records = [json.dumps({"name": f"n{i}"}) for i in range(90)]
    out, errors, _ = _run(text, *records, batch_size=20)  # 5 batches
    assert errors == []
    assert [o["Title"] for o in out] == [f"n{i}n{i}" for i in range(90)]
    pids = {o["Pid"] for o in out}
    assert len(pids) == 1 and pids != {str(os.getpid())}


def test_the_expression_runs_outside_the_postroom_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTROOM_SECRET_THING", "hunter2")
    text = _yaml('{to: Title, function: script, expression: "__import__(\'os\').environ.get(\'POSTROOM_SECRET_THING\')"'
                 ', default: absent}')
    out, errors, _ = _run(text, '{"name": "a"}')
    assert (out, errors) == ([{"Title": "absent"}], [])


def test_logs_from_the_expression_reach_the_execution_log() -> None:
    text = _yaml('{to: Title, function: script, inputs: [{from: name}], '
                 'expression: "log.info(\'saw %s\', inputs[0]) or inputs[0]"}')
    out, errors, recorder = _run(text, '{"name": "a"}', '{"name": "b"}')
    assert (out, errors) == ([{"Title": "a"}, {"Title": "b"}], [])
    assert [m for m in logs(recorder) if m.startswith("saw")] == ["saw a", "saw b"]


def test_scripts_turned_off_refuse_the_map(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTROOM_ALLOW_SCRIPTS", "false")
    result, recorder, _ = run_yaml(_yaml("{from: name, to: Title}", '{to: Half, function: script, expression: "1"}'),
                                   [Document(b'{"name": "a"}')], test_mode=True)
    assert result.status == "failed"
    assert "map s-map: mapping 2 is a script and scripts are turned off (POSTROOM_ALLOW_SCRIPTS=false)" in str(
        result.error)


@pytest.mark.fast
@pytest.mark.parametrize("expression, says", [
    ("inputs[0", "the script expression does not compile: '[' was never closed (line 1, column 7 of the "
                 "expression); write one Python expression over inputs, such as inputs[0].strip().title()"),
    ("x = 1", "the script expression does not compile: invalid syntax (line 1, column 3 of the expression)"),
    ("(inputs[0]\n  .upper(", "the script expression does not compile: '(' was never closed (line 2, column 9"),
    ("", "the function script needs an expression; add expression: inputs[0]"),
])
def test_an_expression_that_does_not_compile_is_refused(expression: str, says: str) -> None:
    with pytest.raises(ValidationError) as caught:
        MapEntry.model_validate({"to": "x", "function": "script", "inputs": ["a"], "expression": expression})
    assert says in str(caught.value)


@pytest.mark.fast
def test_a_script_mapping_needs_its_expression() -> None:
    with pytest.raises(ValidationError) as caught:
        MapEntry.model_validate({"to": "x", "function": "script", "inputs": ["a"]})
    assert "the function script needs expression; add expression: ... to the mapping" in str(caught.value)


def test_a_slow_expression_is_stopped_and_the_next_records_go_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTROOM_SCRIPT_TIMEOUT", "1")
    text = _yaml('{to: Title, function: script, inputs: [{from: name}], '
                 'expression: "__import__(\'time\').sleep(30) if inputs[0] == \'slow\' else inputs[0]"}')
    out, errors, _ = _run(text, '{"name": "a"}', '{"name": "slow"}', '{"name": "b"}')
    assert out == [{"Title": "a"}, {"Title": "b"}]
    assert errors == ["map s-map: mapping 1 (to Title): the script failed: it ran longer than 1 s "
                      "(POSTROOM_SCRIPT_TIMEOUT) and was stopped"]
