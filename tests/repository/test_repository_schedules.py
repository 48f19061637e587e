"""Schedule firings in the repository, on SQLite and PostgreSQL: a due time is claimed once
(also by threads racing), the latest per schedule, release and prune."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from postroom.repository import Repository, ScheduleFiring

DUE = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)


@pytest.mark.fast_on_sqlite
def test_a_due_time_is_claimed_once(repo: Repository) -> None:
    assert repo.claim_schedule_firing(ScheduleFiring("nightly", DUE, "claimed", "a"))
    assert not repo.claim_schedule_firing(ScheduleFiring("nightly", DUE, "claimed", "b"))
    assert repo.claim_schedule_firing(ScheduleFiring("other", DUE, "claimed", "b"))
    repo.finish_schedule_firing("nightly", DUE, status="started", execution_id="e1")
    [row] = repo.list_schedule_firings("nightly")
    assert (row.instance, row.status, row.execution_id, row.due_at) == ("a", "started", "e1", DUE)
    assert row.fired_at is not None and row.fired_at.tzinfo is not None


def test_threads_racing_for_one_due_time_one_wins(repo: Repository) -> None:
    wins: list[str] = []
    barrier = threading.Barrier(6)

    def claim(name: str) -> None:
        barrier.wait()
        if repo.claim_schedule_firing(ScheduleFiring("nightly", DUE, "claimed", name)):
            wins.append(name)

    threads = [threading.Thread(target=claim, args=(f"serve-{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(wins) == 1 and [f.instance for f in repo.list_schedule_firings("nightly")] == wins


@pytest.mark.fast_on_sqlite
def test_latest_release_and_prune(repo: Repository) -> None:
    old = datetime.now(UTC) - timedelta(days=40)
    for hours in range(3):
        repo.claim_schedule_firing(ScheduleFiring("hourly", DUE + timedelta(hours=hours), "started", "a", old))
    repo.claim_schedule_firing(ScheduleFiring("daily", DUE, "skipped", "a", old, missed=3))
    latest = repo.last_schedule_firings()
    assert {k: (v.due_at, v.status, v.missed) for k, v in latest.items()} == {
        "hourly": (DUE + timedelta(hours=2), "started", 0), "daily": (DUE, "skipped", 3)}
    # only a claim that is still "claimed" is given back
    assert not repo.release_schedule_firing("hourly", DUE)
    repo.claim_schedule_firing(ScheduleFiring("hourly", DUE + timedelta(hours=3), "claimed", "a"))
    assert repo.release_schedule_firing("hourly", DUE + timedelta(hours=3))
    # old rows go, each schedule's latest stays (the scheduler counts from it)
    assert repo.prune_schedule_firings(datetime.now(UTC) - timedelta(days=30)) == 2
    assert [f.due_at for f in repo.list_schedule_firings("hourly")] == [DUE + timedelta(hours=2)]
    assert [f.due_at for f in repo.list_schedule_firings("daily")] == [DUE]
