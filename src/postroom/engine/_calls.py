"""Process Call and Return Documents.

The called process runs in the same execution: its shapes appear in the record as
``CALL/SHAPE`` (the calling shape's id, a slash, the child's shape id), its documents are
counted with the execution's, and its connector sessions are its own (a send in the child
is journaled under its prefixed shape id, so each email is keyed once).

* ``wait: true``: the child takes the documents (copies: what it changes stays in the
  child unless it returns them), and what reaches its Return Documents goes on to ``next``
  after the child has finished, in the order it arrived there. Failures in the child: with
  ``abort_on_error: true`` the call fails its documents as a process error (a Try/Catch
  around the call that catches all errors takes them; otherwise the execution fails); with
  ``false`` the failures stay on record and the parent goes on with what returned.
* ``wait: false``: the child starts in a thread on copies of the documents and the inputs
  go on to ``next`` at once; what it returns is dropped; the execution ends when it ends.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Protocol

from ..errors import ConfigError, Interrupted, PostroomError
from ..model import Process, ProcessCallShape
from ..sdk import Document
from ._context import CallFrame, Catch, ExecutionContext
from ._spool import Spool
from .shapes._base import ShapeRunner

__all__ = ["Returned", "Walker", "run_call", "run_return", "called_process", "ProcessCallFailed"]


MAX_DEPTH = 32


class ProcessCallFailed(PostroomError):
    """A called process failed and the call has abort_on_error: true."""

    exit_code = 1


class Walker(Protocol):
    """What the shapes that run other paths or processes (Process Call, Return Documents,
    Flow Control) ask of the walk (``_executor.Executor``)."""

    ctx: ExecutionContext
    process: Process
    prefix: str
    returned: Returned | None

    def follow(self, target: str | None, batches: Iterable[list[Document]]) -> None: ...

    def runner(self, shape_id: str) -> ShapeRunner: ...

    def lane(self) -> Walker: ...

    def called(self, process: Process, prefix: str, returned: Returned) -> Walker:
        """A walk of the called ``process`` in this execution."""
        ...

    def run_called(self, batches: Iterable[list[Document]]) -> None: ...


class Returned:
    """The documents a called process returns, in arrival order (Flow Control lanes inside
    the child add to it from several threads)."""

    def __init__(self, batch_size: int) -> None:
        self._spool = Spool(batch_size)
        self._lock = threading.Lock()

    def extend(self, docs: list[Document]) -> None:
        with self._lock:
            self._spool.extend(docs)

    def __len__(self) -> int:
        return len(self._spool)

    def batches(self) -> Iterator[list[Document]]:
        return self._spool.batches()

    def discard(self) -> None:
        self._spool.discard()


def run_return(ex: Walker, shape_id: str, model: object, batches: Iterable[list[Document]]) -> None:
    """Return Documents: back to the caller; in a process run on its own, the path ends."""
    if ex.returned is None:
        for _ in ex.runner(shape_id).run(batches):
            pass
        return
    for docs in batches:
        ex.returned.extend(docs)


def called_process(ctx: ExecutionContext, process_id: str, caller: str, shape_id: str) -> Process:
    """The process a call names, checked: it exists and starts with data_passthrough."""
    comp = ctx.components(process_id)
    if not isinstance(comp, Process):
        raise ConfigError(f"process {process_id!r} does not exist", component=caller, shape=shape_id,
                          field="process", fix=f"import a process with id {process_id}, or fix the id")
    mode = comp.start_shape.mode
    if mode != "data_passthrough":
        raise ConfigError(
            f"process {process_id} is called by process {caller} but its start shape is {mode}",
            component=caller, shape=shape_id, field="process",
            fix=f"set mode: data_passthrough on the start shape of process {process_id}")
    return comp


def _detached(batches: Iterable[list[Document]], origins: dict[int, object]) -> Iterator[list[Document]]:
    """Copies for the child, outside any Try/Catch of the caller; each original's place kept."""
    for docs in batches:
        out = []
        for doc in docs:
            origins[doc.seq] = doc.origin
            child = doc.copy()
            child.origin = None
            out.append(child)
        yield out


