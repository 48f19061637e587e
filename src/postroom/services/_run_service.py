"""Runs started from the API: checked and recorded at once (the execution row exists before
the caller gets its id), executed in the background by a small bounded pool of threads of
this serve process, or, when ``POSTROOM_BROKER_URL`` is set, by the distributed workers
(:class:`Submitter`; a watcher thread publishes the progress the workers record).

Inputs sent as text are written to the home's files area and passed by reference (path and
fingerprint), like ``postroom run --input``: the request stays data, never a live object."""

from __future__ import annotations

import logging
import re
import shutil
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import ConfigError, Conflict
from ..repository import Repository, data_home
from ..runtime import InputFile, RunHooks, RunRequest, broker_url
from ._distributed import Submitter
from ._progress import ExecutionEvents, live_state, recorded_state
from ._run import StartedRun, begin_run, finish_run, resume_request

__all__ = ["RunService", "write_inputs"]

_log = logging.getLogger("postroom.runs")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]")


def write_inputs(files: Path, inputs: list[dict[str, Any]]) -> tuple[InputFile, ...]:
    """Each ``{"name", "text"}`` as a file of its own under ``files/inputs/<id>/``."""
    if not inputs:
        return ()
    folder = files / "inputs" / uuid.uuid4().hex
    folder.mkdir(parents=True, mode=0o700)
    written = []
    for index, item in enumerate(inputs):
        name = _SAFE_NAME.sub("_", Path(str(item.get("name") or f"input-{index + 1}.txt")).name).strip(" .")
        text = item.get("text")
        if not isinstance(text, str):
            raise ConfigError("an input needs its text", field=f"inputs.{index}.text",
                              fix='send {"name": "patients.csv", "text": "..."}')
        path = folder / f"{index + 1:03d}-{name or 'input.txt'}"
        path.write_text(text, encoding="utf-8")
        written.append(InputFile(str(path)))
    return tuple(written)


class RunService:
    """Starts runs in the background and publishes their progress to ``events``."""

    def __init__(self, repo: Repository, *, workers: int = 2, waiting: int = 16,
                 files: Path | None = None) -> None:
        self.repo = repo
        self.events = ExecutionEvents()
        self.files = files
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="postroom-run")
        self._slots = threading.BoundedSemaphore(workers + waiting)
        self._running: dict[str, RunHooks] = {}
        url = broker_url(required=False)
        self.submitter = Submitter(repo, url) if url else None  # SQLite with a broker: ConfigError (exit 2)

    def _hooks(self) -> RunHooks:
        return RunHooks(progress=lambda ctx: self.events.publish(ctx.execution_id, live_state(ctx)))

    def start(self, process_id: str, mode: str = "normal", environment: str | None = None,
              inputs: list[dict[str, Any]] | None = None) -> str:
        """Check, record and start a run (trigger ``api``); its execution id."""
        files = self.files or data_home() / "files"
        written = write_inputs(files, inputs or [])
        try:
            request = RunRequest(process_id=process_id, mode=mode, environment=environment,  # type: ignore[arg-type]
                                 trigger="api", inputs=written)
            return self._begin(request, None)
        except BaseException:
            if written:  # refused before it ran: its inputs are nobody's
                shutil.rmtree(Path(written[0].path).parent, ignore_errors=True)
            raise

    def start_request(self, request: RunRequest) -> str:
        """Check, record and start a run another part of serve built (a schedule's); its
        execution id. Errors (the process is gone, a secret is missing, too many runs wait)
        are the caller's, and nothing is recorded then."""
        return self._begin(request, None)

    def rerun(self, execution_id: str) -> str:
        """Run an execution's failed documents again: the execution is resumed on the inputs it
        recorded, and what the send journal recorded as accepted is skipped (``postroom
        executions resume``), so only what failed is sent again."""
        record = self.repo.get_execution(execution_id)
        if record is not None and record.status == "complete" and not record.documents_failed:
            raise Conflict(f"execution {execution_id} has no failed documents to run again",
                           fix="start a new run of the process instead")
        return self._begin(resume_request(self.repo, execution_id), execution_id)

    def _begin(self, request: RunRequest, execution_id: str | None) -> str:
        if self.submitter is not None:
            return self._begin_on_workers(request, execution_id)
        if not self._slots.acquire(blocking=False):
            raise Conflict("too many runs are waiting in this serve process", fix="try again when some have ended")
        try:
            hooks = self._hooks()
            started = begin_run(self.repo, request, hooks, execution_id)
        except BaseException:
            self._slots.release()
            raise
        self.events.publish(started.execution_id, {**recorded_state(self.repo.get_execution(  # type: ignore[arg-type]
            started.execution_id)), "status": "running", "final": False})
        self._running[started.execution_id] = hooks
        self.submit(started)
        return started.execution_id

    def _begin_on_workers(self, request: RunRequest, execution_id: str | None) -> str:
        """Record the run (checked here: bad configuration is the caller's error), send it to
        the workers, and follow its record in a thread of this process."""
        submitter: Submitter = self.submitter  # type: ignore[assignment]
        submitter.ping()
        execution_id = submitter.queue_resume(execution_id) if execution_id else submitter.queue(request)
        submitter.send(execution_id)
        self.events.publish(execution_id, {**recorded_state(self.repo.get_execution(execution_id)),  # type: ignore[arg-type]
                                           "status": "running", "final": False})
        threading.Thread(target=self._watch, args=(execution_id,), name=f"postroom-watch-{execution_id[:8]}",
                         daemon=True).start()
        return execution_id

    def _watch(self, execution_id: str) -> None:
        """Publish what the workers record until the execution ends."""
        try:
            self.submitter.wait(execution_id, lambda record: self.events.publish(  # type: ignore[union-attr]
                execution_id, recorded_state(record)), poll=0.5)
        except Exception:  # noqa: BLE001 - the record stays the truth; only the live view stops
            _log.exception("lost track of execution %s on the workers", execution_id)

    def submit(self, started: StartedRun) -> None:
        """Execute a begun run (here: a thread of this process)."""
        self._pool.submit(self._finish, started)

    def _finish(self, started: StartedRun) -> None:
        execution_id = started.execution_id
        try:
            finish_run(started)
        except BaseException as exc:  # noqa: BLE001 - the record says why; the thread goes on
            _log.exception("execution %s ended with an error", execution_id)
            self.repo.update_execution(execution_id, status="failed", ended_at=datetime.now(UTC), error=str(exc))
        finally:
            self._running.pop(execution_id, None)
            self._slots.release()
            record = self.repo.get_execution(execution_id)
            if record is not None:
                self.events.publish(execution_id, recorded_state(record))

    def shutdown(self) -> None:
        """Ask every running execution to stop after what is in flight, and wait for them."""
        for hooks in list(self._running.values()):
            hooks.stop.request("postroom serve is stopping", 1)
        self._pool.shutdown(wait=True)
