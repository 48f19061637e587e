"""Flow Control: the rest of the path per document or per batch, in order or in threads."""

import threading

import pytest

from postroom.sdk import Document
from support.engine_helpers import logs, run_yaml

pytestmark = pytest.mark.fast


def process(flow: str) -> str:
    return f"""
type: process
name: flow
shapes:
  start: {{type: start, mode: data_passthrough, next: flow}}
  flow: {flow}
  msg: {{type: message, text: "unit {{1}}", parameters: [{{current_data: true}}], combine: true, next: log}}
  log: {{type: notify, message: "{{1}}", parameters: [{{current_data: true}}], next: one}}
  one: {{type: notify, message: "after {{1}}", parameters: [{{current_data: true}}]}}
"""


def docs(count: int) -> list[Document]:
    return [Document(f"d{i}".encode()) for i in range(1, count + 1)]


def test_unit_document_runs_each_document_to_the_end_of_the_path_before_the_next():
    result, recorder, _ = run_yaml(process("{type: flow_control, unit: document, next: msg}"), docs(3))
    assert result.status == "complete"
    # combine sees one document per unit; each unit reaches the last shape before the next starts
    assert logs(recorder) == ["unit d1", "after unit d1", "unit d2", "after unit d2", "unit d3", "after unit d3"]
    assert (result.documents_in, result.documents_out) == (3, 3)


def test_unit_batch_groups_documents_in_order():
    result, recorder, _ = run_yaml(process("{type: flow_control, unit: batch, batch_size: 2, next: msg}"), docs(5))
    assert [m for m in logs(recorder) if not m.startswith("after")] == ["unit d1d2", "unit d3d4", "unit d5"]
    assert result.documents_out == 3


def test_parallel_units_run_at_once_in_threads_and_each_document_comes_out_once():
    text = """
type: process
name: flow
shapes:
  start: {type: start, mode: data_passthrough, next: flow}
  flow: {type: flow_control, unit: document, parallel: 4, next: set}
  set: {type: set_properties, properties: [{property: dynamic.x, value: [{current_data: true}]}], next: log}
  log: {type: notify, message: "{1}", parameters: [{dynamic_document_property: x}]}
"""
    sequential, seq_recorder, _ = run_yaml(text.replace("parallel: 4", "parallel: 1"), docs(200))
    result, recorder, ctx = run_yaml(text, docs(200))
    assert result.status == sequential.status == "complete"
    lines = logs(recorder)
    assert sorted(lines) == sorted(logs(seq_recorder)) == sorted(f"d{i}" for i in range(1, 201))
    assert len(lines) == len(set(lines)) == 200
    assert (result.documents_in, result.documents_out) == (200, 200)


def test_parallel_lanes_really_overlap():
    """Four units wait at a barrier that only opens when four threads reach it at once."""
    barrier = threading.Barrier(4, timeout=10)
    text = """
type: process
name: flow
shapes:
  start: {type: start, mode: data_passthrough, next: flow}
  flow: {type: flow_control, unit: document, parallel: 4, next: wait}
  wait: {type: notify, message: "{1}", parameters: [{current_data: true}]}
"""
    from postroom.engine.shapes.notify import NotifyRunner

    original = NotifyRunner.handle

    def waiting(self, doc):  # noqa: ANN001, ANN202
        barrier.wait()
        return original(self, doc)

    NotifyRunner.handle = waiting
    try:
        result, recorder, _ = run_yaml(text, docs(4))
    finally:
        NotifyRunner.handle = original
    assert result.status == "complete"
    assert sorted(logs(recorder)) == ["d1", "d2", "d3", "d4"]


def test_an_error_in_one_lane_fails_the_execution_after_the_running_lanes_finish():
    text = """
type: process
name: flow
shapes:
  start: {type: start, mode: data_passthrough, next: flow}
  flow: {type: flow_control, unit: document, parallel: 3, next: dec}
  dec: {type: decision, first: {current_data: true}, comparison: equals, second: d5, true: stop, false: log}
  stop: {type: exception, stop_process: true, message: "stopped at {1}", parameters: [{current_data: true}]}
  log: {type: notify, message: "{1}", parameters: [{current_data: true}]}
"""
    result, recorder, _ = run_yaml(text, docs(40))
    assert result.status == "failed"
    assert "stopped at d5" in str(result.error)
    assert len(logs(recorder, "info")) < 39  # no new unit started after the error


def test_flow_control_inside_a_called_process_returns_every_document():
    text = """
type: process
name: parent
id: parent
shapes:
  start: {type: start, mode: data_passthrough, next: call}
  call: {type: process_call, process: child, next: log}
  log: {type: notify, message: "back {1}", parameters: [{current_data: true}]}
---
type: process
name: child
id: child
shapes:
  start: {type: start, mode: data_passthrough, next: flow}
  flow: {type: flow_control, parallel: 4, next: back}
  back: {type: return_documents}
"""
    result, recorder, _ = run_yaml(text, docs(50))
    assert sorted(logs(recorder)) == sorted(f"back d{i}" for i in range(1, 51))
    assert result.documents_out == 50


def test_a_stop_request_starts_no_new_unit_and_the_execution_is_stopped():
    from postroom.engine import StopFlag
    from postroom.engine.shapes.notify import NotifyRunner

    flag = StopFlag()
    original = NotifyRunner.handle

    def stopping(self, doc):  # noqa: ANN001, ANN202
        if doc.data == b"d5":
            flag.request("stop asked for in the test", 130)
        return original(self, doc)

    text = """
type: process
name: flow
shapes:
  start: {type: start, mode: data_passthrough, next: flow}
  flow: {type: flow_control, unit: document, parallel: 2, next: log}
  log: {type: notify, message: "{1}", parameters: [{current_data: true}]}
"""
    NotifyRunner.handle = stopping
    try:
        result, recorder, _ = run_yaml(text, docs(100), stop=flag)
    finally:
        NotifyRunner.handle = original
    assert result.status == "stopped" and result.exit_code == 130
    assert "d5" in logs(recorder)
    assert len([m for m in logs(recorder, "info") if m.startswith("d")]) < 20
