"""Run one execution from its start shape to the end, and say how it went."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from ..errors import ConnectorError, ExecutionStopped, Interrupted, PostroomError
from ..sdk import Document, Failed
from ._context import ExecutionContext
from ._executor import Executor
from ._gc import fewer_collections
from ._sandbox import check_scripts

__all__ = ["ExecutionResult", "execute", "execute_unit"]


@dataclass
class ExecutionResult:
    status: str  # complete | complete_with_errors | failed | stopped
    error: PostroomError | None = None
    documents_in: int = 0
    documents_out: int = 0
    documents_failed: int = 0

    @property
    def exit_code(self) -> int:
        if self.status == "stopped" and self.error is not None:
            return self.error.exit_code  # 128 + the signal's number (130: Ctrl-C, 143: SIGTERM)
        if self.error is not None:
            return self.error.exit_code if self.error.exit_code in (2, 3) else 1
        if self.status == "complete_with_errors":
            return 1
        return 0


def _failed_at_start(ctx: ExecutionContext, item: Failed) -> None:
    """An item a connector could not turn into a document (a broken email, from ``fetch()``
    here or from a listener's): it fails alone, recorded at the start shape, and the
    others go on."""
    ctx.count_in(1)
    item.document.seq = ctx.next_seq()
    ctx.fail(item.document, ctx.process.start, item.message)


def _start_documents(ctx: ExecutionContext, inputs: Iterable[Document | Failed] | None) -> Iterator[Document]:
    start = ctx.process.start_shape
    mode = start.mode
    if mode in ("connector", "listener") and inputs is None:
        session = ctx.session(ctx.process.start, *start.binding())
        for item in session.fetch():
            if isinstance(item, Failed):
                _failed_at_start(ctx, item)
                continue
            yield item
        return
    if mode == "no_data" or inputs is None:
        yield Document(b"")
        return
    any_input = False
    for doc in inputs:
        any_input = True
        if isinstance(doc, Failed):
            _failed_at_start(ctx, doc)
            continue
        yield doc
    if not any_input:
        yield Document(b"")


def execute(ctx: ExecutionContext, inputs: Iterable[Document] | None = None) -> ExecutionResult:
    """Run the process; never raises for a failure of the process itself (it is recorded)."""
    return _execute(ctx, lambda: Executor(ctx).run(_start_documents(ctx, inputs)), whole=True)


def execute_unit(ctx: ExecutionContext, target: str, units: list[list[Document]]) -> ExecutionResult:
    """Run the rest of a path from shape ``target`` on each unit of Flow Control documents in
    turn: units run apart from their execution (a chunk on a worker), recorded as ``execute``
    does; the execution that cut them judges the whole (every document failed on a server)."""
    def walk() -> None:
        executor = Executor(ctx)
        size = ctx.batch_size
        for unit in units:
            ctx.check_stop()
            if ctx.return_requested:
                ctx.skip_by_return(len(unit))
                continue
            executor.follow(target, (unit[i:i + size] for i in range(0, len(unit), size)))

    return _execute(ctx, walk, whole=False)


def _execute(ctx: ExecutionContext, walk: Callable[[], None], whole: bool) -> ExecutionResult:
    error: PostroomError | None = None
    status = "complete"
    try:
        check_scripts(ctx.process)  # POSTROOM_ALLOW_SCRIPTS=false: nothing runs
        try:
            with fewer_collections():  # per-document garbage, no cycles: see _gc.py
                walk()
        finally:
            ctx.join_background()  # processes called without waiting end before the execution does
    except Interrupted as exc:
        error, status = ctx.interrupted() if ctx.stop.requested else exc, "stopped"
        ctx.log_line("warning", f"execution stopped ({error.message}) with {ctx.documents_in} document(s) in, "
                     f"{ctx.documents_out} out, {ctx.documents_failed} failed; postroom executions resume "
                     f"{ctx.execution_id} continues it, and what was sent is not sent again")
    except ExecutionStopped as exc:
        error, status = exc, "failed"
        ctx.log_line("error", f"execution stopped by an exception shape: {exc.message}", exc.shape)
    except ConnectorError as exc:
        error, status = exc, "failed"
        ctx.log_line("error", str(exc))
    except PostroomError as exc:
        error, status = exc, "failed"
        ctx.log_line("error", str(exc))
    except Exception as exc:  # noqa: BLE001 - recorded, then re-raised below for the developer
        error = PostroomError(f"internal error: {type(exc).__name__}: {exc}")
        error.exit_code = 1
        status = "failed"
        ctx.log_line("error", f"internal error: {type(exc).__name__}: {exc}")
    if status == "complete" and ctx.documents_failed:
        status = "complete_with_errors"
    if status in ("complete", "complete_with_errors"):
        for session in ctx.sessions():
            try:
                session.commit()
            except PostroomError as exc:
                ctx.log_line("error", f"commit after success failed: {exc}")
                status, error = "complete_with_errors", exc
    if ctx.skipped_by_return:
        ctx.log_line("info", f"{ctx.skipped_by_return} document(s) did not run: an end-and-return stop ended the execution")
    ctx.close_sessions()
    if whole and ctx.connector_failures and error is None and ctx.connector_failures == ctx.documents_failed and not ctx.documents_out:
        # every document failed because a server could not be reached or refused the login
        error = ConnectorError("every document failed because the server could not be reached or refused the login; "
                               "see the errors above")
    ctx.recorder.flush()
    return ExecutionResult(status, error, ctx.documents_in, ctx.documents_out, ctx.documents_failed)
