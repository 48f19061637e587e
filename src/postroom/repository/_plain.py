"""The statements a run needs, written once in plain SQL for both databases.

Loading the process's components and secrets, creating, reading, updating and heart-beating
its execution, its log and its send journal. :class:`SqlRepository` runs them through
SQLAlchemy on the driver's own connection (``exec_driver_sql``, SQLite and PostgreSQL);
``_runstore.py`` runs the very same functions with the standard library's :mod:`sqlite3`
on a SQLite file whose schema is current, so that ``postroom run`` need not import
SQLAlchemy at all (ADR 0019). The listings (``_listing.py``) read executions with the
converters here too.

Values are bound and read as the column types of ``_schema.py`` bind and read them
(``UTCDateTime``: UTC, naive text on SQLite in SQLAlchemy's format; ``JSONText``: JSON text,
key order kept; ``Boolean``: 0/1 on SQLite). A test compares every function here with what
SQLAlchemy's own statements store and read, on both databases.

Kept free of SQLAlchemy; SQL is written with ``?`` marks, turned into ``%s`` for psycopg.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import fields
from datetime import UTC, datetime
from itertools import islice
from typing import Any, Protocol

from ..errors import NotFound
from ._records import ComponentRecord, DocumentErrorRecord, ExecutionRecord, JournalEntry, LogEntry

__all__ = ["Db", "EXECUTION_COLUMNS", "component", "secret_ciphertext", "insert_execution", "update_execution",
           "execution", "execution_from_row", "persisted_properties", "insert_logs", "heartbeat",
           "begin_journal", "finish_journal", "check_finished", "check_execution_fields", "db_time", "read_time"]

#: the executions table's columns, in :class:`ExecutionRecord`'s order
EXECUTION_COLUMNS = tuple(f.name for f in fields(ExecutionRecord))
_EXECUTION_TIMES = frozenset({"started_at", "ended_at", "heartbeat_at"})
_EXECUTION_JSON = frozenset({"request", "connector_counts"})
_COMPONENT_COLUMNS = ("id", "type", "name", "body", "folder", "version", "source_file", "created_at")
# Rows per executemany, and ids per IN (...): as the SQLAlchemy repository's (_sql_core.py).
_BATCH = 1000
_IN_CHUNK = 500


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> Any: ...


class Db(Protocol):
    """One open transaction on either driver."""

    sqlite: bool  # SQLite (else PostgreSQL)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Cursor: ...


# -- values, as the column types of _schema.py bind and read them --------------------------------
def db_time(value: datetime | None, sqlite: bool) -> Any:
    """``UTCDateTime``'s bind: UTC (a naive value is local time); on SQLite the naive text
    SQLAlchemy's DATETIME writes."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    if not sqlite:
        return value
    return (f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
            f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}")


def read_time(value: str | datetime | None) -> datetime | None:
    """A stored time, aware in UTC: text without a zone (SQLite) is UTC, a zone converts."""
    if value is None:
        return None
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _read_json(value: str | None) -> Any:
    return None if value is None else json.loads(value)


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


# -- components and secrets ----------------------------------------------------------------------
def component(db: Db, component_id: str, version: int | None) -> ComponentRecord | None:
    """The latest version of a component, or the given one."""
    sql = f"SELECT {', '.join(_COMPONENT_COLUMNS)} FROM components WHERE id = ?"
    if version is None:
        row = db.execute(sql + " ORDER BY version DESC LIMIT 1", (component_id,)).fetchone()
    else:
        row = db.execute(sql + " AND version = ?", (component_id, version)).fetchone()
    if row is None:
        return None
    id_, type_, name, body, folder, number, source_file, created_at = row
    return ComponentRecord(id=id_, type=type_, name=name, body=_read_json(body), folder=folder, version=number,
                           source_file=source_file, created_at=read_time(created_at))


def secret_ciphertext(db: Db, name: str) -> str | None:
    row = db.execute("SELECT ciphertext FROM secrets WHERE name = ?", (name,)).fetchone()
    return None if row is None else str(row[0])