def run_call(ex: Walker, shape_id: str, model: ProcessCallShape, batches: Iterable[list[Document]]) -> None:
    ctx = ex.ctx
    child = called_process(ctx, model.process, ex.process.id, ex.prefix + shape_id)
    prefix = f"{ex.prefix}{shape_id}/"
    if len(ctx.frames()) >= MAX_DEPTH:  # import refuses recursion; this guards older records
        raise ConfigError(f"process calls nest deeper than {MAX_DEPTH} at {prefix.rstrip('/')}: a process calls "
                          "itself, directly or through others", component=ex.process.id, shape=shape_id,
                          field="process", fix="remove one of the process calls of the cycle, then import again")
    if not model.wait:
        ex.follow(model.next, _start_without_waiting(ex, child, prefix, batches))
        return
    returned = Returned(ctx.batch_size)
    origins: dict[int, object] = {}
    frame = CallFrame(child.id, profile=child.profile)
    frames = ctx.frames()
    frames.append(frame)
    before, ctx.return_requested = ctx.return_requested, False
    error: PostroomError | None = None
    try:
        ex.called(child, prefix, returned).run_called(_detached(batches, origins))
    except Interrupted:
        raise
    except PostroomError as exc:
        error = exc
        ctx.log_line("error", f"process {child.id} stopped: {exc}", ex.prefix + shape_id)
    finally:
        frames.pop()
        ctx.return_requested = before  # an end-and-return stop in the child ends the child only
    where = ex.prefix + shape_id
    if (error is not None or frame.failed) and model.abort_on_error:
        returned.discard()
        _abort(child, where, frame.failed, error, frame.first_error, origins)
        return
    if error is not None or frame.failed:
        ctx.log_line("warning", f"process {child.id} had errors; going on with the {len(returned)} document(s) "
                     "it returned (abort_on_error: false)", where)
    ex.follow(model.next, _restored(returned.batches(), origins))


def _restored(batches: Iterable[list[Document]], origins: dict[int, object]) -> Iterator[list[Document]]:
    """Returned documents take back their place in the caller's Try/Catch."""
    for docs in batches:
        for doc in docs:
            doc.origin = origins.get(doc.seq)
        yield docs


def _abort(child: Process, where: str, failed: int, error: PostroomError | None, first: str,
           origins: dict[int, object]) -> None:
    message = (f"process {child.id} failed ({failed} document(s) failed in it; first: {first})" if failed
               else f"process {child.id} failed: {error}")
    scopes = [o for o in origins.values() if isinstance(o, Catch) and o.scope.trigger == "all_errors"]
    if scopes and len(scopes) == len(origins):
        for origin in scopes:
            origin.scope.failed.append((origin.original, message))
        return
    if error is not None and not failed:
        raise error  # the child's own error (a configuration error keeps its exit code 2)
    raise ProcessCallFailed(message, shape=where, fix="fix the called process, or set abort_on_error: false on "
                            "the call to go on with the documents it returned")


def _start_without_waiting(ex: Walker, child: Process, prefix: str,
                           batches: Iterable[list[Document]]) -> Iterator[list[Document]]:
    """Copies to the child (started once every input is in), the inputs on to ``next``."""
    ctx = ex.ctx
    copies = Spool(ctx.batch_size)
    originals = Spool(ctx.batch_size)
    for docs in batches:
        originals.extend(docs)
        copies.extend([doc.copy() for doc in docs])

    def work() -> None:
        frame = CallFrame(child.id, counted=False, profile=child.profile)
        ctx.frames().append(frame)
        try:
            ex.called(child, prefix, Returned(ctx.batch_size)).run_called(_detached(copies.batches(), {}))
        except PostroomError as exc:
            ctx.log_line("error", f"process {child.id} (not waited for) stopped: {exc}", prefix.rstrip("/"))
        except Exception as exc:  # noqa: BLE001 - a thread must record, not vanish
            ctx.log_line("error", f"process {child.id} (not waited for): internal error: {exc}", prefix.rstrip("/"))

    ctx.start_background(f"postroom-call-{child.id}", work)
    yield from originals.batches()
