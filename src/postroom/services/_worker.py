"""Runs on the distributed workers, the worker's side: the Celery task that takes a
:class:`RunRequest` (JSON) and runs it against the shared database through the same
``begin_run``/``finish_run`` as ``postroom run``.

A task is delivered again when its worker died before acknowledging it (late
acknowledgement; Redis hands it out again after the visibility timeout). The execution's
lease decides what the copy does: an ended execution is left alone, a live lease (the first
worker still runs it) is waited for, a dead one is taken over and the execution resumed
(``executions resume`` semantics: the send journal skips what the server accepted, and a
letter in flight when the worker died is sent again with its Message-ID)."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import __version__
from ..engine import ExecutionContext
from ..errors import ConnectionFailed, PostroomError
from ..repository import Repository
from ..runtime import CHUNK_TASK, RUN_TASK, RunHooks, RunRequest
from ._chunk_task import run_chunk
from ._chunks import ChunkDispatcher
from ._distributed import RESUME_NODE
from ._lease import lease_alive, lease_seconds
from ._listener_bundle import BUNDLE_KEY, BundleSession, bundle_documents
from ._run import begin_run, finish_run

__all__ = ["WorkerState", "register_tasks", "run_on_worker"]

_log = logging.getLogger("postroom.worker")
_DB_RETRY_SECONDS = 5


class WorkerState:
    """What one worker process shares between its task threads: the repository (opened
    once), its node name and the executions it runs now (for ``postroom workers list``)."""

    def __init__(self, repo: Repository, node: str, queues: list[str]) -> None:
        self.repo, self.node, self.queues = repo, node, queues
        self.started_at = datetime.now(UTC)
        #: True while the worker takes runs: from Celery's ready signal to its shutdown
        self.alive = False
        #: where a parallel Flow Control's units go (set with the tasks: it sends chunk tasks)
        self.dispatcher: ChunkDispatcher | None = None
        self._lock = threading.Lock()
        self._running: dict[str, dict[str, Any]] = {}

    def add(self, execution_id: str, process_id: str) -> None:
        with self._lock:
            self._running[execution_id] = {"execution_id": execution_id, "process_id": process_id,
                                           "started_at": datetime.now(UTC).isoformat()}

    def remove(self, execution_id: str) -> None:
        with self._lock:
            self._running.pop(execution_id, None)

    def info(self) -> dict[str, Any]:
        with self._lock:
            running = list(self._running.values())
        return {"node": self.node, "version": __version__, "queues": self.queues, "alive": self.alive,
                "started_at": self.started_at.isoformat(), "running_tasks": len(running), "running": running}


def _progress_writer(repo: Repository, execution_id: str) -> tuple[Any, threading.Event]:
    """A progress hook writing the counts to the record at most once a second (the
    submitter's progress reads them), and the flag that silences it once the run ended."""
    done = threading.Event()
    last = [0.0]
    lock = threading.Lock()

    def progress(ctx: ExecutionContext) -> None:
        now = time.monotonic()
        with lock:
            if done.is_set() or now - last[0] < 1.0:
                return
            last[0] = now
            try:
                repo.update_execution(execution_id, documents_in=ctx.documents_in, documents_out=ctx.documents_out,
                                      documents_failed=ctx.documents_failed)
            except PostroomError:  # a database hiccup: the next one will do
                pass

    return progress, done


def _wait_for_holder(repo: Repository, execution_id: str) -> bool:
    """Wait while another live worker holds the execution; False when it ended (or is gone)."""
    while True:
        record = repo.get_execution(execution_id)
        if record is None or record.status != "running":
            return False
        if not lease_alive(record):
            return True
        _log.info("execution %s is run by process %s on %s; this copy of its task waits for it",
                  execution_id, record.lease_pid, record.lease_host)
        time.sleep(max(0.5, min(5.0, lease_seconds() / 3)))


def _record_exit(repo: Repository, execution_id: str, code: int, **fields: Any) -> None:
    record = repo.get_execution(execution_id)
    request = dict(record.request or {}) if record is not None else {}
    repo.update_execution(execution_id, request={**request, "exit_code": code}, **fields)


def _cut_into_chunks(ctx: ExecutionContext, state: WorkerState) -> None:
    ctx.unit_dispatcher = state.dispatcher
    ctx.node = state.node


def run_on_worker(state: WorkerState, execution_id: str, request_json: dict[str, Any]) -> int | None:
    """Run (or resume, or leave alone) the execution; its exit code, None when this copy of
    the task had nothing to do. ConnectionFailed when the database cannot be reached."""
    repo = state.repo
    if not _wait_for_holder(repo, execution_id):
        _log.info("execution %s has ended: nothing to do", execution_id)
        return None
    before = repo.get_execution(execution_id)
    if before is None:
        return None
    request = RunRequest.from_json(request_json)
    progress, done = _progress_writer(repo, execution_id)
    chunks = lambda ctx: _cut_into_chunks(ctx, state)  # noqa: E731
    hooks = RunHooks(progress=progress, on_context=chunks)
    bundle = request_json.get(BUNDLE_KEY)
    if bundle:  # a listener's run: the documents it fetched, and a stand-in for its session
        # (a fetch's Failed items among them: the engine records those at the start shape)
        hooks = RunHooks(progress=progress, documents=bundle_documents(Path(bundle)),  # type: ignore[arg-type]
                         start_session=BundleSession(Path(bundle)), on_context=chunks)
    try:
        started = begin_run(repo, request, hooks, execution_id)
    except ConnectionFailed:
        raise
    except PostroomError as exc:
        current = repo.get_execution(execution_id)
        if current is not None and current.status == "running" and lease_alive(current):
            return None  # another worker claimed it first: theirs to run
        _log.error("execution %s cannot start: %s", execution_id, exc)
        _record_exit(repo, execution_id, exc.exit_code if exc.exit_code in (1, 2, 3) else 1, status="failed",
                     ended_at=datetime.now(UTC), error=str(exc))
        return exc.exit_code
    # a task delivered again after its worker died, or a re-run of failed documents
    started = dataclasses.replace(started, resumed=before.lease_pid is not None or before.node == RESUME_NODE)
    repo.update_execution(execution_id, node=state.node)
    state.add(execution_id, request.process_id)
    try:
        _log.info("execution %s (%s) %s on %s", execution_id, request.process_id,
                  "resumed" if started.resumed else "started", state.node)
        _, result = finish_run(started)
    finally:
        done.set()
        state.remove(execution_id)
    if started.lease.lost:
        return None
    _record_exit(repo, execution_id, result.exit_code)
    _log.info("execution %s ended: %s", execution_id, result.status)
    return result.exit_code


def register_tasks(app: Any, state: WorkerState) -> None:
    """The run and chunk tasks, and the ``postroom_info`` remote-control command ``workers
    list`` asks."""
    from celery.signals import worker_ready, worker_shutting_down
    from celery.worker.control import inspect_command

    def ready(**_: Any) -> None:
        state.alive = True

    def shutting_down(**_: Any) -> None:
        state.alive = False

    worker_ready.connect(ready, weak=False)
    worker_shutting_down.connect(shutting_down, weak=False)
    state.dispatcher = ChunkDispatcher(state.repo, app, lambda execution_id, shape, number: run_chunk(
        state.repo, state.node, execution_id, shape, number))

    @app.task(name=RUN_TASK, bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
    def run(self: Any, execution_id: str, request: dict[str, Any]) -> int | None:
        try:
            return run_on_worker(state, execution_id, request)
        except ConnectionFailed as exc:
            _log.warning("cannot reach the database for execution %s: %s; retrying in %d s", execution_id, exc,
                         _DB_RETRY_SECONDS)
            raise self.retry(countdown=_DB_RETRY_SECONDS, exc=exc) from None

    @app.task(name=CHUNK_TASK, bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
    def chunk(self: Any, execution_id: str, shape: str, number: int) -> str | None:
        key = f"{execution_id} chunk {number}"
        state.add(key, f"chunk {number} of {shape}")
        try:
            return run_chunk(state.repo, state.node, execution_id, shape, number)
        except ConnectionFailed as exc:
            _log.warning("cannot reach the database for chunk %d of execution %s: %s; retrying in %d s", number,
                         execution_id, exc, _DB_RETRY_SECONDS)
            raise self.retry(countdown=_DB_RETRY_SECONDS, exc=exc) from None
        finally:
            state.remove(key)

    @inspect_command(name="postroom_info")
    def postroom_info(_state: Any) -> dict[str, Any]:
        return state.info()
