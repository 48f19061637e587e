"""The due-time logic of schedules, with times the test chooses (no clock, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from postroom.runtime import Due, due_times, next_due, plan

pytestmark = pytest.mark.fast

PARIS = ZoneInfo("Europe/Paris")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def paris(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=PARIS, fold=fold).astimezone(UTC)


def test_a_due_time_is_due_from_its_minute_on_and_not_before() -> None:
    after = utc(2026, 1, 5, 1, 0)
    assert due_times("0 2 * * *", "UTC", after, utc(2026, 1, 5, 1, 59, 59)).times == ()
    assert due_times("0 2 * * *", "UTC", after, utc(2026, 1, 5, 2, 0)).times == (utc(2026, 1, 5, 2, 0),)
    assert due_times("0 2 * * *", "UTC", after, utc(2026, 1, 5, 2, 0, 0, 500)).times == (utc(2026, 1, 5, 2, 0),)
    # once claimed (after = the due time), it is not due again
    assert due_times("0 2 * * *", "UTC", utc(2026, 1, 5, 2, 0), utc(2026, 1, 5, 2, 0, 30)).times == ()


def test_the_cron_is_read_in_the_schedules_time_zone() -> None:
    # 02:00 in Paris in winter is 01:00 UTC; in summer 00:00 UTC
    assert next_due("0 2 * * *", "Europe/Paris", utc(2026, 1, 5, 0, 0)) == utc(2026, 1, 5, 1, 0)
    assert next_due("0 2 * * *", "Europe/Paris", utc(2026, 7, 5, 1, 0)) == utc(2026, 7, 6, 0, 0)
    assert next_due("0 9 * * 1-5", "America/New_York", utc(2026, 1, 9, 15, 0)) == utc(2026, 1, 12, 14, 0)


def test_spring_forward_a_time_that_does_not_exist_runs_once_right_after_the_gap() -> None:
    # 2026-03-29: Paris jumps from 02:00 to 03:00; 02:30 does not exist that day
    day = due_times("30 2 * * *", "Europe/Paris", paris(2026, 3, 28, 12, 0), paris(2026, 3, 30, 12, 0), limit=10)
    assert day.times == (paris(2026, 3, 29, 3, 0), paris(2026, 3, 30, 2, 30))
    hourly = due_times("0 * * * *", "Europe/Paris", paris(2026, 3, 29, 0, 30), paris(2026, 3, 29, 4, 30), limit=10)
    assert hourly.times == (paris(2026, 3, 29, 1, 0), paris(2026, 3, 29, 3, 0), paris(2026, 3, 29, 4, 0))
    assert [b - a for a, b in zip(hourly.times, hourly.times[1:], strict=False)] == [timedelta(hours=1)] * 2


def test_fall_back_a_fixed_time_runs_once_and_an_hourly_one_in_both_hours() -> None:
    # 2026-10-25: Paris goes from 03:00 back to 02:00; 02:30 comes twice
    start, end = paris(2026, 10, 24, 12, 0), paris(2026, 10, 26, 12, 0)
    daily = due_times("30 2 * * *", "Europe/Paris", start, end, limit=10)
    assert daily.times == (paris(2026, 10, 25, 2, 30), paris(2026, 10, 26, 2, 30))
    assert daily.times[0] == utc(2026, 10, 25, 0, 30)  # the first 02:30 (summer time)
    hourly = due_times("0 * * * *", "Europe/Paris", paris(2026, 10, 25, 0, 30), paris(2026, 10, 25, 3, 30), limit=10)
    assert hourly.times == (utc(2026, 10, 24, 23, 0), utc(2026, 10, 25, 0, 0), utc(2026, 10, 25, 1, 0),
                            utc(2026, 10, 25, 2, 0))
    # the repeat is passed over by next_due too: between the two 02:30s the next is tomorrow's
    between = utc(2026, 10, 25, 0, 45)
    assert next_due("30 2 * * *", "Europe/Paris", between) == paris(2026, 10, 26, 2, 30)
    # and a scheduler that claimed the first 02:30 finds nothing due at the second
    assert due_times("30 2 * * *", "Europe/Paris", utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 31)).times == ()


NOW = utc(2026, 1, 5, 12, 0, 10)
AWAY = utc(2026, 1, 5, 8, 30)  # last counted 08:30; serve was down until noon


def test_on_time_every_policy_runs_the_due_time_once() -> None:
    for policy in ("none", "last", "all"):
        assert plan("0 * * * *", "UTC", policy, utc(2026, 1, 5, 11, 0), NOW) == [Due(utc(2026, 1, 5, 12, 0), "start")]


def test_catch_up_last_runs_once_for_everything_missed() -> None:
    late = utc(2026, 1, 5, 12, 5)
    assert plan("0 * * * *", "UTC", "last", AWAY, late) == [Due(utc(2026, 1, 5, 12, 0), "start", missed=3)]


def test_catch_up_none_skips_what_was_missed_and_still_runs_what_is_on_time() -> None:
    late = utc(2026, 1, 5, 12, 5)
    assert plan("0 * * * *", "UTC", "none", AWAY, late) == [Due(utc(2026, 1, 5, 12, 0), "skip", missed=3)]
    # the noon run is on time (within the grace): it runs; the three before are counted as missed
    assert plan("0 * * * *", "UTC", "none", AWAY, NOW) == [Due(utc(2026, 1, 5, 12, 0), "start", missed=3)]


def test_catch_up_all_runs_each_missed_time_oldest_first_up_to_the_limit() -> None:
    steps = plan("0 * * * *", "UTC", "all", AWAY, NOW)
    assert [s.due_at.hour for s in steps] == [9, 10, 11, 12]
    assert {s.action for s in steps} == {"start"}
    capped = plan("* * * * *", "UTC", "all", AWAY, NOW, max_catch_up=5)
    assert [s.due_at for s in capped] == [NOW.replace(second=0) - timedelta(minutes=n) for n in (4, 3, 2, 1, 0)]
    assert capped[0].missed == 210 - 5 + 0 and capped[1].missed == 0


def test_nothing_is_due_before_the_schedule_existed() -> None:
    created = utc(2026, 1, 5, 11, 59, 30)
    assert plan("0 * * * *", "UTC", "all", created, utc(2026, 1, 5, 11, 59, 59)) == []
    assert plan("0 2 * * *", "UTC", "last", created, NOW) == []


def test_a_long_absence_costs_a_bounded_walk() -> None:
    found = due_times("* * * * *", "UTC", utc(2025, 1, 1), NOW, limit=1, walk=2000)
    assert found.times == (utc(2026, 1, 5, 12, 0),) and found.older == 1999
