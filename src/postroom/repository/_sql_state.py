"""Listener state in the SQL repository: mailbox watermarks, leases and listener health."""

from __future__ import annotations

import json
import time
from dataclasses import fields as dataclass_fields
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update

from ..errors import ConfigError
from ._records import (
    ListenerHealth,
    WatermarkRecord,
)
from ._schema import (
    leases,
    listener_health,
    utcnow,
    watermarks,
)
from ._sql_core import SqlCore

_HEALTH_FIELDS = [f.name for f in dataclass_fields(ListenerHealth)]


class StateStore(SqlCore):
    """Mailbox watermarks, leases and listener health."""

    # -- mailbox watermarks ---------------------------------------------------------------------------
    def get_watermark(self, mailbox: str, operation: str = "") -> dict[str, Any] | None:
        with self._read() as conn:
            return conn.execute(select(watermarks.c.value).where(
                watermarks.c.operation == operation, watermarks.c.mailbox == mailbox)).scalar()

    def set_watermark(self, mailbox: str, value: dict[str, Any], operation: str = "") -> None:
        try:
            json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"watermark of {mailbox!r} is not JSON: {exc}") from None
        with self._write() as conn:
            self._upsert(conn, watermarks, ["operation", "mailbox"],
                         [{"operation": operation, "mailbox": mailbox, "value": value, "updated_at": utcnow()}])

    def list_watermarks(self) -> list[WatermarkRecord]:
        query = select(watermarks).order_by(watermarks.c.operation, watermarks.c.mailbox)
        with self._read() as conn:
            return [WatermarkRecord(row.operation, row.mailbox, row.value, row.updated_at)
                    for row in conn.execute(query)]

    def delete_watermarks(self, operation: str) -> int:
        with self._write() as conn:
            return conn.execute(delete(watermarks).where(watermarks.c.operation == operation)).rowcount

    # -- leases ---------------------------------------------------------------------------------------
    def acquire_lease(self, name: str, owner: str, ttl_seconds: float) -> bool:
        """Take the lease if free or expired, renew it if ``owner`` holds it.

        One guarded UPDATE (``owner = me OR expired``) then, when no row exists yet, an
        ``INSERT ... ON CONFLICT DO NOTHING``. On PostgreSQL a concurrent UPDATE of the row
        waits and re-checks the guard against the committed row, so two owners never both
        win. Expiry uses the callers' clocks (epoch seconds): hosts must keep them in sync
        (NTP), and ``ttl_seconds`` should be well above the expected skew."""
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        now = time.time()
        expires = now + ttl_seconds
        with self._write() as conn:
            taken = conn.execute(
                update(leases)
                .where(leases.c.name == name, or_(leases.c.owner == owner, leases.c.expires_at < now))
                .values(owner=owner, expires_at=expires)
            ).rowcount
            if taken == 1:
                return True
            # RETURNING, not rowcount: psycopg reports -1 for an INSERT ... ON CONFLICT here.
            stmt = (self._insert(leases).on_conflict_do_nothing(index_elements=["name"])
                    .returning(leases.c.name))
            row = conn.execute(stmt, {"name": name, "owner": owner, "expires_at": expires}).first()
            return row is not None

    def release_lease(self, name: str, owner: str) -> None:
        """Give the lease up; a no-op when ``owner`` does not hold it."""
        with self._write() as conn:
            conn.execute(delete(leases).where(leases.c.name == name, leases.c.owner == owner))

    # -- listener health --------------------------------------------------------------------------------
    def save_listener_health(self, health: ListenerHealth) -> None:
        row = {name: getattr(health, name) for name in _HEALTH_FIELDS}
        row["updated_at"] = row["updated_at"] or utcnow()
        row["details"] = dict(row["details"] or {})
        row["resource"] = row["resource"] or ""
        row["node"] = row["node"] or ""
        row["mode"] = row["mode"] or ""
        row["interval_seconds"] = float(row["interval_seconds"] or 0.0)
        try:
            json.dumps(row["details"])
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"listener health details are not JSON: {exc}") from None
        with self._write() as conn:
            self._upsert(conn, listener_health, ["listener", "instance"], [row])

    def list_listener_health(self, listener: str | None = None) -> list[ListenerHealth]:
        stmt = select(listener_health).order_by(listener_health.c.listener, listener_health.c.instance)
        if listener is not None:
            stmt = stmt.where(listener_health.c.listener == listener)
        with self._read() as conn:
            return [ListenerHealth(**{name: getattr(r, name) for name in _HEALTH_FIELDS}) for r in conn.execute(stmt)]

    def delete_listener_health(self, listener: str | None = None, instance: str | None = None,
                               updated_before: datetime | None = None) -> int:
        stmt = delete(listener_health)
        if listener is not None:
            stmt = stmt.where(listener_health.c.listener == listener)
        if instance is not None:
            stmt = stmt.where(listener_health.c.instance == instance)
        if updated_before is not None:
            stmt = stmt.where(listener_health.c.updated_at < updated_before)
        with self._write() as conn:
            return conn.execute(stmt).rowcount