# -- executions ------------------------------------------------------------------------------------
def _execution_value(name: str, value: Any, sqlite: bool) -> Any:
    if name in _EXECUTION_TIMES:
        return db_time(value, sqlite)
    if name in _EXECUTION_JSON:
        return _json(value)
    if name == "truncated" and value is not None:
        return int(bool(value)) if sqlite else bool(value)
    return value


def insert_execution(db: Db, record: ExecutionRecord, now: datetime) -> None:
    """The record as a new row (``started_at`` defaults to ``now``); the driver's
    integrity error when the id is taken."""
    values = {name: getattr(record, name) for name in EXECUTION_COLUMNS}
    values["started_at"] = values["started_at"] or now
    values["request"] = values["request"] or {}
    values["connector_counts"] = values["connector_counts"] or {}
    db.execute(f"INSERT INTO executions ({', '.join(EXECUTION_COLUMNS)}) "
               f"VALUES ({', '.join('?' * len(EXECUTION_COLUMNS))})",
               [_execution_value(name, values[name], db.sqlite) for name in EXECUTION_COLUMNS])


def check_execution_fields(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` for :func:`update_execution`; TypeError naming what is not a field (or is
    ``id``). A ``request`` of None is stored as ``{}``."""
    unknown = set(values) - (set(EXECUTION_COLUMNS) - {"id"})
    if unknown:
        raise TypeError(f"update_execution: not execution fields: {', '.join(sorted(unknown))}")
    if "request" in values and values["request"] is None:
        return {**values, "request": {}}
    return values


def update_execution(db: Db, execution_id: str, values: dict[str, Any]) -> None:
    """Set the fields (checked by :func:`check_execution_fields`); NotFound when the
    execution does not exist."""
    if not values:
        found = len(db.execute("SELECT id FROM executions WHERE id = ?", (execution_id,)).fetchall())
    else:
        names = list(values)
        found = db.execute(f"UPDATE executions SET {', '.join(f'{n} = ?' for n in names)} WHERE id = ?",
                           [*(_execution_value(n, values[n], db.sqlite) for n in names), execution_id]).rowcount
    if found == 0:
        raise NotFound(f"execution {execution_id!r} does not exist")


def execution_from_row(row: Sequence[Any]) -> ExecutionRecord:
    """A row of :data:`EXECUTION_COLUMNS` as the record."""
    values = dict(zip(EXECUTION_COLUMNS, row, strict=True))
    for name in _EXECUTION_TIMES:
        values[name] = read_time(values[name])
    for name in _EXECUTION_JSON:
        values[name] = _read_json(values[name])
    values["truncated"] = bool(values["truncated"])
    values["connector_counts"] = values["connector_counts"] or {}  # NULL in rows older than 0003
    return ExecutionRecord(**values)


def execution(db: Db, execution_id: str) -> ExecutionRecord | None:
    row = db.execute(f"SELECT {', '.join(EXECUTION_COLUMNS)} FROM executions WHERE id = ?",
                     (execution_id,)).fetchone()
    return None if row is None else execution_from_row(row)


def heartbeat(db: Db, execution_id: str, host: str, pid: int, now: datetime) -> bool:
    """Renew the lease's heartbeat; False when ``host``/``pid`` no longer hold it."""
    return db.execute("UPDATE executions SET heartbeat_at = ? WHERE id = ? AND lease_host = ? AND lease_pid = ?",
                      (db_time(now, db.sqlite), execution_id, host, pid)).rowcount == 1


def persisted_properties(db: Db, process_id: str) -> dict[str, str]:
    rows = db.execute("SELECT name, value FROM process_properties WHERE process_id = ? ORDER BY name",
                      (process_id,)).fetchall()
    return {name: value for name, value in rows}


def insert_logs(db: Db, execution_id: str, entries: Iterable[LogEntry]) -> None:
    """In chunks of executemany (the caller has begun the transaction only if there are any)."""
    sql = "INSERT INTO execution_logs (execution_id, time, level, message, shape) VALUES (?, ?, ?, ?, ?)"
    for chunk in _chunks(entries, _BATCH):
        db.executemany(sql, [(execution_id, db_time(e.time, db.sqlite), e.level, e.message, e.shape)
                             for e in chunk])


def logs(db: Db, execution_id: str) -> list[LogEntry]:
    """An execution's log, in the order written."""
    rows = db.execute("SELECT time, level, message, shape FROM execution_logs WHERE execution_id = ? ORDER BY id",
                      (execution_id,)).fetchall()
    return [LogEntry(time=read_time(time), level=level, message=message, shape=shape)  # type: ignore[arg-type]
            for time, level, message, shape in rows]


def document_errors(db: Db, execution_id: str) -> list[DocumentErrorRecord]:
    """An execution's failed documents, in the order written."""
    rows = db.execute("SELECT shape, document, message, time FROM document_errors WHERE execution_id = ? "
                      "ORDER BY id", (execution_id,)).fetchall()
    return [DocumentErrorRecord(shape=shape, document=document, message=message, time=read_time(time))
            for shape, document, message, time in rows]


def has_rows(db: Db, table: str, execution_id: str) -> bool:
    """Whether ``table`` (one of the fixed names below) holds a row of the execution."""
    if table not in ("mail_reports", "execution_chunks"):
        raise ValueError(table)
    return db.execute(f"SELECT 1 FROM {table} WHERE execution_id = ? LIMIT 1",  # noqa: S608 - a fixed name
                      (execution_id,)).fetchone() is not None


# -- the send journal -------------------------------------------------------------------------------
def begin_journal(db: Db, execution_id: str, items: list[tuple[str, str]], now: datetime) -> dict[str, JournalEntry]:
    """Insert-or-get each ``(key, message_id)`` on the primary key (execution_id, key), in
    the caller's transaction: the first message id of a key repeated in the list; a key
    begun before keeps its entry (and so its Message-ID). When every key was inserted (a
    first run: nothing was there), the entries are what was written and nothing is read."""
    if not items:
        return {}
    unique = dict(items)
    if len(unique) < len(items):
        unique = {}
        for key, message_id in items:
            unique.setdefault(key, message_id)
    at = db_time(now, db.sqlite)
    rows = [(execution_id, key, message_id, "pending", "", at) for key, message_id in unique.items()]
    inserted = db.executemany('INSERT INTO send_journal (execution_id, "key", message_id, status, reply, updated_at) '
                              'VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (execution_id, "key") DO NOTHING', rows).rowcount
    if inserted == len(rows):
        return {key: JournalEntry(execution_id=execution_id, key=key, message_id=message_id, status="pending",
                                  reply="", updated_at=now) for key, message_id in unique.items()}
    entries: dict[str, JournalEntry] = {}
    for chunk in _chunks(unique, _IN_CHUNK):
        found = db.execute(f'SELECT execution_id, "key", message_id, status, reply, updated_at FROM send_journal '
                           f'WHERE execution_id = ? AND "key" IN ({", ".join("?" * len(chunk))})',
                           [execution_id, *chunk]).fetchall()
        for execution_id_, key, message_id, status, reply, updated_at in found:
            entries[key] = JournalEntry(execution_id=execution_id_, key=key, message_id=message_id, status=status,
                                        reply=reply, updated_at=read_time(updated_at))
    return entries


def finish_journal(db: Db, execution_id: str, items: list[tuple[str, str, str]], now: datetime) -> int:
    """Finish each ``(key, status, reply)`` in the caller's transaction: the rows changed
    (-1: unknown). Check it with :func:`check_finished` once the transaction is committed
    (the keys that were begun are finished, as one by one they would be)."""
    if not items:
        return 0
    at = db_time(now, db.sqlite)
    rows = [(status, reply or "", at, execution_id, key) for key, status, reply in items]
    count = db.executemany('UPDATE send_journal SET status = ?, reply = ?, updated_at = ? '
                           'WHERE execution_id = ? AND "key" = ?', rows).rowcount
    return count if count is not None else -1


def check_finished(execution_id: str, items: list[tuple[str, str, str]], count: int) -> None:
    """NotFound when :func:`finish_journal` changed fewer rows than it was given."""
    if 0 <= count < len(items):
        raise NotFound(f"some of {len(items)} journal entries of execution {execution_id!r} were never begun",
                       fix="call journal_begin before the side effect")
