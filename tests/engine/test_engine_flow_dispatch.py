"""The Flow Control hook of the distributed runtime: with a unit dispatcher on the context
(the services layer sets one on the workers), a ``parallel`` Flow Control of the process
itself hands it its units, in order, with the shape the rest of the path starts at; one
inside a Try/Catch path keeps its threads. ``execute_unit`` runs the rest of the path on
units apart from the execution, as a chunk on a worker does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from postroom.engine import ExecutionContext, execute_unit
from postroom.sdk import Document
from support.engine_helpers import logs, run_yaml

pytestmark = pytest.mark.fast

PROCESS = """
type: process
name: flow
shapes:
  start: {type: start, mode: data_passthrough, next: flow}
  flow: {type: flow_control, unit: batch, batch_size: 2, parallel: 3, next: log}
  log: {type: notify, message: "{1}", parameters: [{current_data: true}]}
"""


class Apart:
    """Runs each unit on a context of its own (as a worker would) and adds its counts."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int, list[list[bytes]]]] = []

    def run_units(self, ctx: ExecutionContext, shape_id: str, target: str, parallel: int,
                  work: Iterator[list[Document]]) -> None:
        units = list(work)
        self.calls.append((shape_id, target, parallel, [[doc.data for doc in unit] for unit in units]))
        apart = ExecutionContext(process=ctx.process, execution_id=ctx.execution_id, components=ctx.components,
                                 open_session=ctx.open_session, recorder=ctx.recorder)
        result = execute_unit(apart, target, units)
        assert result.status == "complete"
        ctx.documents_out += apart.documents_out


def _docs(count: int) -> list[Document]:
    return [Document(f"d{i}") for i in range(1, count + 1)]


def test_a_parallel_flow_control_hands_its_units_to_the_dispatcher() -> None:
    dispatcher = Apart()
    result, recorder, _ = run_yaml(PROCESS, _docs(5), unit_dispatcher=dispatcher)
    assert dispatcher.calls == [("flow", "log", 3, [[b"d1", b"d2"], [b"d3", b"d4"], [b"d5"]])]
    assert logs(recorder) == ["d1", "d2", "d3", "d4", "d5"]  # one unit after another, in order
    assert (result.status, result.documents_in, result.documents_out) == ("complete", 5, 5)


def test_without_a_dispatcher_or_parallel_or_inside_a_try_the_units_stay_here() -> None:
    in_threads, recorder, _ = run_yaml(PROCESS, _docs(5))
    assert sorted(logs(recorder)) == ["d1", "d2", "d3", "d4", "d5"] and in_threads.documents_out == 5
    dispatcher = Apart()
    run_yaml(PROCESS.replace("parallel: 3", "parallel: 1"), _docs(5), unit_dispatcher=dispatcher)
    in_try = PROCESS.replace("next: flow}", "next: try}\n  try: {type: try_catch, try: flow}")
    result, recorder, _ = run_yaml(in_try, _docs(5), unit_dispatcher=dispatcher)
    assert dispatcher.calls == [] and result.documents_out == 5
    assert sorted(logs(recorder)) == ["d1", "d2", "d3", "d4", "d5"]
