"""How documents flow: decision order, branch copies, route, stop, try/catch, exception."""

import pytest

from postroom.sdk import Document
from support.engine_helpers import logs, run_yaml

pytestmark = pytest.mark.fast

CSV = "id,name,consent\\nP1,Ann,yes\\nP2,Bob,no\\nP3,Cy,yes\\nP4,Di,no\\nP5,Ed,yes"


def test_true_documents_finish_before_any_false_document_starts():
    result, recorder, _ = run_yaml(f"""
type: process
name: order
shapes:
  start: {{type: start, next: csv}}
  csv: {{type: message, text: "{CSV}", next: split}}
  split: {{type: data_process, steps: [{{type: split, headers: retain}}], next: dec}}
  dec: {{type: decision, first: {{profile_element: consent}}, comparison: equals, second: "yes", true: t1, false: f1}}
  t1: {{type: notify, message: "T1 {{1}}", parameters: [{{profile_element: id}}], next: t2}}
  t2: {{type: notify, message: "T2 {{1}}", parameters: [{{profile_element: id}}]}}
  f1: {{type: notify, message: "F {{1}}", parameters: [{{profile_element: id}}]}}
""")
    assert result.status == "complete"
    # each shape takes all its documents before the next shape runs; false path last
    assert logs(recorder) == ["T1 P1", "T1 P3", "T1 P5", "T2 P1", "T2 P3", "T2 P5", "F P2", "F P4"]
    assert result.documents_out == 5


def test_branch_paths_run_in_order_with_their_own_copies():
    result, recorder, _ = run_yaml("""
type: process
name: branch
shapes:
  start: {type: start, next: b}
  b: {type: branch, branches: [p1, p2, p3]}
  p1: {type: set_properties, properties: [{property: dynamic.x, value: [one]}, {property: dynamic_process.seen, value: [from-1]}], next: l1}
  l1: {type: notify, message: "1 x={1}", parameters: [{dynamic_document_property: x}]}
  p2: {type: notify, message: "2 x={1} seen={2}", parameters: [{dynamic_document_property: x}, {dynamic_process_property: seen}]}
  p3: {type: message, text: changed, next: l3}
  l3: {type: notify, message: "3 x={1}", parameters: [{dynamic_document_property: x}]}
""")
    assert logs(recorder) == ["1 x=one", "2 x= seen=from-1", "3 x="]
    assert result.documents_out == 3


def test_route_first_match_wins_and_default_runs_last():
    result, recorder, _ = run_yaml(f"""
type: process
name: route
shapes:
  start: {{type: start, next: csv}}
  csv: {{type: message, text: "{CSV}", next: split}}
  split: {{type: data_process, steps: [{{type: split, headers: retain}}], next: r}}
  r:
    type: route
    by: {{profile_element: name}}
    cases:
      - {{comparison: wildcard, value: "?o*", next: lo}}
      - {{comparison: regex, value: "(Bob|Ann|Di)", next: lr}}
    default: ld
  lo: {{type: notify, message: "wild {{1}}", parameters: [{{profile_element: name}}]}}
  lr: {{type: notify, message: "regex {{1}}", parameters: [{{profile_element: name}}]}}
  ld: {{type: notify, message: "default {{1}}", parameters: [{{profile_element: name}}]}}
""")
    assert logs(recorder) == ["wild Bob", "regex Ann", "regex Di", "default Cy", "default Ed"]


def test_end_and_return_stop_skips_paths_not_started():
    result, recorder, _ = run_yaml("""
type: process
name: stop
shapes:
  start: {type: start, next: b}
  b: {type: branch, branches: [ret, later]}
  ret: {type: stop, continue: false}
  later: {type: notify, message: never}
""")
    assert result.status == "complete"
    assert "never" not in logs(recorder)


def test_exception_fails_the_document_and_the_others_go_on():
    result, recorder, _ = run_yaml(f"""
type: process
name: exc
shapes:
  start: {{type: start, next: csv}}
  csv: {{type: message, text: "{CSV}", next: split}}
  split: {{type: data_process, steps: [{{type: split, headers: retain}}], next: dec}}
  dec: {{type: decision, first: {{profile_element: consent}}, second: "no", true: boom, false: ok}}
  boom: {{type: exception, message: "no consent for {{1}}", parameters: [{{profile_element: id}}]}}
  ok: {{type: stop}}
""")
    assert result.status == "complete_with_errors"
    assert result.exit_code == 1
    assert [(s, m) for s, _, m in recorder.errors] == [("boom", "no consent for P2"), ("boom", "no consent for P4")]
    assert result.documents_out == 3


def test_exception_with_stop_process_fails_the_execution():
    result, recorder, _ = run_yaml("""
type: process
name: exc
shapes:
  start: {type: start, next: boom}
  boom: {type: exception, message: "stop now", stop_process: true}
""")
    assert result.status == "failed"
    assert "stop now" in str(result.error)


