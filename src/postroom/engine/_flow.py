"""Flow Control: the rest of the path runs per unit (one document, or a batch of N), one
unit after another, or ``parallel`` units at once in threads of this execution.

Within a unit the usual order holds (SEMANTICS.md). With ``parallel: 1`` a unit runs to the
end of the path before the next starts, in input order. With more, units start in input
order and run side by side: what they produce interleaves in the order units finish. Each
thread walks with its own executor (its own shape runners); the execution's counters,
record, journal and connector sessions are shared and guarded (ExecutionContext).

On the distributed workers the services layer gives the context a ``UnitDispatcher`` (see
_context.py):
the units of a ``parallel`` Flow Control of the process itself (not inside a called process
or a Try/Catch) then go to it, which runs each as a task of its own elsewhere.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from ..model import FlowControlShape
from ..sdk import Document
from ._calls import Walker

__all__ = ["run_flow", "units"]


def units(batches: Iterable[list[Document]], size: int) -> Iterator[list[Document]]:
    """The incoming documents regrouped into units of ``size``, in order."""
    pending: list[Document] = []
    for docs in batches:
        pending.extend(docs)
        while len(pending) >= size:
            yield pending[:size]
            pending = pending[size:]
    if pending:
        yield pending


def _sub_batches(unit: list[Document], size: int) -> Iterator[list[Document]]:
    iterator = iter(unit)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def run_flow(ex: Walker, shape_id: str, model: FlowControlShape, batches: Iterable[list[Document]]) -> None:
    ctx = ex.ctx
    size = 1 if model.unit == "document" else model.batch_size
    if model.next is None:
        for docs in batches:
            ctx.path_end(len(docs))
        return
    if model.parallel == 1:
        for unit in units(batches, size):
            if ctx.return_requested:
                ctx.skip_by_return(len(unit))
                continue
            ex.follow(model.next, _sub_batches(unit, ctx.batch_size))
        return
    work = units(batches, size)
    dispatcher = ctx.unit_dispatcher
    if dispatcher is not None and ex.prefix == "" and ex.returned is None and not ctx.frames():
        first = next(work, None)
        if first is None:
            return
        work = itertools.chain([first], work)
        if all(doc.origin is None for doc in first):  # not inside a Try/Catch
            dispatcher.run_units(ctx, shape_id, model.next, model.parallel, work)
            return
    _run_parallel(ex, model, work)


def _run_parallel(ex: Walker, model: FlowControlShape, work: Iterator[list[Document]]) -> None:
    """At most ``parallel`` units run at once and as many wait, so memory stays bounded; the
    first error stops new units from starting, lets the running ones finish, and is raised."""
    ctx = ex.ctx
    frames = list(ctx.frames())
    local = threading.local()
    target = model.next

    def lane(unit: list[Document]) -> None:
        executor = getattr(local, "executor", None)
        if executor is None:
            ctx.set_frames(frames)
            executor = local.executor = ex.lane()
        if ctx.return_requested:
            ctx.skip_by_return(len(unit))
            return
        executor.follow(target, _sub_batches(unit, ctx.batch_size))

    running: set[Future[None]] = set()
    error: BaseException | None = None
    with ThreadPoolExecutor(max_workers=model.parallel, thread_name_prefix="postroom-flow") as pool:
        for unit in work:
            running.add(pool.submit(lane, unit))
            if len(running) >= 2 * model.parallel:
                done, running = wait(running, return_when=FIRST_COMPLETED)
                error = error or _first_error(done)
            if error is not None or ctx.stop.requested:
                break
        done, _ = wait(running)
        error = error or _first_error(done)
    if error is not None:
        raise error


def _first_error(done: Iterable[Future[None]]) -> BaseException | None:
    for future in done:
        exc = future.exception()
        if exc is not None:
            return exc
    return None
