"""Schedule firings in the SQL repository: one row per due time a serve process claimed.

:meth:`ScheduleStore.claim_schedule_firing` is one ``INSERT ... ON CONFLICT DO NOTHING``
on the primary key (schedule id, due time): of any number of serve processes that see the
same due time at once, exactly one inserts the row and fires; the others see the conflict.
"""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, select, update

from ._records import ScheduleFiring
from ._schema import schedule_firings, utcnow
from ._sql_core import SqlCore

__all__ = ["ScheduleStore"]

_FIELDS = [f.name for f in dataclass_fields(ScheduleFiring)]


def _firing(row: Any) -> ScheduleFiring:
    return ScheduleFiring(**{name: getattr(row, name) for name in _FIELDS})


class ScheduleStore(SqlCore):
    """Claims of schedule due times, and what each one started."""

    def claim_schedule_firing(self, firing: ScheduleFiring) -> bool:
        """Insert the row of (``schedule_id``, ``due_at``); False when another process did first."""
        row = {name: getattr(firing, name) for name in _FIELDS}
        row["fired_at"] = row["fired_at"] or utcnow()
        stmt = (self._insert(schedule_firings)
                .on_conflict_do_nothing(index_elements=["schedule_id", "due_at"])
                .returning(schedule_firings.c.schedule_id))
        with self._write() as conn:
            return conn.execute(stmt, row).first() is not None

    def finish_schedule_firing(self, schedule_id: str, due_at: datetime, *, status: str,
                               execution_id: str | None = None, error: str | None = None) -> None:
        """Record what a claimed due time became (its execution, or why it could not start)."""
        with self._write() as conn:
            conn.execute(update(schedule_firings)
                         .where(schedule_firings.c.schedule_id == schedule_id, schedule_firings.c.due_at == due_at)
                         .values(status=status, execution_id=execution_id, error=error))

    def release_schedule_firing(self, schedule_id: str, due_at: datetime) -> bool:
        """Delete the claim of a due time whose run could not start yet (it is due again)."""
        with self._write() as conn:
            return conn.execute(delete(schedule_firings).where(
                schedule_firings.c.schedule_id == schedule_id, schedule_firings.c.due_at == due_at,
                schedule_firings.c.status == "claimed")).rowcount == 1

    def last_schedule_firings(self) -> dict[str, ScheduleFiring]:
        """The latest claimed due time of every schedule that has one, by schedule id."""
        latest = (select(schedule_firings.c.schedule_id, func.max(schedule_firings.c.due_at).label("due_at"))
                  .group_by(schedule_firings.c.schedule_id).subquery())
        stmt = select(schedule_firings).join(latest, and_(
            schedule_firings.c.schedule_id == latest.c.schedule_id, schedule_firings.c.due_at == latest.c.due_at))
        with self._read() as conn:
            return {row.schedule_id: _firing(row) for row in conn.execute(stmt)}

    def list_schedule_firings(self, schedule_id: str, limit: int = 50) -> list[ScheduleFiring]:
        """One schedule's claimed due times, newest first."""
        stmt = (select(schedule_firings).where(schedule_firings.c.schedule_id == schedule_id)
                .order_by(schedule_firings.c.due_at.desc()).limit(limit))
        with self._read() as conn:
            return [_firing(row) for row in conn.execute(stmt)]

    def prune_schedule_firings(self, fired_before: datetime) -> int:
        """Delete the rows claimed before ``fired_before``, except each schedule's latest
        (the scheduler counts from it); the number deleted."""
        latest = (select(schedule_firings.c.schedule_id, func.max(schedule_firings.c.due_at).label("due_at"))
                  .group_by(schedule_firings.c.schedule_id))
        with self._write() as conn:
            keep = {(row.schedule_id, row.due_at) for row in conn.execute(latest)}
            old = conn.execute(select(schedule_firings.c.schedule_id, schedule_firings.c.due_at)
                               .where(schedule_firings.c.fired_at < fired_before)).all()
            count = 0
            for schedule_id, due_at in old:
                if (schedule_id, due_at) in keep:
                    continue
                count += conn.execute(delete(schedule_firings).where(
                    schedule_firings.c.schedule_id == schedule_id, schedule_firings.c.due_at == due_at)).rowcount
            return count
