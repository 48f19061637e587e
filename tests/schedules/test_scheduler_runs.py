"""The scheduler under serve, driven by a clock the test sets: each due time starts one run
through RunService (trigger ``schedule``, the schedule's id on the execution), catch_up
decides what happens to due times missed while no serve ran, a run that cannot start is
recorded as a failed execution, and a disabled schedule does not fire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from postroom.errors import Conflict
from postroom.repository import Repository, open_repository
from postroom.runtime import Scheduler
from postroom.services import RunService, list_schedules, set_schedule_enabled
from support.listenerkit import wait_for
from support.schedulekit import SCHEDULE, import_text, setup_hourly_note


@pytest.fixture
def repo(home: Path) -> Repository:
    r = open_repository()
    yield r
    r.close()


def _top_of_hour_after(moment: datetime, hours: int = 1) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0) + timedelta(hours=hours)


def _finished(repo: Repository, count: int) -> list:
    """The schedule's executions once ``count`` of them have ended."""
    def done() -> list | None:
        found = [e for e in repo.list_executions(limit=0) if (e.request or {}).get("trigger") == "schedule"]
        return found if len(found) == count and all(e.status != "running" for e in found) else None
    return wait_for(done, 60, f"{count} scheduled execution(s) to end")


def test_a_due_time_starts_one_run_recorded_with_trigger_schedule(repo: Repository, tmp_path: Path) -> None:
    created = setup_hourly_note(repo, tmp_path)
    runs = RunService(repo)
    scheduler = Scheduler(repo, runs.start_request, instance="serve-a")
    due = _top_of_hour_after(created)
    try:
        assert scheduler.tick(due - timedelta(seconds=1)) == []
        fired = scheduler.tick(due + timedelta(seconds=2))
        assert [(f.schedule_id, f.due_at, f.status) for f in fired] == [("hourly-note", due, "started")]
        assert scheduler.tick(due + timedelta(seconds=3)) == []  # claimed: not again
        [execution] = _finished(repo, 1)
    finally:
        runs.shutdown()
    assert execution.id == fired[0].execution_id and execution.status == "complete"
    assert execution.request["trigger"] == "schedule" and execution.request["schedule"] == "hourly-note"
    assert execution.request["instance"] == "serve-a"
    assert [p.read_text() for p in (tmp_path / "notes").iterdir()] == ["scheduled note"]
    [row] = list_schedules(repo)
    assert row["last_due_at"] == due and row["last_status"] == "started"
    assert row["last_execution_id"] == execution.id


@pytest.mark.parametrize(("catch_up", "runs_started", "status", "missed"), [
    ("none", 0, "skipped", 4), ("last", 1, "started", 4), ("all", 5, "started", 0)])
def test_catch_up_after_serve_was_away(repo: Repository, tmp_path: Path, catch_up: str, runs_started: int,
                                       status: str, missed: int) -> None:
    created = setup_hourly_note(repo, tmp_path, catch_up)
    runs = RunService(repo)
    scheduler = Scheduler(repo, runs.start_request, instance="serve-a")
    back = _top_of_hour_after(created, 5) + timedelta(minutes=10)  # five due times passed while away
    try:
        fired = scheduler.tick(back)
        assert scheduler.tick(back + timedelta(seconds=1)) == []
        executions = _finished(repo, runs_started) if runs_started else []
    finally:
        runs.shutdown()
    assert len(fired) == max(runs_started, 1)
    assert fired[-1].due_at == _top_of_hour_after(created, 5) and fired[-1].status == status
    assert fired[0].missed == missed
    assert sorted(f.due_at for f in fired) == [f.due_at for f in fired]  # oldest first
    assert {e.id for e in executions} == {f.execution_id for f in fired if f.execution_id}
    assert len(list((tmp_path / "notes").iterdir())) == runs_started
    assert [f.due_at for f in repo.list_schedule_firings("hourly-note")] == sorted(
        (f.due_at for f in fired), reverse=True)


