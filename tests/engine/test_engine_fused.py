"""Fused runs of per-document shapes (engine/_fused.py): a straight run of Decision, Route,
Set Properties, Message and Notify shapes walks as one step, and shows the user exactly what
the shapes walked one by one show: counts per shape, failures naming their shape, the order
of paths, each document's own properties, process properties, stop requests, Try/Catch.

Test mode does not fuse (it keeps the documents entering every shape), so each process here
also runs in test mode: the two runs must agree."""

from __future__ import annotations

import pytest

from postroom.engine import ExecutionContext, MemoryRecorder, _executor, _fused, execute
from postroom.model import load_text, parse_component
from postroom.sdk import Document
from postroom.services import Binder, validate_settings
from support.engine_helpers import logs, run_yaml

pytestmark = pytest.mark.fast

CSV = "id,name,consent\\nP1,Ann,yes\\nP2,Bob,no\\nP3,Cy,yes\\nP4,Di,no\\nP5,Ed,yes"

CHAIN = f"""
type: process
name: fused
shapes:
  start: {{type: start, next: csv}}
  csv: {{type: message, text: "{CSV}", next: split}}
  split: {{type: data_process, steps: [{{type: split, headers: retain}}], next: dec}}
  dec: {{type: decision, first: {{profile_element: consent}}, comparison: equals, second: "yes", true: props, false: f1}}
  props:
    type: set_properties
    properties:
      - {{property: dynamic.who, value: [{{profile_element: name}}]}}
      - {{property: dynamic_process.last, value: [{{profile_element: id}}]}}
    next: letter
  letter: {{type: message, text: "Dear {{1}}", parameters: [{{dynamic_document_property: who}}], next: t1}}
  t1: {{type: notify, message: "T {{1}} {{2}} last={{3}}", parameters: [{{current_data: ""}}, {{dynamic_document_property: who}}, {{dynamic_process_property: last}}]}}
  f1: {{type: notify, message: "F {{1}}", parameters: [{{profile_element: id}}], next: f2}}
  f2: {{type: notify, message: "F2 {{1}}", parameters: [{{profile_element: id}}]}}
"""


