"""When a schedule is due, as pure functions of the time (no clock, no database): the
scheduler (``_scheduler.py``) and ``schedules list`` call them with the time they read, and
the fast tests with any time they like.

Times go in and come out timezone-aware; what they return is in UTC. The cron expression is
read in the schedule's time zone with croniter:

* **Spring forward** (a local time that does not exist, such as 02:30 on the last Sunday of
  March in Europe/Paris): croniter gives the first time after the gap (03:00 local), so a
  daily run is not lost, and runs once.
* **Fall back** (a local time that comes twice): a schedule with fixed hours (``30 2 * * *``)
  runs at the first of the two, once, as Vixie cron does; one whose hour field is ``*``
  (``0 * * * *``, ``*/15 * * * *``) runs in both hours, which are two real hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

__all__ = ["Due", "DueTimes", "due_times", "next_due", "plan"]

_ALIAS_HOURS = {"@hourly": "*"}  # every other alias fixes the hour (0)


def _hour_field(cron: str) -> str:
    if cron.startswith("@"):
        return _ALIAS_HOURS.get(cron, "0")
    parts = cron.split()
    return parts[1] if len(parts) > 1 else "*"


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    """The wall-clock time (naive) of a moment in the zone."""
    return moment.astimezone(zone).replace(tzinfo=None)


def _is_repeat(cron: str, moment: datetime, previous: datetime | None, zone: ZoneInfo) -> bool:
    """A fall-back repeat of the previous due time's wall clock, for fixed-hour schedules."""
    if previous is None or _hour_field(cron) == "*":
        return False
    return _local(moment, zone) == _local(previous, zone)


@dataclass(frozen=True)
class DueTimes:
    """The due times in (after, now], oldest first, at most ``limit`` of the latest;
    ``older``: how many more came before them (counted up to the walk's bound)."""

    times: tuple[datetime, ...]
    older: int = 0


def due_times(cron: str, timezone: str, after: datetime, now: datetime, limit: int = 1,
              walk: int = 10_000) -> DueTimes:
    """The due times later than ``after`` and not later than ``now`` (walked back from now,
    at most ``walk`` of them: a minute schedule after a week away costs no more)."""
    zone = ZoneInfo(timezone)
    iterator = croniter(cron, (now + timedelta(seconds=1)).astimezone(zone))
    found: list[datetime] = []
    while len(found) < walk:
        moment = iterator.get_prev(datetime).astimezone(UTC)
        if moment <= after:
            break
        if moment <= now:
            found.append(moment)
    found.reverse()
    kept: list[datetime] = []
    previous: datetime | None = after
    for moment in found:
        if not _is_repeat(cron, moment, previous, zone):
            kept.append(moment)
        previous = moment
    return DueTimes(tuple(kept[-limit:]) if limit > 0 else (), max(len(kept) - limit, 0))


def next_due(cron: str, timezone: str, now: datetime) -> datetime:
    """The first due time after ``now`` (a fall-back repeat it will not fire is passed over)."""
    zone = ZoneInfo(timezone)
    previous = croniter(cron, (now + timedelta(seconds=1)).astimezone(zone)).get_prev(datetime).astimezone(UTC)
    iterator = croniter(cron, now.astimezone(zone))
    for _ in range(3):
        moment = iterator.get_next(datetime).astimezone(UTC)
        if moment > now and not _is_repeat(cron, moment, previous, zone):
            return moment
        previous = moment
    return moment


@dataclass(frozen=True)
class Due:
    """What to do with one due time: ``start`` a run, or record it ``skipped``; ``missed``:
    how many earlier due times it stands for (they are not recorded one by one)."""

    due_at: datetime
    action: str  # start | skip
    missed: int = 0


def plan(cron: str, timezone: str, catch_up: str, after: datetime, now: datetime, *,
         grace: timedelta = timedelta(seconds=60), max_catch_up: int = 100) -> list[Due]:
    """What a scheduler does at ``now`` for a schedule last counted at ``after`` (its latest
    claimed due time, or when it was stored or enabled).

    A due time no more than ``grace`` old is on time: it runs whatever ``catch_up`` says. Older
    ones were missed (no serve ran): ``none`` records the latest as skipped (standing for
    all), ``last`` runs the latest once (standing for all), ``all`` runs each, oldest first,
    at most ``max_catch_up`` (the latest ones)."""
    if catch_up == "all":
        found = due_times(cron, timezone, after, now, limit=max_catch_up)
        steps = [Due(moment, "start") for moment in found.times]
        if steps and found.older:
            steps[0] = Due(steps[0].due_at, "start", found.older)
        return steps
    found = due_times(cron, timezone, after, now, limit=1)
    if not found.times:
        return []
    latest = found.times[0]
    on_time = now - latest <= grace
    if catch_up == "none" and not on_time:
        return [Due(latest, "skip", found.older)]
    return [Due(latest, "start", found.older)]