def test_try_catch_gets_the_original_document_with_the_message_and_retries():
    result, recorder, _ = run_yaml(f"""
type: process
name: try
shapes:
  start: {{type: start, next: csv}}
  csv: {{type: message, text: "{CSV}", next: split}}
  split: {{type: data_process, steps: [{{type: split, headers: retain}}], next: guard}}
  guard: {{type: try_catch, retry_count: 2, try: m, catch: caught}}
  m: {{type: message, text: "letter", next: dec}}
  dec: {{type: decision, first: {{dynamic_process_property: none}}, second: "", true: count, false: ok}}
  count: {{type: notify, message: "try", next: check}}
  check: {{type: decision, first: {{document_property: x}}, second: "", true: fail, false: ok}}
  fail: {{type: exception, message: "cannot send"}}
  ok: {{type: stop}}
  caught: {{type: notify, message: "caught {{1}}: {{2}}", parameters: [{{profile_element: id}}, {{document_property: try_catch.message}}]}}
""")
    assert result.status == "complete"
    assert logs(recorder).count("try") == 15  # 5 documents, first try and two retries
    caught = [m for m in logs(recorder) if m.startswith("caught")]
    # the catch path sees the original data (the CSV record), not the letter
    assert caught == [f"caught P{i}: cannot send" for i in range(1, 6)]


def test_failure_before_the_try_is_not_caught():
    result, recorder, _ = run_yaml("""
type: process
name: t
shapes:
  start: {type: start, next: b64}
  b64: {type: data_process, steps: [{type: base64_decode}], next: guard}
  guard: {type: try_catch, try: ok, catch: c}
  ok: {type: stop}
  c: {type: notify, message: caught}
""", inputs=[Document(b"@@not base64@@")])
    # base64 decoding ignores bad characters leniently; the document goes on
    assert result.status == "complete"


def test_data_passthrough_inputs_and_set_properties_concatenate():
    result, recorder, _ = run_yaml("""
type: process
name: p
shapes:
  start: {type: start, mode: data_passthrough, next: props}
  props:
    type: set_properties
    properties:
      - {property: mail.subject, value: ["Re: ", {document_property: disk.file_name}, " #", {execution_property: document_count}]}
      - {property: process.last, value: [{document_property: mail.subject}]}
    next: log
  log: {type: notify, message: "{1}|{2}", parameters: [{document_property: mail.subject}, {process_property: last}]}
""", inputs=[Document(b"a", {"disk.file_name": "one.txt"}), Document(b"b", {"disk.file_name": "two.txt"})])
    assert logs(recorder) == ["Re: one.txt #2|Re: two.txt #2", "Re: two.txt #2|Re: two.txt #2"]


def test_a_loop_back_through_a_first_outlet_runs_round_by_round():
    # each round appends an x; documents leave the loop when they hold three
    result, recorder, _ = run_yaml("""
type: process
name: loop
shapes:
  start: {type: start, next: init}
  init: {type: set_properties, properties: [{property: dynamic.n, value: [""]}], next: bump}
  bump: {type: set_properties, properties: [{property: dynamic.n, value: [{dynamic_document_property: n}, x]}], next: check}
  check: {type: decision, first: {dynamic_document_property: n}, comparison: equals, second: xxx, true: done, false: bump}
  done: {type: notify, message: "left with {1}", parameters: [{dynamic_document_property: n}]}
""")
    assert result.status == "complete", result.error
    assert logs(recorder) == ["left with xxx"]


def test_a_loop_that_never_ends_is_stopped_with_a_clear_error():
    result, recorder, _ = run_yaml("""
type: process
name: loop
shapes:
  start: {type: start, next: a}
  a: {type: decision, first: "1", comparison: equals, second: "1", true: b, false: out}
  b: {type: notify, message: round, next: a}
  out: {type: stop}
""")
    assert result.status == "failed" and result.exit_code == 2
    assert "more than 100 times" in str(result.error)
    assert logs(recorder, "info").count("round") == 99  # the 100th way back is refused


def test_all_errors_trigger_catches_errors_that_are_not_about_one_document():
    text = """
type: process
name: t
shapes:
  start: {type: start, next: guard}
  guard: {type: try_catch, failure_trigger: TRIGGER, try: v, catch: c}
  v: {type: notify, message: "{1}", parameters: [{profile_element: x, profile: no-such-profile}]}
  c: {type: notify, message: "caught: {1}", parameters: [{document_property: try_catch.message}]}
"""
    result, recorder, _ = run_yaml(text.replace("TRIGGER", "all_errors"))
    assert result.status == "complete"
    assert logs(recorder)[0].startswith("caught: ") and "no-such-profile" in logs(recorder)[0]
    result, recorder, _ = run_yaml(text.replace("TRIGGER", "document_errors"))
    assert result.status == "failed" and result.exit_code == 2
    assert "no-such-profile" in str(result.error)


def test_end_and_return_inside_try_skips_retries_and_catch():
    result, recorder, _ = run_yaml("""
type: process
name: t
shapes:
  start: {type: start, next: b}
  b: {type: branch, branches: [guard, after]}
  guard: {type: try_catch, retry_count: 3, try: b2, catch: c}
  b2: {type: branch, branches: [ret, boom]}
  ret: {type: stop, continue: false}
  boom: {type: exception, message: failed}
  c: {type: notify, message: caught}
  after: {type: notify, message: after}
""")
    assert result.status == "complete"
    assert "caught" not in logs(recorder) and "after" not in logs(recorder)


def test_documents_made_by_a_split_get_their_own_numbers():
    result, recorder, _ = run_yaml("""
type: process
name: t
shapes:
  start: {type: start, next: csv}
  csv: {type: message, text: "a\\nb\\nc", next: split}
  split: {type: data_process, steps: [{type: split}], next: boom}
  boom: {type: exception, message: "no"}
""")
    assert [d for _, d, _ in recorder.errors] == [2, 3, 4]
