"""Two serve-side schedulers (each with its own repository connection pool and RunService,
as two ``postroom serve`` processes have) on one PostgreSQL database fire each due time
exactly once: the executions with trigger ``schedule`` are counted."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from postroom.repository import Repository, open_repository
from postroom.runtime import Scheduler, SchedulerOptions
from postroom.services import RunService, import_paths
from support.listenerkit import wait_for

pytestmark = pytest.mark.postgres

COMPONENTS = """\
type: process
name: Nothing much
id: tick-process
start: start
shapes:
  start: {type: start, mode: no_data, next: note}
  note: {type: notify, message: "tick", next: stop}
  stop: {type: stop}
---
type: schedule
id: every-hour
process: tick-process
cron: "0 * * * *"
catch_up: all
"""


class Clock:
    """A time the test sets; counts the reads of each scheduler (one read per tick)."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.reads: Counter[str] = Counter()
        self.lock = threading.Lock()

    def reader(self, name: str):  # noqa: ANN201
        def read() -> datetime:
            with self.lock:
                self.reads[name] += 1
                return self.now
        return read

    def set(self, now: datetime) -> dict[str, int]:
        with self.lock:
            self.now = now
            return dict(self.reads)

    def ticked_since(self, before: dict[str, int], times: int) -> bool:
        with self.lock:
            return all(self.reads[name] >= before.get(name, 0) + times for name in ("a", "b"))


def _scheduled(repo: Repository) -> list:
    return [e for e in repo.list_executions(limit=0) if (e.request or {}).get("trigger") == "schedule"]


def test_two_schedulers_on_one_database_fire_each_due_time_once(home: Path, tmp_path: Path,
                                                                postgres_database: str) -> None:
    repos = [open_repository(postgres_database, home=home) for _ in range(2)]
    (tmp_path / "components.yaml").write_text(COMPONENTS)
    import_paths(repos[0], [tmp_path / "components.yaml"])
    created = repos[0].get_component("every-hour").created_at
    first = created.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    clock = Clock(first - timedelta(minutes=1))
    services = [RunService(r) for r in repos]
    schedulers = [Scheduler(r, s.start_request, SchedulerOptions(tick_seconds=0.005), instance=name,
                            clock=clock.reader(name))
                  for r, s, name in zip(repos, services, ("a", "b"), strict=True)]
    try:
        for scheduler in schedulers:
            scheduler.start()
        # six hours, one after the other, each seen by both schedulers many times
        for hour in range(6):
            before = clock.set(first + timedelta(hours=hour, seconds=1))
            wait_for(lambda b=before: clock.ticked_since(b, 20), 60, "both schedulers to tick 20 times")
        # then serve was away for five hours: catch_up all runs each missed hour, once
        before = clock.set(first + timedelta(hours=10, minutes=30))
        wait_for(lambda: clock.ticked_since(before, 20), 60, "both schedulers to tick 20 times")
        for scheduler in schedulers:
            scheduler.stop(10)
        wait_for(lambda: all(e.status != "running" for e in _scheduled(repos[0])), 60, "the runs to end")
    finally:
        for scheduler in schedulers:
            scheduler.stop(10)
        for service in services:
            service.shutdown()
    executions = _scheduled(repos[0])
    firings = repos[0].list_schedule_firings("every-hour", limit=100)
    assert sorted(f.due_at for f in firings) == [first + timedelta(hours=h) for h in range(11)]
    assert len(executions) == 11 and {e.status for e in executions} == {"complete"}
    assert {f.execution_id for f in firings} == {e.id for e in executions}
    assert Counter(f.instance for f in firings).keys() <= {"a", "b"}
    for r in repos:
        r.close()
