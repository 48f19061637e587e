"""Sending again the runs of workers that died, without waiting for Redis.

Redis gives an unacknowledged task to another worker only after the visibility timeout
(hours, so that long runs are not handed out twice). Every worker therefore also sweeps
the execution records, when it starts and then every third of the lease expiry: an
execution sent to the workers whose lease is dead (its worker was killed: on this host at
once, on another when its heartbeat is older than ``POSTROOM_EXECUTION_LEASE_SECONDS``) is
sent to the broker again, once per dead lease whichever worker sees it first (a Redis key
set only if absent). The worker that takes it resumes the execution; the original task,
when Redis hands it out after the visibility timeout, finds the execution ended."""

from __future__ import annotations

import logging
import threading
from typing import Any

from ..repository import ExecutionRecord, Repository
from ..runtime import QUEUE, RUN_TASK
from ._lease import lease_alive, lease_seconds

__all__ = ["Requeuer", "WORKERS_MARK"]

_log = logging.getLogger("postroom.worker")
WORKERS_MARK = "workers"  # key of the stored request: the execution was sent to the workers


class Requeuer:
    """Sweeps for executions whose worker died and sends them again (see the module doc)."""

    def __init__(self, repo: Repository, app: Any, node: str, redis_client: Any) -> None:
        self.repo, self.app, self.node, self.redis = repo, app, node, redis_client
        self.interval = max(1.0, lease_seconds() / 3)
        self._stop = threading.Event()

    def _orphaned(self, record: ExecutionRecord) -> bool:
        request = record.request or {}
        return bool(request.get(WORKERS_MARK)) and record.lease_pid is not None and not lease_alive(record)

    def sweep(self) -> list[str]:
        """Send again every orphaned execution this sweep is first to see; their ids."""
        sent = []
        for record in self.repo.list_executions(status="running", limit=0):
            if not self._orphaned(record):
                continue
            beat = record.heartbeat_at.isoformat() if record.heartbeat_at else ""
            if not self.redis.set(f"postroom:requeue:{record.id}:{beat}", self.node, nx=True, ex=7 * 86400):
                continue
            request = {k: v for k, v in (record.request or {}).items() if k != "exit_code"}
            self.app.send_task(RUN_TASK, kwargs={"execution_id": record.id, "request": request}, queue=QUEUE)
            _log.warning("execution %s: its worker (process %s on %s) stopped; sent to the workers again to resume",
                         record.id, record.lease_pid, record.lease_host)
            sent.append(record.id)
        return sent

    def _loop(self) -> None:
        while True:
            try:
                self.sweep()
            except Exception as exc:  # noqa: BLE001 - database or broker away: said, tried again later
                _log.warning("cannot look for executions of stopped workers: %s; trying again in %.0f s", exc,
                             self.interval)
            if self._stop.wait(self.interval):
                return

    def start(self) -> None:
        threading.Thread(target=self._loop, name="postroom-requeue", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
