"""Execution chunks in the SQL repository (revision 0010_chunks): a Flow Control unit of an
execution run as a task of its own on the workers.

A chunk is claimed with a guarded ``UPDATE ... WHERE status = 'queued'`` (of two copies of
its task, one takes it), renewed and ended only by the lease (host, process) that took it,
and put back to queued by a compare-and-set on that same lease when its worker died."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import fields as dataclass_fields
from typing import Any

from sqlalchemy import and_, select, update

from ._records import ChunkRecord
from ._schema import execution_chunks, utcnow
from ._sql_core import SqlCore

__all__ = ["ChunkStore"]

_FIELDS = [f.name for f in dataclass_fields(ChunkRecord)]
_COLUMNS = [execution_chunks.c[name] for name in _FIELDS]


def _chunk(row: Any) -> ChunkRecord:
    values = {name: getattr(row, name) for name in _FIELDS}
    values["counts"] = values["counts"] or {}
    return ChunkRecord(**values)


def _key(execution_id: str, shape: str, number: int) -> Any:
    c = execution_chunks.c
    return and_(c.execution_id == execution_id, c.shape == shape, c.number == number)


class ChunkStore(SqlCore):
    """The chunks of executions run on the workers: inputs, claims, leases and outcomes."""

    def add_chunk(self, record: ChunkRecord, inputs: dict[str, Any]) -> ChunkRecord:
        row = {name: getattr(record, name) for name in _FIELDS}
        row["inputs"] = inputs
        stmt = (self._insert(execution_chunks)
                .on_conflict_do_nothing(index_elements=["execution_id", "shape", "number"]))
        with self._write() as conn:
            conn.execute(stmt, row)
            stored = conn.execute(select(*_COLUMNS).where(
                _key(record.execution_id, record.shape, record.number))).one()
        return _chunk(stored)

    def claim_chunk(self, execution_id: str, shape: str, number: int, node: str, host: str,
                    pid: int) -> dict[str, Any] | None:
        c = execution_chunks.c
        now = utcnow()
        stmt = (update(execution_chunks)
                .where(_key(execution_id, shape, number), c.status == "queued")
                .values(status="running", node=node, lease_host=host, lease_pid=pid, heartbeat_at=now,
                        started_at=now, attempts=c.attempts + 1)
                .returning(c.inputs))
        with self._write() as conn:
            row = conn.execute(stmt).first()
        return None if row is None else (row.inputs or {})

    def chunk_heartbeat(self, execution_id: str, shape: str, number: int, host: str, pid: int) -> bool:
        c = execution_chunks.c
        stmt = (update(execution_chunks)
                .where(_key(execution_id, shape, number), c.status == "running", c.lease_host == host,
                       c.lease_pid == pid)
                .values(heartbeat_at=utcnow()))
        with self._write() as conn:
            return conn.execute(stmt).rowcount == 1

    def end_chunk(self, record: ChunkRecord) -> bool:
        c = execution_chunks.c
        stmt = (update(execution_chunks)
                .where(_key(record.execution_id, record.shape, record.number), c.status == "running",
                       c.lease_host == record.lease_host, c.lease_pid == record.lease_pid)
                .values(status=record.status, counts=record.counts, error=record.error,
                        ended_at=record.ended_at or utcnow(), inputs=None))
        with self._write() as conn:
            return conn.execute(stmt).rowcount == 1

    def requeue_chunk(self, record: ChunkRecord) -> bool:
        c = execution_chunks.c
        stmt = (update(execution_chunks)
                .where(_key(record.execution_id, record.shape, record.number), c.status == "running",
                       c.lease_host == record.lease_host, c.lease_pid == record.lease_pid,
                       c.attempts == record.attempts)
                .values(status="queued", lease_host=None, lease_pid=None, heartbeat_at=None))
        with self._write() as conn:
            return conn.execute(stmt).rowcount == 1

    def list_chunks(self, execution_id: str, shape: str | None = None,
                    numbers: Collection[int] | None = None) -> list[ChunkRecord]:
        c = execution_chunks.c
        stmt = select(*_COLUMNS).where(c.execution_id == execution_id).order_by(c.shape, c.number)
        if shape is not None:
            stmt = stmt.where(c.shape == shape)
        if numbers is not None:
            stmt = stmt.where(c.number.in_(list(numbers)))
        with self._read() as conn:
            return [_chunk(row) for row in conn.execute(stmt)]
