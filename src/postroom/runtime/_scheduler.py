"""Schedules under ``postroom serve``: every ``tick_seconds`` the scheduler of each serve
process reads the schedule components and their latest claimed due times, and for each due
time that came (``_schedule_times.plan``):

1. **claims** it: one row (schedule id, due time) in the repository, whose primary key lets
   exactly one of any number of serve processes on the database insert it,
2. the one that did **starts** the run through the port it was handed (``services`` hands
   ``RunService``: a RunRequest with trigger ``schedule``, the schedule's id and
   environment), and records the execution id on the row; a run that cannot start (the
   process was deleted, a secret is missing, too many runs wait) is recorded on the row
   and as a failed execution of the process, so ``executions list`` shows it. A run refused
   only because too many runs wait in this serve (``Conflict``) gives its claim back: the
   due time is due again at the next tick (``catch_up: all`` after a long absence thus
   starts its runs as room frees up, oldest first).

A schedule counts from its latest claimed due time, or from when its current version was
stored (importing, editing or enabling it): a new or re-enabled schedule does not catch up on
times before it existed. A serve that dies between claiming and starting loses that one run
(the row says ``claimed``, with no execution): a run is never started twice.
"""

from __future__ import annotations

import logging
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..errors import ConfigError, Conflict, PostroomError
from ..model import Schedule
from ..repository import ComponentRecord, ExecutionRecord, Repository, ScheduleFiring
from ._request import RunRequest
from ._schedule_times import Due, next_due, plan

__all__ = ["ScheduleSpec", "Scheduler", "SchedulerOptions", "schedule_report", "schedule_specs"]

log = logging.getLogger("postroom.schedules")

#: how a scheduler starts a run: the execution id, or a PostroomError saying why it cannot
StartRun = Callable[[RunRequest], str]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SchedulerOptions:
    """``tick_seconds``: how often the scheduler looks (a run starts at most this late);
    ``grace_seconds``: how late a due time may be seen and still count as on time (not
    missed); ``max_catch_up``: most runs ``catch_up: all`` starts at once; firings older
    than ``keep_days`` are deleted hourly (each schedule's latest is kept)."""

    tick_seconds: float = 1.0
    grace_seconds: float = 60.0
    max_catch_up: int = 100
    keep_days: float = 30.0

    def check(self) -> None:
        if self.tick_seconds <= 0 or self.tick_seconds > 60:
            raise ConfigError(f"the scheduler tick {self.tick_seconds:g} s is out of range",
                              field="--scheduler-tick", fix="give a number of seconds above 0 and at most 60")


@dataclass(frozen=True)
class ScheduleSpec:
    """A stored schedule as the scheduler reads it; ``since``: when its version was stored."""

    schedule: Schedule
    version: int
    since: datetime

    @property
    def id(self) -> str:
        return self.schedule.id


def schedule_specs(repo: Repository) -> list[ScheduleSpec]:
    """Every stored schedule that validates (one that does not is logged and left out)."""
    specs = []
    for record in repo.list_components(type="schedule"):
        spec = _spec(record)
        if spec is not None:
            specs.append(spec)
    return sorted(specs, key=lambda s: s.id)


def _spec(record: ComponentRecord) -> ScheduleSpec | None:
    try:
        schedule = Schedule.model_validate(record.body)
    except ValueError as exc:  # stored by an older Postroom with other rules
        log.warning("schedule %s cannot be read: %s", record.id, exc)
        return None
    return ScheduleSpec(schedule, record.version, record.created_at or utc_now())


def _after(spec: ScheduleSpec, last: ScheduleFiring | None) -> datetime:
    return max(spec.since, last.due_at) if last is not None else spec.since


def schedule_report(repo: Repository, now: datetime | None = None) -> list[dict[str, Any]]:
    """One row per schedule: ``schedules list`` and ``GET /api/schedules``."""
    now = now or utc_now()
    last = repo.last_schedule_firings()
    rows = []
    for spec in schedule_specs(repo):
        s, fired = spec.schedule, last.get(spec.id)
        rows.append({
            "id": s.id, "name": s.name, "process": s.process, "cron": s.cron, "timezone": s.timezone,
            "environment": s.environment, "enabled": s.enabled, "catch_up": s.catch_up, "version": spec.version,
            "next_due_at": next_due(s.cron, s.timezone, now) if s.enabled else None,
            "last_due_at": fired.due_at if fired else None, "last_fired_at": fired.fired_at if fired else None,
            "last_status": fired.status if fired else None, "last_execution_id": fired.execution_id if fired else None,
            "last_error": fired.error if fired else None})
    return rows


class _Busy(Exception):
    """This serve cannot start another run now; the claim was released."""