def test_a_run_that_cannot_start_is_a_failed_execution(repo: Repository, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.delenv("NOTES_DIR_UNSET", raising=False)
    created = setup_hourly_note(repo, tmp_path, directory="${env:NOTES_DIR_UNSET}")
    runs = RunService(repo)
    due = _top_of_hour_after(created)
    try:
        [fired] = Scheduler(repo, runs.start_request, instance="serve-a").tick(due)
    finally:
        runs.shutdown()
    assert fired.status == "failed" and "NOTES_DIR_UNSET" in (fired.error or "")
    record = repo.get_execution(fired.execution_id or "")
    assert record is not None and record.status == "failed" and record.process_id == "write-note"
    assert (record.process_name, record.process_version) == ("Write a note", 1)
    assert record.error.startswith("schedule hourly-note: the run could not start: ")
    assert record.request["trigger"] == "schedule"
    [row] = list_schedules(repo)
    assert row["last_status"] == "failed" and "NOTES_DIR_UNSET" in row["last_error"]


def test_a_disabled_schedule_does_not_fire_and_counts_from_when_it_is_enabled(repo: Repository,
                                                                               tmp_path: Path) -> None:
    created = setup_hourly_note(repo, tmp_path)
    runs = RunService(repo)
    scheduler = Scheduler(repo, runs.start_request)
    try:
        assert set_schedule_enabled(repo, "hourly-note", False)["enabled"] is False
        assert scheduler.tick(_top_of_hour_after(created, 3)) == []
        row = set_schedule_enabled(repo, "hourly-note", True)
        enabled_at = repo.get_component("hourly-note").created_at
        assert row["enabled"] is True and row["version"] == 3
        # the hours while it was off are not caught up; the next one after enabling fires
        assert scheduler.tick(_top_of_hour_after(enabled_at) - timedelta(seconds=1)) == []
        assert len(scheduler.tick(_top_of_hour_after(enabled_at))) == 1
        _finished(repo, 1)
    finally:
        runs.shutdown()
    assert datetime.now(UTC) - created < timedelta(minutes=5)


def test_a_run_refused_because_serve_is_busy_is_due_again_at_the_next_tick(repo: Repository,
                                                                           tmp_path: Path) -> None:
    created = setup_hourly_note(repo, tmp_path, "all")
    runs = RunService(repo)
    calls: list[str] = []

    def start(request):  # noqa: ANN001, ANN202 - RunService, refusing the second run as a full serve does
        calls.append(request.schedule)
        if len(calls) == 2:
            raise Conflict("too many runs are waiting in this serve process", fix="try again when some have ended")
        return runs.start_request(request)

    scheduler = Scheduler(repo, start, instance="serve-a")
    back = _top_of_hour_after(created, 3) + timedelta(minutes=5)
    try:
        first = scheduler.tick(back)
        assert [f.due_at for f in first] == [_top_of_hour_after(created, 1)]  # the 2nd waits; the 3rd after it
        assert [f.due_at for f in repo.list_schedule_firings("hourly-note")] == [_top_of_hour_after(created, 1)]
        second = scheduler.tick(back + timedelta(seconds=1))
        assert [f.due_at for f in second] == [_top_of_hour_after(created, 2), _top_of_hour_after(created, 3)]
        executions = _finished(repo, 3)
    finally:
        runs.shutdown()
    assert {e.status for e in executions} == {"complete"}
    assert len(calls) == 4


def test_a_daily_schedule_runs_once_on_the_night_the_clocks_go_back(repo: Repository, tmp_path: Path) -> None:
    setup_hourly_note(repo, tmp_path)
    import_text(repo, tmp_path, "daily.yaml", SCHEDULE.format(catch_up="last").replace("hourly-note", "daily-note")
            .replace('"0 * * * *"', '"30 2 * * *"'))
    set_schedule_enabled(repo, "hourly-note", False)
    runs = RunService(repo)
    scheduler = Scheduler(repo, runs.start_request, instance="serve-a")
    paris = ZoneInfo("Europe/Paris")
    # 2027-10-31: Paris goes from 03:00 summer time back to 02:00; 02:30 comes at 00:30 and 01:30 UTC
    first, second = datetime(2027, 10, 31, 0, 30, tzinfo=UTC), datetime(2027, 10, 31, 1, 30, tzinfo=UTC)
    assert first.astimezone(paris).hour == second.astimezone(paris).hour == 2
    try:
        assert [f.due_at for f in scheduler.tick(first + timedelta(seconds=5))] == [first]
        assert scheduler.tick(second + timedelta(seconds=5)) == []  # the same wall-clock time again
        next_day = datetime(2027, 11, 1, 1, 30, tzinfo=UTC)  # 02:30 winter time
        assert [f.due_at for f in scheduler.tick(next_day + timedelta(seconds=5))] == [next_day]
        _finished(repo, 2)
    finally:
        runs.shutdown()
    [row] = [r for r in list_schedules(repo) if r["id"] == "daily-note"]
    assert row["last_due_at"] == next_day