@pytest.fixture
def fused_runs(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The shape ids of every fused run the executor starts."""
    started: list[list[str]] = []

    class Spy(_fused.FusedRun):
        def __init__(self, ctx, links):  # noqa: ANN001
            started.append([link.shape_id for link in links])
            super().__init__(ctx, links)

    monkeypatch.setattr(_executor, "FusedRun", Spy)
    return started


def _both(text: str, **options):  # noqa: ANN003, ANN202
    fused = run_yaml(text, **options)
    apart = run_yaml(text, test_mode=True, **options)
    return fused, apart


def test_a_fused_run_keeps_order_counts_and_each_documents_properties(fused_runs):
    (result, recorder, ctx), (result2, recorder2, ctx2) = _both(CHAIN, batch_size=2)
    assert ["dec", "props", "letter", "t1"] in fused_runs and ["f1", "f2"] in fused_runs
    # shape by shape within a batch (the process property is the batch's last document's), every
    # true document to the end of its path before the false ones; each letter its own name
    assert logs(recorder) == [
        "T Dear Ann Ann last=P1", "T Dear Cy Cy last=P3", "T Dear Ed Ed last=P5",
        "F P2", "F P4", "F2 P2", "F2 P4"]
    assert logs(recorder2) == logs(recorder)
    assert ctx.shape_counts["dec"] == [5, 5, 0]
    assert ctx.shape_counts["props"] == ctx.shape_counts["letter"] == ctx.shape_counts["t1"] == [3, 3, 0]
    assert ctx.shape_counts["f1"] == [2, 2, 0]
    assert ctx.shape_counts == ctx2.shape_counts
    assert (result.status, result.documents_out) == (result2.status, result2.documents_out) == ("complete", 5)


def test_a_failure_inside_a_fused_run_names_its_shape_and_the_others_go_on(fused_runs):
    docs = [Document(b'{"n": "1"}'), Document(b"{broken"), Document(b'{"n": "3"}')]
    text = """
type: process
name: failing
shapes:
  start: {type: start, mode: data_passthrough, next: mark}
  mark: {type: set_properties, properties: [{property: dynamic.seen, value: ["yes"]}], next: dec}
  dec: {type: decision, first: {profile_element: n}, comparison: not_equals, second: "9", true: say, false: no}
  say: {type: notify, message: "ok {1} {2}", parameters: [{profile_element: n}, {dynamic_document_property: seen}]}
  no: {type: notify, message: never}
"""
    (result, recorder, ctx), (_, recorder2, ctx2) = _both(text, inputs=docs)
    assert ["mark", "dec", "say"] in fused_runs
    assert result.status == "complete_with_errors" and result.documents_failed == 1
    [(shape, seq, message)] = recorder.errors
    assert shape == "dec" and seq == 2 and "profile_element cannot read the document" in message
    assert recorder2.errors == recorder.errors
    assert logs(recorder, "info") == ["ok 1 yes", "ok 3 yes"]
    assert ctx.shape_counts["mark"] == [3, 3, 0] and ctx.shape_counts["dec"] == [3, 2, 1]
    assert ctx.shape_counts == ctx2.shape_counts


def test_one_documents_property_change_never_shows_on_another(fused_runs):
    """Documents in one batch, properties set from each one's own data, then a Message makes
    new documents: every document keeps its own values, and the inputs are not changed."""
    docs = [Document(f"P{i}".encode(), {"disk.file_name": "same.txt"}) for i in range(4)]
    text = """
type: process
name: isolation
shapes:
  start: {type: start, mode: data_passthrough, next: props}
  props: {type: set_properties, properties: [{property: disk.file_name, value: [{current_data: ""}, ".txt"]}], next: letter}
  letter: {type: message, text: "for {1}", parameters: [{document_property: disk.file_name}], next: again}
  again: {type: set_properties, properties: [{property: dynamic.tag, value: [{current_data: ""}]}], next: say}
  say: {type: notify, message: "{1} {2}", parameters: [{document_property: disk.file_name}, {dynamic_document_property: tag}]}
"""
    result, recorder, _ = run_yaml(text, inputs=docs)
    assert ["props", "letter", "again", "say"] in fused_runs
    assert result.status == "complete"
    assert logs(recorder) == [f"P{i}.txt for P{i}.txt" for i in range(4)]


class _StopAt(MemoryRecorder):
    """Asks the execution to stop when a given log line is written (mid-batch: a Ctrl-C
    arriving while a shape works)."""

    def __init__(self, line: str) -> None:
        super().__init__()
        self.line = line
        self.ctx: ExecutionContext | None = None

    def log(self, level: str, message: str, shape: str | None) -> None:
        super().log(level, message, shape)
        if message == self.line and self.ctx is not None:
            self.ctx.stop.request("asked to stop")


@pytest.mark.parametrize("test_mode", [False, True])
def test_a_stop_request_lets_no_shape_of_the_fused_run_take_another_batch(fused_runs, test_mode):
    text = """
type: process
name: stopping
shapes:
  start: {type: start, mode: data_passthrough, next: one}
  one: {type: notify, message: "one {1}", parameters: [{current_data: ""}], next: two}
  two: {type: notify, message: "two {1}", parameters: [{current_data: ""}]}
"""
    process = parse_component(load_text(text)[0])
    recorder = _StopAt("one D1")  # the last document of the first batch, in the first shape
    ctx = ExecutionContext(process=process, execution_id="exec-stop", components={}.get,
                           open_session=Binder(process.id, {}.get, validate_settings).open_session,
                           recorder=recorder, batch_size=2, test_mode=test_mode)
    recorder.ctx = ctx
    result = execute(ctx, [Document(f"D{i}".encode()) for i in range(6)])
    assert (["one", "two"] in fused_runs) is not test_mode
    assert result.status == "stopped" and result.error is not None and "asked to stop" in result.error.message
    assert logs(recorder, "info") == ["one D0", "one D1"]  # the second shape took no batch


def test_a_fused_run_inside_try_sends_its_failures_to_catch(fused_runs):
    docs = [Document(b'{"n": "1"}'), Document(b"{broken")]
    text = """
type: process
name: trying
shapes:
  start: {type: start, mode: data_passthrough, next: try}
  try: {type: try_catch, try: mark, catch: caught}
  mark: {type: set_properties, properties: [{property: dynamic.seen, value: ["yes"]}], next: dec}
  dec: {type: decision, first: {profile_element: n}, comparison: equals, second: "1", true: say, false: say}
  say: {type: notify, message: "ok {1}", parameters: [{profile_element: n}]}
  caught: {type: notify, message: "caught {1} seen={2}", parameters: [{document_property: try_catch.message}, {dynamic_document_property: seen}]}
"""
    (result, recorder, _), (_, recorder2, _) = _both(text, inputs=docs)
    assert ["mark", "dec", "say"] in fused_runs
    assert result.status == "complete" and not recorder.errors
    lines = logs(recorder, "info")
    assert lines[0] == "ok 1"
    assert lines[1].startswith("caught profile_element cannot read the document") and lines[1].endswith("seen=")
    assert logs(recorder2, "info") == lines


def test_a_loop_into_the_middle_of_a_fused_run_takes_its_rounds_apart(fused_runs):
    text = """
type: process
name: looping
shapes:
  start: {type: start, next: init}
  init: {type: set_properties, properties: [{property: dynamic_process.n, value: ["x"]}], next: grow}
  grow: {type: message, text: "{1}.", parameters: [{current_data: ""}], next: check}
  check: {type: decision, first: {current_data: ""}, comparison: equals, second: "...", true: done, false: grow}
  done: {type: notify, message: "done {1}", parameters: [{current_data: ""}]}
"""
    (result, recorder, ctx), (_, recorder2, ctx2) = _both(text)
    assert result.status == "complete"
    assert logs(recorder) == logs(recorder2) == ["done ..."]
    assert ctx.shape_counts == ctx2.shape_counts
    assert ctx.shape_counts["grow"][0] == 3


def test_the_other_outlets_of_a_fused_run_start_innermost_shape_first(fused_runs):
    """Two Decisions in a row: the second's false documents run before the first's, as when
    each shape runs apart (the first Decision's false path waits for all of its true path)."""
    text = f"""
type: process
name: nested
shapes:
  start: {{type: start, next: csv}}
  csv: {{type: message, text: "{CSV}", next: split}}
  split: {{type: data_process, steps: [{{type: split, headers: retain}}], next: consent}}
  consent: {{type: decision, first: {{profile_element: consent}}, comparison: equals, second: "yes", true: short, false: outer}}
  short: {{type: decision, first: {{profile_element: name}}, comparison: regex, second: "..", true: say, false: inner}}
  say: {{type: notify, message: "T {{1}}", parameters: [{{profile_element: id}}]}}
  inner: {{type: notify, message: "inner {{1}}", parameters: [{{profile_element: id}}]}}
  outer: {{type: notify, message: "outer {{1}}", parameters: [{{profile_element: id}}]}}
"""
    (result, recorder, ctx), (_, recorder2, ctx2) = _both(text, batch_size=2)
    assert ["consent", "short", "say"] in fused_runs
    assert logs(recorder) == ["T P3", "T P5", "inner P1", "outer P2", "outer P4"]
    assert logs(recorder2) == logs(recorder) and ctx.shape_counts == ctx2.shape_counts