class Scheduler:
    """The scheduler of one serve process: a thread that ticks until stopped. ``clock``
    gives the time (tests pass their own and call :meth:`tick` directly)."""

    def __init__(self, repo: Repository, start_run: StartRun, options: SchedulerOptions | None = None,
                 instance: str = "", clock: Callable[[], datetime] = utc_now) -> None:
        self.repo = repo
        self.start_run = start_run
        self.options = options or SchedulerOptions()
        self.options.check()
        self.instance = instance
        self.clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._pruned_at: datetime | None = None
        self._failing: str | None = None  # the error of the looks failing in a row, said once

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception as exc:  # noqa: BLE001 - the database may be away; look again next tick
                if str(exc) != self._failing:  # once per outage (and per new error), not every tick
                    log.warning("schedules: cannot look at the schedules (trying again every %g s): %s",
                                self.options.tick_seconds, exc)
                self._failing = str(exc)
            else:
                if self._failing is not None:
                    log.info("schedules: looking at the schedules again")
                self._failing = None
            self._stop.wait(self.options.tick_seconds)

    def tick(self, now: datetime | None = None) -> list[ScheduleFiring]:
        """Claim and start what is due at ``now`` (default: the clock); the due times this
        scheduler claimed."""
        now = now or self.clock()
        last = self.repo.last_schedule_firings()
        claimed: list[ScheduleFiring] = []
        for spec in schedule_specs(self.repo):
            if not spec.schedule.enabled or self._stop.is_set():
                continue
            s = spec.schedule
            steps = plan(s.cron, s.timezone, s.catch_up, _after(spec, last.get(spec.id)), now,
                         grace=timedelta(seconds=self.options.grace_seconds), max_catch_up=self.options.max_catch_up)
            for step in steps:
                try:
                    firing = self._fire(spec, step, now)
                except _Busy:
                    break  # the rest of this schedule's due times wait for the next tick
                if firing is not None:
                    claimed.append(firing)
        self._prune(now)
        return claimed

    def _fire(self, spec: ScheduleSpec, step: Due, now: datetime) -> ScheduleFiring | None:
        status = "claimed" if step.action == "start" else "skipped"
        firing = ScheduleFiring(spec.id, step.due_at, status, self.instance, now, missed=step.missed)
        if not self.repo.claim_schedule_firing(firing):
            return None  # another serve process claimed it first
        if step.action == "skip":
            log.info("schedule %s: skipped %d missed due time(s) up to %s (catch_up: none)", spec.id,
                     step.missed + 1, step.due_at.isoformat())
            return firing
        request = RunRequest(process_id=spec.schedule.process, environment=spec.schedule.environment,
                             trigger="schedule", schedule=spec.id, instance=self.instance or None)
        try:
            execution_id = self.start_run(request)
        except Conflict as exc:  # too many runs wait in this serve: the due time is due again next tick
            self.repo.release_schedule_firing(spec.id, step.due_at)
            log.info("schedule %s: the run due at %s waits: %s", spec.id, step.due_at.isoformat(), exc)
            raise _Busy from None
        except PostroomError as exc:
            return self._refused(spec, firing, request, str(exc))
        self.repo.finish_schedule_firing(spec.id, step.due_at, status="started", execution_id=execution_id)
        log.info("schedule %s: due at %s, started execution %s", spec.id, step.due_at.isoformat(), execution_id)
        return ScheduleFiring(spec.id, step.due_at, "started", self.instance, now, execution_id, None, step.missed)

    def _refused(self, spec: ScheduleSpec, firing: ScheduleFiring, request: RunRequest,
                 message: str) -> ScheduleFiring:
        """The run could not start: said on the firing and as a failed execution of the process."""
        log.warning("schedule %s: the run due at %s could not start: %s", spec.id, firing.due_at.isoformat(), message)
        now = utc_now()
        execution_id: str | None = uuid.uuid4().hex
        try:
            process = self.repo.get_component(spec.schedule.process)
            self.repo.create_execution(ExecutionRecord(
                id=execution_id or "", process_id=spec.schedule.process,
                process_version=process.version if process else 0, process_name=process.name if process else "",
                status="failed", mode="normal", started_at=now, ended_at=now, node=socket.gethostname(),
                error=f"schedule {spec.id}: the run could not start: {message}",
                request={**request.to_json(), "kind": "schedule_start"}))
        except Exception as exc:  # noqa: BLE001 - the firing row still says why
            log.warning("schedule %s: cannot record the failure: %s", spec.id, exc)
            execution_id = None
        self.repo.finish_schedule_firing(spec.id, firing.due_at, status="failed", execution_id=execution_id,
                                         error=message)
        return ScheduleFiring(spec.id, firing.due_at, "failed", self.instance, firing.fired_at, execution_id,
                              message, firing.missed)

    def _prune(self, now: datetime) -> None:
        if self._pruned_at is not None and now - self._pruned_at < timedelta(hours=1):
            return
        self._pruned_at = now
        try:
            self.repo.prune_schedule_firings(now - timedelta(days=self.options.keep_days))
        except Exception as exc:  # noqa: BLE001 - tried again in an hour
            log.warning("schedules: cannot delete old firings: %s", exc)
