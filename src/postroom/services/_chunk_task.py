"""A chunk of an execution on a worker: the ``postroom.chunk`` task's work.

The task names a row of ``execution_chunks``; the worker claims it (queued to running under
its lease: host, process, heartbeat), rebuilds the execution's context from the request the
execution recorded (same process version, environment, limits, mode), runs the rest of the
Flow Control's path on the chunk's units one after another, writing logs, document errors
and test-mode documents into the one execution record and the send journal under the
chunk's keys (:class:`ChunkJournal`), and records how the chunk ended with its counts. A
copy of the task that finds the chunk taken or ended does nothing; the execution that cut
the chunk sends it again when its worker died (see ``_chunks.py``)."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
from datetime import UTC, datetime
from typing import Any

from ..engine import ExecutionContext, ExecutionResult, execute_unit
from ..errors import ConnectionFailed, PostroomError
from ..repository import ChunkRecord, Repository
from ..runtime import RunHooks, RunRequest
from ..sdk import spool_directory
from ._chunks import ChunkJournal, unpack_units
from ._lease import lease_seconds, this_host
from ._run import RepositoryRecorder, load_process, new_context

__all__ = ["ChunkRecorder", "run_chunk"]

_log = logging.getLogger("postroom.worker")


class ChunkRecorder(RepositoryRecorder):
    """The execution's record, with the send journal of one chunk."""

    def __init__(self, repo: Repository, execution_id: str, scope: str) -> None:
        super().__init__(repo, execution_id)
        self.scope = scope

    def journal(self, scope: str | None = None) -> Any:
        """The chunk's own journal; a journal scope (side effects once per inbound message) is
        the process's, shared by every chunk and execution, so it is the repository's as is."""
        if scope is not None:
            return super().journal(scope)
        return ChunkJournal(self.repo, self.execution_id, self.scope)


class _Heartbeat:
    """Renews the chunk's lease every third of the expiry; asks the chunk to stop when the
    lease was taken from it (its execution sent it again)."""

    def __init__(self, repo: Repository, chunk: ChunkRecord, ctx: ExecutionContext) -> None:
        self.repo, self.chunk, self.ctx = repo, chunk, ctx
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="postroom-chunk-heartbeat", daemon=True)

    def _loop(self) -> None:
        chunk = self.chunk
        while not self._done.wait(max(0.5, lease_seconds() / 3)):
            try:
                held = self.repo.chunk_heartbeat(chunk.execution_id, chunk.shape, chunk.number,
                                                 chunk.lease_host or "", chunk.lease_pid or 0)
            except PostroomError:
                continue  # a database hiccup: the next beat will do
            if not held:
                self.ctx.stop.request(f"chunk {chunk.number} was taken over by another worker", 1)
                return

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()


def _counts(ctx: ExecutionContext, result: ExecutionResult) -> dict[str, Any]:
    return {"out": ctx.documents_out, "failed": ctx.documents_failed, "connector_failures": ctx.connector_failures,
            "connector_counts": ctx.connector_counts, "truncated": ctx.truncated,
            "returned": ctx.return_requested, "skipped": ctx.skipped_by_return,
            "shape_counts": {shape: list(values) for shape, values in ctx.shape_counts.items()},
            "exit_code": result.exit_code}


def _run(repo: Repository, chunk: ChunkRecord, inputs: dict[str, Any]) -> tuple[str, dict[str, Any], str | None]:
    record = repo.get_execution(chunk.execution_id)
    if record is None:
        return "failed", {}, f"execution {chunk.execution_id} is gone"
    request = RunRequest.from_json(record.request or {})
    loaded = load_process(repo, request)
    units = unpack_units(inputs.get("units") or [])
    seq_base = max((doc.seq for unit in units for doc in unit), default=0)
    recorder = ChunkRecorder(repo, chunk.execution_id, f"{chunk.shape}/{chunk.number}")
    ctx = new_context(repo, loaded, chunk.execution_id, request, RunHooks(), recorder, seq_base)
    ctx.dynamic_process_properties.update(inputs.get("properties") or {})
    spool = tempfile.mkdtemp(prefix=f"postroom-{chunk.execution_id[:8]}-c{chunk.number}-")
    try:
        with _Heartbeat(repo, chunk, ctx), spool_directory(spool):
            result = execute_unit(ctx, str(inputs["target"]), units)
    finally:
        shutil.rmtree(spool, ignore_errors=True)
    return result.status, _counts(ctx, result), str(result.error) if result.error else None


def run_chunk(repo: Repository, node: str, execution_id: str, shape: str, number: int) -> str | None:
    """Claim and run one chunk; how it ended, None when this copy of its task had nothing to
    do. ConnectionFailed when the database cannot be reached (the task tries again)."""
    host, pid = this_host(), os.getpid()
    inputs = repo.claim_chunk(execution_id, shape, number, node, host, pid)
    if inputs is None:
        _log.info("execution %s: chunk %d of %s is taken or ended: nothing to do", execution_id, number, shape)
        return None
    chunk = ChunkRecord(execution_id, shape, number, status="running", node=node, lease_host=host, lease_pid=pid)
    _log.info("execution %s: chunk %d of %s started on %s", execution_id, number, shape, node)
    try:
        status, counts, error = _run(repo, chunk, inputs)
    except ConnectionFailed:
        raise
    except PostroomError as exc:  # the request or the process cannot be loaded here
        status, counts, error = "failed", {"exit_code": exc.exit_code}, str(exc)
    except Exception as exc:  # noqa: BLE001 - recorded: a chunk left running would be sent again and again
        _log.exception("execution %s: chunk %d of %s: internal error", execution_id, number, shape)
        status, counts, error = "failed", {"exit_code": 1}, f"internal error: {type(exc).__name__}: {exc}"
    ended = ChunkRecord(execution_id, shape, number, status=status, lease_host=host, lease_pid=pid, counts=counts,
                        error=error, ended_at=datetime.now(UTC))
    if not repo.end_chunk(ended):
        _log.warning("execution %s: chunk %d of %s was taken over meanwhile; its end is not recorded here",
                     execution_id, number, shape)
        return None
    _log.info("execution %s: chunk %d of %s ended: %s", execution_id, number, shape, status)
    return status
