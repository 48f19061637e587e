"""Process Call and Return Documents: the child runs on the documents; what it returns goes on."""

import pytest

from postroom.sdk import Document
from support.engine_helpers import logs, run_yaml

pytestmark = pytest.mark.fast

CHILD = """
---
type: process
name: child
id: child
shapes:
  start: {type: start, mode: data_passthrough, next: dec}
  dec: {type: decision, first: {current_data: true}, comparison: wildcard, second: "keep*", true: mark, false: drop}
  mark: {type: set_properties, properties: [{property: dynamic.seen, value: [child]}, {property: dynamic_process.called, value: ["yes"]}], next: back}
  back: {type: return_documents}
  drop: {type: notify, message: "dropped {1}", parameters: [{current_data: true}]}
"""


def parent(call: str, after: str = "") -> str:
    return f"""
type: process
name: parent
id: parent
shapes:
  start: {{type: start, mode: data_passthrough, next: call}}
  call: {call}
  log: {{type: notify, message: "back {{1}} seen={{2}} called={{3}} pp={{4}}", parameters: [{{current_data: true}}, {{dynamic_document_property: seen}}, {{dynamic_process_property: called}}, {{process_property: who}}]{after}}}
""" + CHILD


def docs(*texts: str) -> list[Document]:
    return [Document(t.encode()) for t in texts]


def test_what_reaches_return_documents_goes_on_in_the_parent_in_order():
    result, recorder, _ = run_yaml(parent("{type: process_call, process: child, next: log}"),
                                   docs("keep 1", "drop 2", "keep 3"), process_properties={"who": "parent"})
    assert result.status == "complete"
    # the child sees the parent's process properties; its dynamic process properties are seen after
    assert logs(recorder) == ["dropped drop 2", "back keep 1 seen=child called=yes pp=parent",
                              "back keep 3 seen=child called=yes pp=parent"]
    assert (result.documents_in, result.documents_out, result.documents_failed) == (3, 3, 0)
    # the child's shapes are recorded with the calling shape's id in front
    assert ("info", "dropped drop 2", "call/drop") in recorder.logs


def test_return_documents_in_a_process_run_alone_ends_the_path():
    text = CHILD.replace("---\n", "", 1)
    result, recorder, _ = run_yaml(text, docs("keep a", "b"))
    assert (result.status, result.documents_out) == ("complete", 2)


CHILD_FAILS = """
---
type: process
name: child
id: child
shapes:
  start: {type: start, mode: data_passthrough, next: dec}
  dec: {type: decision, first: {current_data: true}, comparison: equals, second: bad, true: boom, false: back}
  boom: {type: exception, message: "bad document {1}", parameters: [{current_data: true}]}
  back: {type: return_documents}
"""


def failing_parent(abort: str) -> str:
    return f"""
type: process
name: parent
id: parent
shapes:
  start: {{type: start, mode: data_passthrough, next: call}}
  call: {{type: process_call, process: child, abort_on_error: {abort}, next: log}}
  log: {{type: notify, message: "back {{1}}", parameters: [{{current_data: true}}]}}
""" + CHILD_FAILS


def test_abort_on_error_true_fails_the_execution_naming_the_child():
    result, recorder, _ = run_yaml(failing_parent("true"), docs("ok", "bad"))
    assert result.status == "failed"
    assert result.exit_code == 1
    assert "process child failed (1 document(s) failed in it; first: document 2 at call/boom: bad document bad)" \
        in str(result.error)
    assert "abort_on_error: false" in str(result.error)
    assert not [m for m in logs(recorder) if m.startswith("back")]


def test_abort_on_error_false_goes_on_with_what_returned():
    result, recorder, _ = run_yaml(failing_parent("false"), docs("ok", "bad", "fine"))
    assert result.status == "complete_with_errors"
    assert [m for m in logs(recorder) if m.startswith("back")] == ["back ok", "back fine"]
    assert recorder.errors == [("call/boom", 2, "bad document bad")]
    assert (result.documents_failed, result.documents_out) == (1, 2)


