"""Walk the process graph.

Documents move in batches. A shape's first outlet streams: each batch it yields goes on
down that path at once, so memory stays flat however many documents there are. Every
other outlet (a Decision's false, later Branch paths, later Route cases, a Try/Catch's
catch) waits in a :class:`Spool` until the first path has finished, which keeps the
order users rely on (SEMANTICS.md): every true document runs to the end of its path
before any false document starts; branch paths run one after another.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..errors import ConfigError
from ..model import Process, TryCatchShape
from ..sdk import Document
from ._calls import Returned, Walker, run_call, run_return
from ._context import Catch, ExecutionContext, TryScope
from ._flow import run_flow
from ._fused import FusedRun, Link, fusable
from ._spool import Spool
from .shapes._base import ShapeRunner
from .shapes.branch import BranchRunner
from .shapes.connector import ConnectorRunner
from .shapes.data_process import DataProcessRunner
from .shapes.decision import DecisionRunner
from .shapes.exception import ExceptionRunner
from .shapes.map import MapRunner
from .shapes.message import MessageRunner
from .shapes.notify import NotifyRunner
from .shapes.return_documents import ReturnDocumentsRunner
from .shapes.route import RouteRunner
from .shapes.set_properties import SetPropertiesRunner
from .shapes.start import StartRunner
from .shapes.stop import StopRunner

__all__ = ["Executor", "RUNNERS", "Returned"]

RUNNERS: dict[str, type[ShapeRunner]] = {
    "start": StartRunner,
    "message": MessageRunner,
    "set_properties": SetPropertiesRunner,
    "data_process": DataProcessRunner,
    "decision": DecisionRunner,
    "branch": BranchRunner,
    "route": RouteRunner,
    "connector": ConnectorRunner,
    "notify": NotifyRunner,
    "exception": ExceptionRunner,
    "stop": StopRunner,
    "return_documents": ReturnDocumentsRunner,
    "map": MapRunner,
}

MAX_ROUNDS = 100

#: shapes the executor runs itself: they run other paths (or processes) on their documents
SPECIAL: dict[str, Callable[[Walker, str, Any, Iterable[list[Document]]], None]] = {
    "process_call": run_call, "flow_control": run_flow, "return_documents": run_return}


def batched(docs: Iterable[Document], size: int) -> Iterator[list[Document]]:
    iterator = iter(docs)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


class Executor:
    """Walks one process. A called process (Process Call) gets its own executor with ``prefix``
    (the calling shapes, ``call/``) in front of its shape ids in the record, and ``returned``:
    where the documents reaching its Return Documents shapes go."""

    def __init__(self, ctx: ExecutionContext, process: Process | None = None, prefix: str = "",
                 returned: Returned | None = None) -> None:
        self.ctx = ctx
        self.process = process or ctx.process
        self.prefix = prefix
        self.returned = returned
        self.runners: dict[str, ShapeRunner] = {}
        self._active: dict[str, int] = {}  # shapes on the current path, and how often entered

    def lane(self) -> Executor:
        """An executor for another thread running part of this walk (a Flow Control lane)."""
        other = Executor(self.ctx, self.process, self.prefix, self.returned)
        other._active = dict(self._active)
        return other

    def called(self, process: Process, prefix: str, returned: Returned) -> Executor:
        """An executor of a called ``process`` (Process Call) in this execution."""
        return Executor(self.ctx, process, prefix, returned)

    def runner(self, shape_id: str) -> ShapeRunner:
        runner = self.runners.get(shape_id)
        if runner is None:
            model = self.process.shapes[shape_id]
            runner = RUNNERS[model.type](self.prefix + shape_id, model, self.ctx)
            self.runners[shape_id] = runner
        return runner

    # -- the walk -----------------------------------------------------------------------
    def run(self, documents: Iterable[Document]) -> None:
        self.run_path(self.process.start, batched(documents, self.ctx.batch_size))

    def run_called(self, batches: Iterable[list[Document]]) -> None:
        """A called process: its start (data_passthrough) takes the caller's documents, which
        the execution already counted in."""
        start = self.process.start
        self.follow(self.process.start_shape.next, self._enter(start, batches))

    def _enter(self, shape_id: str, batches: Iterable[list[Document]]) -> Iterator[list[Document]]:
        ctx = self.ctx
        for batch in batches:
            ctx.check_stop()  # a stop request: no shape takes another batch
            ctx.number(batch)
            ctx.shape_entered(shape_id, len(batch))
            if ctx.test_mode:
                ctx.record_entry(self.prefix + shape_id, batch)
            yield batch
            ctx.tick()

    def run_path(self, shape_id: str, batches: Iterable[list[Document]]) -> None:
        rounds = self._active.get(shape_id, 0)
        if rounds:
            # A loop: documents came back to a shape whose earlier round is still running.
            # Take every document of this round first, then run the next round on them.
            if rounds >= MAX_ROUNDS:
                raise ConfigError(
                    f"documents went round a loop more than {MAX_ROUNDS} times at shape {shape_id}",
                    component=self.process.id, shape=shape_id,
                    fix="make sure the decision that leaves the loop is eventually true")
            spool = Spool(self.ctx.batch_size)
            for docs in batches:
                spool.extend(docs)
            if not len(spool):
                return
            batches = spool.batches()
        self._active[shape_id] = rounds + 1
        try:
            self._run_shape(shape_id, batches)
        finally:
            if rounds:
                self._active[shape_id] = rounds
            else:
                del self._active[shape_id]

    def _run_shape(self, shape_id: str, batches: Iterable[list[Document]]) -> None:
        model = self.process.shapes[shape_id]
        chain = self._chain(shape_id) if not self.ctx.test_mode else None
        if chain is not None:
            self._run_fused(chain, batches)
            return
        batches = self._enter(shape_id, batches)
        if model.type == "try_catch":
            self._run_try(shape_id, model, batches)
            return
        if model.type in SPECIAL:
            SPECIAL[model.type](self, shape_id, model, batches)
            return
        runner = self.runner(shape_id)
        outlets = model.outlets()
        if not outlets:
            for _, docs in runner.run(batches):
                self.ctx.shape_left(shape_id, len(docs))
            return
        primary_name, primary_target = outlets[0]
        spools: dict[str, Spool] = {}

        def primary() -> Iterator[list[Document]]:
            for outlet, docs in runner.run(batches):
                if not docs:
                    continue
                self.ctx.shape_left(shape_id, len(docs))
                if outlet == primary_name:
                    yield docs
                else:
                    spool = spools.get(outlet)
                    if spool is None:
                        spool = spools[outlet] = Spool(self.ctx.batch_size)
                    spool.extend(docs)

        self.follow(primary_target, primary())
        self._follow_spools(outlets, spools)

    # -- fused runs of per-document shapes (_fused.py) --------------------------------------
    def _chain(self, shape_id: str) -> list[str] | None:
        """The straight run of per-document shapes starting at ``shape_id``, each the first
        outlet's target of the one before, when it has two or more; it ends before a shape
        that is on the current path already (a loop: that shape takes its round apart)."""
        shapes = self.process.shapes
        if not fusable(shapes[shape_id]):
            return None
        chain = [shape_id]
        while True:
            outlets = shapes[chain[-1]].outlets()
            target = outlets[0][1] if outlets else None
            if target is None or target in chain or target in self._active or not fusable(shapes[target]):
                break
            chain.append(target)
        return chain if len(chain) > 1 else None

    def _run_fused(self, chain: list[str], batches: Iterable[list[Document]]) -> None:
        """Run ``chain`` as one step: the documents leaving its last shape by the first outlet
        go on down the path; then the other outlets' documents, innermost shape first, each
        with the shapes before it still on the current path, as when the shapes run apart."""
        links = [Link(shape_id, self.runner(shape_id), self.process.shapes[shape_id].outlets()) for shape_id in chain]
        marked: list[str] = []
        try:
            for shape_id in chain[1:]:
                self._active[shape_id] = self._active.get(shape_id, 0) + 1
                marked.append(shape_id)
            self.follow(links[-1].outlets[0][1], FusedRun(self.ctx, links).batches(batches))
            for index in range(len(links) - 1, -1, -1):
                self._follow_spools(links[index].outlets, links[index].spools)
                if index:
                    self._unmark(marked.pop())
        finally:
            while marked:
                self._unmark(marked.pop())

    def _unmark(self, shape_id: str) -> None:
        rounds = self._active[shape_id] - 1
        if rounds:
            self._active[shape_id] = rounds
        else:
            del self._active[shape_id]

    def _follow_spools(self, outlets: list[tuple[str, str | None]], spools: dict[str, Spool]) -> None:
        """The documents a shape kept for its other outlets, one outlet's path after another
        (none when an end-and-return stop came meanwhile)."""
        for name, target in outlets[1:]:
            spool = spools.pop(name, None)
            if spool is None:
                continue
            if self.ctx.return_requested:
                self.ctx.skip_by_return(len(spool))
                spool.discard()
                continue
            self.follow(target, spool.batches())

    def follow(self, target: str | None, batches: Iterable[list[Document]]) -> None:
        if target is None:  # the path ends here: these documents are done
            for docs in batches:
                self.ctx.path_end(len(docs))
            return
        self.run_path(target, batches)

    # -- Try/Catch ------------------------------------------------------------------------
    def _run_try(self, shape_id: str, model: TryCatchShape, batches: Iterable[list[Document]]) -> None:
        scope = TryScope(shape_id, model.failure_trigger)

        def tagged(source: Iterable[list[Document]]) -> Iterator[list[Document]]:
            for docs in source:
                out = []
                for doc in docs:
                    inside = doc.copy()
                    inside.origin = Catch(scope, doc)
                    out.append(inside)
                self.ctx.shape_left(shape_id, len(out))
                yield out

        self.follow(model.try_, tagged(batches))
        for attempt in range(1, model.retry_count + 1):
            if not scope.failed or self.ctx.return_requested:
                break
            again = [original for original, _ in scope.failed]
            scope.failed = []
            self.ctx.log_line("info", f"retry {attempt} of {model.retry_count}: {len(again)} document(s)",
                              self.prefix + shape_id)
            self.follow(model.try_, tagged(batched(again, self.ctx.batch_size)))
        if not scope.failed:
            return
        if self.ctx.return_requested:  # an end-and-return stop: the catch path does not start
            self.ctx.skip_by_return(len(scope.failed))
            scope.failed = []
            return
        caught = []
        for original, message in scope.failed:
            doc = original.copy()
            doc.properties["try_catch.message"] = message
            caught.append(doc)
        scope.failed = []
        if model.catch is None:
            for doc in caught:
                self.ctx.fail(doc, self.prefix + shape_id, doc.properties["try_catch.message"])
            return
        self.follow(model.catch, batched(caught, self.ctx.batch_size))
