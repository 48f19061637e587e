"""Runs on the distributed workers, the submitting side: check and record a run here (the
execution row exists before the task is sent, so the caller has its id and bad
configuration fails here with exit 2), send its :class:`RunRequest` as JSON to the broker,
and follow the execution record the worker writes until it ends.

A queued execution is ``running`` with no lease and the node ``queued``; the worker that
takes the task claims its lease (the same compare-and-set as ``executions resume``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ..errors import ConfigError, ConnectionFailed
from ..repository import URL_ENV, ExecutionRecord, Repository
from ..runtime import QUEUE, RUN_TASK, RunHooks, RunRequest, broker_url, celery_app, ping_broker
from ._requeue import WORKERS_MARK
from ._run import begin_run, resume_request

__all__ = ["QUEUED_NODE", "RESUME_NODE", "Submitter", "exit_code_of", "require_shared_database"]

QUEUED_NODE = "queued"
RESUME_NODE = "queued (resume)"  # a re-run: the worker logs that it resumes
_ENDED_GRACE = 5.0  # seconds to wait for the worker's exit code after the status ended


def require_shared_database(repo: Repository) -> None:
    """ConfigError (exit 2) when the repository is SQLite: workers on other hosts (or other
    processes) need one database they all reach."""
    dialect = getattr(getattr(repo, "engine", None), "dialect", None)
    if dialect is not None and dialect.name == "sqlite":
        raise ConfigError(
            "the distributed workers need a shared PostgreSQL database, and this one is SQLite", field=URL_ENV,
            fix=f"set {URL_ENV}=postgresql://USER:PASSWORD@HOST:5432/postroom for the workers and every postroom "
                "that submits to them (see docs/scale.md), or run without --workers / POSTROOM_BROKER_URL")


def exit_code_of(record: ExecutionRecord) -> int | None:
    """The exit code the worker recorded for an ended execution (None: not yet)."""
    code = (record.request or {}).get("exit_code")
    return int(code) if isinstance(code, int) else None


def _derived_exit_code(record: ExecutionRecord) -> int:
    return {"complete": 0, "complete_with_errors": 1}.get(record.status, 1)


class Submitter:
    """Sends runs to the workers through the broker (``POSTROOM_BROKER_URL``)."""

    def __init__(self, repo: Repository, url: str | None = None) -> None:
        require_shared_database(repo)
        self.repo = repo
        self.url: str = url or broker_url()  # type: ignore[assignment]
        self._app: Any = None

    @property
    def app(self) -> Any:
        if self._app is None:
            self._app = celery_app(self.url)
        return self._app

    def ping(self) -> None:
        """ConnectionFailed (exit 3) naming POSTROOM_BROKER_URL when the broker does not answer."""
        ping_broker(self.url)

    def queue(self, request: RunRequest) -> str:
        """Check and record a new run; its execution id (nothing sent yet)."""
        started = begin_run(self.repo, request, RunHooks(), None)
        self._unleased(started.execution_id)
        return started.execution_id

    def queue_resume(self, execution_id: str) -> str:
        """Make an interrupted (or partly failed) execution ready to be resumed by a worker."""
        resume_request(self.repo, execution_id)  # refuses a live lease, a changed input
        self.repo.update_execution(execution_id, status="running", ended_at=None, error=None)
        self._unleased(execution_id, RESUME_NODE)
        return execution_id

    def _unleased(self, execution_id: str, node: str = QUEUED_NODE) -> None:
        record = self.repo.get_execution(execution_id)
        request = {**(record.request if record is not None else {}), WORKERS_MARK: True}
        request.pop("exit_code", None)
        self.repo.update_execution(execution_id, lease_host=None, lease_pid=None, heartbeat_at=None, node=node,
                                   request=request)

    def send(self, execution_id: str) -> None:
        """Send the execution's recorded request to the workers; when the broker refuses it,
        the execution is recorded failed and ConnectionFailed (exit 3) raised."""
        record = self.repo.get_execution(execution_id)
        request = dict(record.request or {}) if record is not None else {}
        request.pop("exit_code", None)
        try:
            self.app.send_task(RUN_TASK, kwargs={"execution_id": execution_id, "request": request}, queue=QUEUE,
                               retry=False)
        except Exception as exc:  # noqa: BLE001 - kombu's and redis' errors: the broker refused
            error = ConnectionFailed(f"the run could not be sent to the broker: {exc}", field="POSTROOM_BROKER_URL",
                                     fix="check that Redis runs at POSTROOM_BROKER_URL and try again")
            self.repo.update_execution(execution_id, status="failed", ended_at=datetime.now(UTC), error=str(error),
                                       request={**request, "exit_code": 3})
            raise error from None

    def wait(self, execution_id: str, on_update: Callable[[ExecutionRecord], None] | None = None,
             poll: float = 0.3) -> tuple[ExecutionRecord, int]:
        """Follow the execution until it ends; its record and exit code (as in-process)."""
        ended_at: float | None = None
        while True:
            record = self.repo.get_execution(execution_id)
            if record is None:
                raise ConfigError(f"execution {execution_id} disappeared while it ran",
                                  fix="see postroom executions list")
            if on_update is not None:
                on_update(record)
            if record.status != "running":
                code = exit_code_of(record)
                if code is not None:
                    return record, code
                ended_at = ended_at or time.monotonic()
                if time.monotonic() - ended_at > _ENDED_GRACE:
                    return record, _derived_exit_code(record)
            time.sleep(poll)

    def close(self) -> None:
        if self._app is not None:
            self._app.close()
