"""Executions and what is recorded with them (logs, document errors, shape documents, dry
runs), and persisted process properties, in the SQL repository."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import fields as dataclass_fields
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Table, and_, delete, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import ConfigError
from . import _plain as plain
from ._records import (
    DocumentErrorRecord,
    DryRunRecord,
    ExecutionRecord,
    LogEntry,
    ShapeDocumentRecord,
)
from ._schema import (
    document_errors,
    dry_runs,
    execution_chunks,
    execution_logs,
    executions,
    mail_reports,
    process_properties,
    send_journal,
    shape_documents,
    utcnow,
)
from ._sql_core import IN_CHUNK, SqlCore, as_bytes, in_chunks

_EXECUTION_FIELDS = {f.name for f in dataclass_fields(ExecutionRecord)}
_EXECUTION_DEPENDENTS: tuple[Table, ...] = (execution_logs, document_errors, shape_documents, dry_runs,
                                            send_journal, mail_reports, execution_chunks)


class ExecutionStore(SqlCore):
    """Executions, their leases and records, and persisted process properties."""

    # -- executions ---------------------------------------------------------------------------------
    @staticmethod
    def _execution(row: Row[Any]) -> ExecutionRecord:
        record = ExecutionRecord(**{name: getattr(row, name) for name in _EXECUTION_FIELDS})
        record.connector_counts = record.connector_counts or {}  # NULL in rows older than 0003
        return record

    def create_execution(self, record: ExecutionRecord) -> None:
        """``started_at`` defaults to now. ConfigError when the id is taken."""
        try:
            with self._write() as conn:
                plain.insert_execution(self._db(conn), record, utcnow())
        except IntegrityError:
            raise ConfigError(f"execution {record.id!r} already exists",
                              fix="give every execution a new id") from None

    def update_execution(self, execution_id: str, **fields: Any) -> None:
        """Raises TypeError for a name that is not an ExecutionRecord field (or ``id``),
        NotFound when the execution does not exist."""
        values = plain.check_execution_fields(fields)
        with self._write() as conn:
            plain.update_execution(self._db(conn), execution_id, values)

    def claim_execution(self, execution_id: str, host: str, pid: int,
                        held_by: tuple[str | None, int | None, datetime | None]) -> bool:
        """Take the execution's lease for ``host``/``pid`` (status running, no end, heartbeat
        now) if it is still held by ``held_by`` (host, pid, heartbeat as last read): a
        compare-and-set, so of two resumes racing for a dead lease one wins. PostgreSQL
        re-checks the guard against the row the winner committed."""
        old_host, old_pid, old_beat = held_by
        guard = and_(executions.c.id == execution_id,
                     executions.c.lease_host.is_not_distinct_from(old_host),
                     executions.c.lease_pid.is_not_distinct_from(old_pid),
                     executions.c.heartbeat_at.is_not_distinct_from(old_beat))
        with self._write() as conn:
            return conn.execute(update(executions).where(guard).values(
                lease_host=host, lease_pid=pid, heartbeat_at=utcnow(), status="running",
                ended_at=None)).rowcount == 1

    def heartbeat_execution(self, execution_id: str, host: str, pid: int) -> bool:
        """Renew the lease's heartbeat; False when ``host``/``pid`` no longer hold it."""
        with self._write() as conn:
            return plain.heartbeat(self._db(conn), execution_id, host, pid, utcnow())

    def get_execution(self, execution_id: str) -> ExecutionRecord | None:
        with self._read() as conn:
            return plain.execution(self._db(conn), execution_id)

    def list_executions(self, process_id: str | None = None, status: str | None = None,
                        limit: int = 50, since: datetime | None = None,
                        until: datetime | None = None) -> list[ExecutionRecord]:
        """Newest first (by start time, then id); ``limit`` <= 0 means no limit; ``since`` and
        ``until`` bound the start time (inclusive)."""
        stmt = select(executions).order_by(executions.c.started_at.desc(), executions.c.id.desc())
        if process_id is not None:
            stmt = stmt.where(executions.c.process_id == process_id)
        if status is not None:
            stmt = stmt.where(executions.c.status == status)
        if since is not None:
            stmt = stmt.where(executions.c.started_at >= since)
        if until is not None:
            stmt = stmt.where(executions.c.started_at <= until)
        if limit and limit > 0:
            stmt = stmt.limit(limit)
        with self._read() as conn:
            return [self._execution(r) for r in conn.execute(stmt)]

    def add_logs(self, execution_id: str, entries: Iterable[LogEntry]) -> None:
        """SQLite: the plain statement (``_plain.py``); PostgreSQL: COPY (``_insert_many``)."""
        if self._dialect == "postgresql":
            self._insert_many(execution_logs, (
                {"execution_id": execution_id, "time": e.time, "level": e.level, "message": e.message,
                 "shape": e.shape} for e in entries))
            return
        iterator = iter(entries)
        first = next(iterator, None)
        if first is None:
            return
        with self._write() as conn:
            plain.insert_logs(self._db(conn), execution_id, itertools.chain([first], iterator))

    def get_logs(self, execution_id: str) -> list[LogEntry]:
        stmt = (select(execution_logs).where(execution_logs.c.execution_id == execution_id)
                .order_by(execution_logs.c.id))
        with self._read() as conn:
            return [LogEntry(time=r.time, level=r.level, message=r.message, shape=r.shape)
                    for r in conn.execute(stmt)]

    def add_document_errors(self, execution_id: str, errors: Iterable[DocumentErrorRecord]) -> None:
        """An error without a time is stamped now."""
        self._insert_many(document_errors, (
            {"execution_id": execution_id, "shape": e.shape, "document": e.document, "message": e.message,
             "time": e.time or utcnow()} for e in errors))

    def get_document_errors(self, execution_id: str) -> list[DocumentErrorRecord]:
        stmt = (select(document_errors).where(document_errors.c.execution_id == execution_id)
                .order_by(document_errors.c.id))
        with self._read() as conn:
            return [DocumentErrorRecord(shape=r.shape, document=r.document, message=r.message, time=r.time)
                    for r in conn.execute(stmt)]

    def add_shape_documents(self, execution_id: str, docs: Iterable[ShapeDocumentRecord]) -> None:
        self._insert_many(shape_documents, (
            {"execution_id": execution_id, "shape": d.shape, "seq": d.seq, "document": d.document,
             "data": as_bytes(d.data), "properties": dict(d.properties), "dynamic": dict(d.dynamic)}
            for d in docs))

    def get_shape_documents(self, execution_id: str, shape: str | None = None) -> list[ShapeDocumentRecord]:
        """In the order written; for one shape, ordered by ``seq``."""
        stmt = select(shape_documents).where(shape_documents.c.execution_id == execution_id)
        if shape is not None:
            stmt = stmt.where(shape_documents.c.shape == shape).order_by(shape_documents.c.seq,
                                                                         shape_documents.c.id)
        else:
            stmt = stmt.order_by(shape_documents.c.id)
        with self._read() as conn:
            return [ShapeDocumentRecord(shape=r.shape, seq=r.seq, document=r.document, data=bytes(r.data),
                                        properties=r.properties, dynamic=r.dynamic)
                    for r in conn.execute(stmt)]

    def add_dry_runs(self, execution_id: str, records: Iterable[DryRunRecord]) -> None:
        self._insert_many(dry_runs, (
            {"execution_id": execution_id, "shape": d.shape, "document": d.document, "action": d.action,
             "payload": as_bytes(d.payload)} for d in records))

    def get_dry_runs(self, execution_id: str) -> list[DryRunRecord]:
        stmt = select(dry_runs).where(dry_runs.c.execution_id == execution_id).order_by(dry_runs.c.id)
        with self._read() as conn:
            return [DryRunRecord(shape=r.shape, document=r.document, action=r.action, payload=bytes(r.payload))
                    for r in conn.execute(stmt)]

    def purge_executions(self, older_than: datetime) -> int:
        """Executions that ended before ``older_than``, with their logs, errors, shape
        documents, dry runs and journal. Executions still running (no end) are kept. Reports
        about letters no execution here sent (``execution_id`` "") go once recorded before then."""
        with self._write() as conn:
            ids = list(conn.execute(select(executions.c.id).where(executions.c.ended_at < older_than)).scalars())
            for chunk in in_chunks(ids, IN_CHUNK):
                for table in _EXECUTION_DEPENDENTS:
                    conn.execute(delete(table).where(table.c.execution_id.in_(chunk)))
                conn.execute(delete(executions).where(executions.c.id.in_(chunk)))
            conn.execute(delete(mail_reports).where(mail_reports.c.execution_id == "",
                                                    mail_reports.c.recorded_at < older_than))
        return len(ids)

    # -- persisted dynamic process properties ----------------------------------------------------------
    def get_persisted_properties(self, process_id: str) -> dict[str, str]:
        with self._read() as conn:
            return plain.persisted_properties(self._db(conn), process_id)

    def set_persisted_properties(self, process_id: str, values: dict[str, str]) -> None:
        if not values:
            return
        now = utcnow()
        rows = [{"process_id": process_id, "name": k, "value": str(v), "updated_at": now} for k, v in values.items()]
        with self._write() as conn:
            self._upsert(conn, process_properties, ["process_id", "name"], rows)
