"""How the listeners of one ``postroom serve`` behave (:class:`ListenerOptions`), which
processes are listeners, and what ``postroom listeners list`` and ``GET /api/listeners``
show of them (:func:`listener_report`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..errors import ConfigError
from ..repository import ComponentRecord, Repository

__all__ = ["STATES", "ListenerOptions", "is_listener", "listener_processes", "listener_report", "utc_now"]

STATES = ("starting", "running", "standby", "retrying", "failed", "stopped")


@dataclass
class ListenerOptions:
    """How every listener of one ``serve`` process behaves."""

    lease_seconds: float = 60.0
    failures_before_failed: int = 5
    backoff_initial_seconds: float = 1.0
    backoff_max_seconds: float = 300.0
    default_interval_seconds: float = 30.0
    idle_chunk_seconds: float = 10.0  # longest single IDLE wait: bounds how long a stop takes
    rescan_seconds: float = 15.0  # how often serve looks for new or removed listener processes

    @property
    def heartbeat_seconds(self) -> float:
        return self.lease_seconds / 3

    def check(self) -> None:
        if self.lease_seconds <= 0:
            raise ConfigError("the lease must last more than 0 seconds", field="--lease-seconds")
        if self.failures_before_failed < 1:
            raise ConfigError("failures before failed must be at least 1", field="--failures-before-failed")
        if self.backoff_initial_seconds <= 0 or self.backoff_max_seconds < self.backoff_initial_seconds:
            raise ConfigError("the backoff must start above 0 and be capped at no less than its start",
                              field="--max-backoff")



def utc_now() -> datetime:
    return datetime.now(UTC)


def is_listener(body: dict[str, Any]) -> bool:
    shapes = body.get("shapes") or {}
    start = shapes.get(body.get("start") or "start") if isinstance(shapes, dict) else None  # the model's default
    return isinstance(start, dict) and start.get("mode") == "listener"


def listener_processes(repo: Repository) -> dict[str, ComponentRecord]:
    """Latest version of every process whose start shape is a listener, by id."""
    return {r.id: r for r in repo.list_components(type="process") if is_listener(r.body)}


def listener_report(repo: Repository, now: datetime | None = None) -> list[dict[str, Any]]:
    """What ``postroom listeners list`` and ``GET /api/listeners`` show: every health row
    (one per listener and serve process) and, for a listener process no serve has run,
    a row in state ``not_running``. ``stale`` is true when a row that is not stopped has
    missed three heartbeats: its serve process is gone or hung."""
    now = now or datetime.now(UTC)
    processes = listener_processes(repo)
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for h in repo.list_listener_health():
        seen.add(h.listener)
        beat = float(h.details.get("heartbeat_seconds") or 20.0)
        stale = (h.state != "stopped" and h.updated_at is not None
                 and now - h.updated_at > timedelta(seconds=3 * beat + 5))
        rows.append({
            "listener": h.listener, "process_name": processes[h.listener].name if h.listener in processes else "",
            "defined": h.listener in processes, "instance": h.instance, "node": h.node, "pid": h.details.get("pid"),
            "state": h.state, "stale": stale, "holds_lease": bool(h.details.get("holds_lease")),
            "resource": h.resource, "mode": h.mode, "interval_seconds": h.interval_seconds,
            "started_at": h.started_at, "updated_at": h.updated_at, "last_check_at": h.last_check_at,
            "last_error": h.last_error, "last_error_at": h.last_error_at,
            "consecutive_failures": h.consecutive_failures, "documents_taken": h.documents_taken,
            "executions": h.executions, "last_execution_id": h.last_execution_id,
        })
    for pid, record in sorted(processes.items()):
        if pid not in seen:
            rows.append({"listener": pid, "process_name": record.name, "defined": True, "instance": None,
                         "node": None, "pid": None, "state": "not_running", "stale": False, "holds_lease": False,
                         "resource": "", "mode": "", "interval_seconds": None, "started_at": None,
                         "updated_at": None, "last_check_at": None, "last_error": None, "last_error_at": None,
                         "consecutive_failures": 0, "documents_taken": 0, "executions": 0,
                         "last_execution_id": None})
    rows.sort(key=lambda r: (r["listener"], r["instance"] or ""))
    return rows
