"""Schedules, wired: the runtime's scheduler with this layer's way of starting a run
(``RunService``, so a schedule's run goes where every run started by serve goes), and the
use cases of ``postroom schedules`` and ``/api/schedules``: list, enable, disable."""

from __future__ import annotations

import copy
from typing import Any

from ..errors import ConfigError, NotFound
from ..repository import ComponentRecord, Repository
from ..runtime import Scheduler, SchedulerOptions, schedule_report
from ._run_service import RunService

__all__ = ["list_schedules", "scheduler_runtime", "set_schedule_enabled"]


def scheduler_runtime(repo: Repository, runs: RunService, options: SchedulerOptions | None = None,
                      instance: str = "") -> Scheduler:
    """The scheduler of one ``serve`` process; its runs start through ``runs``."""
    return Scheduler(repo, runs.start_request, options, instance)


def list_schedules(repo: Repository) -> list[dict[str, Any]]:
    """Every schedule with its next due time and what it last did."""
    return schedule_report(repo)


def _schedule_record(repo: Repository, schedule_id: str) -> ComponentRecord:
    record = repo.get_component(schedule_id)
    if record is None:
        raise NotFound(f"no schedule with id {schedule_id!r}", fix="see: postroom schedules list")
    if record.type != "schedule":
        raise ConfigError(f"{schedule_id!r} is a {record.type}, not a schedule", fix="see: postroom schedules list")
    return record


def set_schedule_enabled(repo: Repository, schedule_id: str, enabled: bool) -> dict[str, Any]:
    """Turn a schedule on or off: a new version of the component with ``enabled`` changed
    (so export and the component's history show it). Enabling counts from now: due times
    while it was off are not caught up. Its row of :func:`list_schedules`."""
    record = _schedule_record(repo, schedule_id)
    if bool(record.body.get("enabled", True)) != enabled:
        body = copy.deepcopy(record.body)
        body["enabled"] = enabled
        repo.save_components([ComponentRecord(id=record.id, type=record.type, name=record.name, body=body,
                                               folder=record.folder, source_file=record.source_file)])
    return next(row for row in list_schedules(repo) if row["id"] == schedule_id)