def test_a_try_catch_catching_all_errors_takes_the_documents_of_an_aborted_call():
    text = failing_parent("true").replace(
        "start: {type: start, mode: data_passthrough, next: call}",
        "start: {type: start, mode: data_passthrough, next: try}\n"
        "  try: {type: try_catch, failure_trigger: all_errors, try: call, catch: caught}\n"
        "  caught: {type: notify, message: \"caught {1}: {2}\", parameters: [{current_data: true}, "
        "{document_property: try_catch.message}]}")
    result, recorder, _ = run_yaml(text, docs("ok", "bad"))
    assert result.status == "complete_with_errors"
    caught = [m for m in logs(recorder) if m.startswith("caught")]
    assert caught == ["caught ok: process child failed (1 document(s) failed in it; first: document 2 at "
                      "call/boom: bad document bad)", "caught bad: process child failed (1 document(s) failed in "
                      "it; first: document 2 at call/boom: bad document bad)"]


def test_wait_false_passes_the_inputs_on_and_the_child_still_runs():
    result, recorder, _ = run_yaml(parent("{type: process_call, process: child, wait: false, next: log}"),
                                   docs("keep 1", "drop 2"))
    assert result.status == "complete"
    lines = logs(recorder)
    assert "dropped drop 2" in lines  # the child ran before the execution ended
    assert [m.split(" seen")[0] for m in lines if m.startswith("back")] == ["back keep 1", "back drop 2"]
    assert result.documents_out == 2  # the child's copies are not counted again


def test_a_child_that_does_not_start_with_data_passthrough_is_refused():
    text = parent("{type: process_call, process: child, next: log}").replace(
        "start: {type: start, mode: data_passthrough, next: dec}", "start: {type: start, next: dec}")
    result, _, _ = run_yaml(text, docs("keep"))
    assert result.status == "failed" and result.exit_code == 2
    assert "process child is called by process parent but its start shape is no_data" in str(result.error)
    assert "set mode: data_passthrough on the start shape of process child" in str(result.error)


def test_test_mode_keeps_the_child_shapes_entries_under_the_calling_shape():
    text = parent("{type: process_call, process: child, next: log}")
    result, recorder, _ = run_yaml(text, docs("keep 1"), test_mode=True)
    assert result.status == "complete"
    shapes = [shape for shape, _, _ in recorder.shape_documents]
    assert shapes == ["start", "call", "call/start", "call/dec", "call/mark", "call/back", "log"]


def test_a_recursive_call_that_slipped_past_import_stops_with_the_reason():
    text = """
type: process
name: loop
id: loop
shapes:
  start: {type: start, mode: data_passthrough, next: call}
  call: {type: process_call, process: loop}
"""
    result, _, _ = run_yaml(text, docs("x"))
    assert result.status == "failed" and result.exit_code == 2
    assert "process calls nest deeper than 32" in str(result.error)
    assert "a process calls itself" in str(result.error)


def test_profile_element_in_the_child_reads_with_the_child_process_default_profile():
    text = """
type: process
name: parent
id: parent
shapes:
  start: {type: start, mode: data_passthrough, next: call}
  call: {type: process_call, process: child, next: log}
  log: {type: notify, message: "parent reads {1}", parameters: [{profile_element: name}]}
---
type: process
name: child
id: child
profile: semi
shapes:
  start: {type: start, mode: data_passthrough, next: log}
  log: {type: notify, message: "child reads {1}", parameters: [{profile_element: name}], next: back}
  back: {type: return_documents}
---
type: profile
name: semi
id: semi
profile_type: flat_file
delimiter: ";"
header: false
fields: [id, name]
"""
    result, recorder, _ = run_yaml(text, docs("P1;Ann"))
    assert result.status == "complete"
    # the child's default profile splits on ';'; the parent has none, so the record is one column
    assert logs(recorder) == ["child reads Ann", "parent reads "]
