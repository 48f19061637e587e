"""The SQL repository: SQLAlchemy Core on SQLite (default) or PostgreSQL (psycopg 3).

Core rather than the ORM: the repository speaks in plain records (``_records.py``), the
hot paths are bulk inserts of thousands of rows, and every statement is visible here.

Transactions: every public method is one transaction. Writes go through :meth:`_write`,
which on SQLite starts with ``BEGIN IMMEDIATE`` (see ``_engine.py``); PostgreSQL runs at
READ COMMITTED and the statements that race (journal, leases, upserts) are written to be
correct there (``INSERT ... ON CONFLICT``, a guarded ``UPDATE``).
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from datetime import datetime
from functools import cached_property
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Row, Table, and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from ..errors import ConfigError, ConnectionFailed, NotFound
from ._base import Repository
from ._crypto import SecretBox
from ._engine import URL_ENV, WRITE, make_engine, mask_url, normalize_url
from ._home import data_home
from ._migrate import upgrade
from ._records import (
    ComponentRecord,
    DocumentErrorRecord,
    DryRunRecord,
    ExecutionRecord,
    JournalEntry,
    ListenerHealth,
    LogEntry,
    ShapeDocumentRecord,
    WatermarkRecord,
)
from ._schema import (
    components,
    document_errors,
    dry_runs,
    execution_logs,
    executions,
    leases,
    listener_health,
    process_properties,
    secrets,
    send_journal,
    shape_documents,
    utcnow,
    watermarks,
)

__all__ = ["SqlRepository", "BATCH_SIZE"]

# Rows per executemany. Big enough that per-statement overhead vanishes, small enough that
# a generator of 100 000 log lines never sits in memory at once.
BATCH_SIZE = 1000
# Ids per ``IN (...)`` list: well under SQLite's bound-parameter limit.
_IN_CHUNK = 500

_EXECUTION_FIELDS = {f.name for f in dataclass_fields(ExecutionRecord)}
_HEALTH_FIELDS = [f.name for f in dataclass_fields(ListenerHealth)]
_EXECUTION_DEPENDENTS: tuple[Table, ...] = (execution_logs, document_errors, shape_documents, dry_runs,
                                            send_journal)
# PostgreSQL advisory lock key held while saving components (any constant of our own).
_COMPONENTS_LOCK_KEY = 0x50524F4D5F434F4D  # "PROM_COM"


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _canonical(body: Any) -> str:
    """The body as sorted compact JSON: equal bodies give equal text whatever the key order."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _driver_message(exc: BaseException, password: str | None = None) -> str:
    """First line of the driver's own message (never SQLAlchemy's, which would add the
    statement), with the URL's password scrubbed in case a driver echoes its DSN."""
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    text = lines[0] if lines else orig.__class__.__name__
    if password:
        text = text.replace(password, "***")
    return text


class SqlRepository(Repository):
    """The repository on one database. Thread-safe: each call takes a pooled connection.

    After ``os.fork()`` the child drops the inherited pool by itself; still, prefer opening
    the repository in each process (``multiprocessing`` with spawn does that naturally)."""

    def __init__(self, url: str | URL, *, home: str | Path | None = None, secret_key: str | None = None,
                 migrate: bool = True) -> None:
        """Open (and, when ``migrate``, upgrade) the database at ``url``.

        ``home`` holds the secret key file (default: :func:`data_home`); ``secret_key``
        overrides ``POSTROOM_SECRET_KEY`` and the key file. Raises ConfigError naming
        ``POSTROOM_DATABASE_URL`` when the database cannot be opened."""
        self._url = normalize_url(url) if isinstance(url, str) else normalize_url(url.render_as_string(False))
        self._home = data_home(home)
        self._box = SecretBox(self._home, key=secret_key, stored=lambda: [n for n, _ in self.list_secrets()])
        self.engine = make_engine(self._url)
        self._dialect = self.engine.dialect.name
        # The send journal's own driver connection (see _raw_executemany): process id, connection.
        self._journal_lock = threading.Lock()
        self._journal_raw: tuple[int, Any] | None = None
        try:
            if migrate:
                upgrade(self.engine)
            else:
                with self.engine.connect():
                    pass
        except (OperationalError, InterfaceError, DBAPIError) as exc:
            self.engine.dispose()
            raise ConfigError(
                f"cannot open the database {self.display_url}: {_driver_message(exc, self._url.password)}",
                fix=f"check {URL_ENV} (host, port, user, password, database name, file path) "
                "and that the server is running; unset it to use the default SQLite file",
            ) from None

    # -- additions to the interface ------------------------------------------------------------
    @property
    def display_url(self) -> str:
        """The database URL with its password hidden, for messages and ``postroom`` output."""
        return mask_url(self._url)

    @property
    def home(self) -> Path:
        """The data folder this repository keeps its key file in."""
        return self._home

    def __repr__(self) -> str:
        return f"SqlRepository({self.display_url!r})"

    def close(self) -> None:
        with self._journal_lock:
            held, self._journal_raw = self._journal_raw, None
        if held is not None and held[0] == os.getpid():
            held[1].close()  # back to the pool, which dispose() then closes
        self.engine.dispose()

    # -- plumbing -----------------------------------------------------------------------------
    @contextmanager
    def _connection(self, write: bool) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn:
                if write:
                    conn.execution_options(**{WRITE: True})
                with conn.begin():
                    yield conn
        except (OperationalError, InterfaceError) as exc:
            raise ConnectionFailed(
                f"the repository database {self.display_url} failed: {_driver_message(exc, self._url.password)}",
                fix=f"check that the database in {URL_ENV} is running and reachable; retry",
            ) from None

    def _write(self) -> AbstractContextManager[Connection]:
        """A write transaction (takes SQLite's write lock up front)."""
        return self._connection(write=True)

    def _read(self) -> AbstractContextManager[Connection]:
        return self._connection(write=False)

    def _insert(self, table: Table) -> Any:
        """The dialect's INSERT, which offers ON CONFLICT on both SQLite and PostgreSQL."""
        dialect = pg_dialect if self._dialect == "postgresql" else sqlite_dialect
        return dialect.insert(table)

    def _upsert(self, conn: Connection, table: Table, keys: list[str], rows: list[dict[str, Any]]) -> None:
        stmt = self._insert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=keys,
            set_={c: stmt.excluded[c] for c in rows[0] if c not in keys},
        )
        conn.execute(stmt, rows)

    def _insert_many(self, table: Table, rows: Iterable[dict[str, Any]]) -> None:
        """Bulk insert in one transaction, in chunks; no transaction at all for no rows.
        SQLite: executemany. PostgreSQL: COPY, about four times faster than executemany
        through psycopg for the tens of thousands of rows a test-mode run records."""
        chunks = _chunks(rows, BATCH_SIZE)
        first = next(chunks, None)
        if first is None:
            return
        with self._write() as conn:
            if self._dialect == "postgresql":
                self._copy(conn, table, itertools.chain([first], chunks))
            else:
                conn.execute(table.insert(), first)
                for chunk in chunks:
                    conn.execute(table.insert(), chunk)

    def _copy(self, conn: Connection, table: Table, chunks: Iterable[list[dict[str, Any]]]) -> None:
        """``COPY ... FROM STDIN`` on the driver connection, inside the open transaction.
        Values go through each column type's bind processor, as with a normal INSERT."""
        columns = [c for c in table.columns if not (c.primary_key and c.autoincrement is True)]
        processors = [c.type.bind_processor(conn.dialect) for c in columns]
        names = ", ".join(conn.dialect.identifier_preparer.quote(c.name) for c in columns)
        sql = f"COPY {conn.dialect.identifier_preparer.format_table(table)} ({names}) FROM STDIN"
        import psycopg

        driver = conn.connection.driver_connection
        try:
            with driver.cursor() as cursor, cursor.copy(sql) as copy:
                for chunk in chunks:
                    for row in chunk:
                        copy.write_row([row[c.name] if p is None else p(row[c.name])
                                        for c, p in zip(columns, processors, strict=True)])
        except psycopg.Error as exc:
            # The driver's error as SQLAlchemy's (IntegrityError, OperationalError...), like
            # every other statement, so callers and _connection handle one family.
            raise DBAPIError.instance(sql, None, exc, psycopg.Error, hide_parameters=True) from None

    # -- components ------------------------------------------------------------------------------
    @staticmethod
    def _component(row: Row[Any]) -> ComponentRecord:
        return ComponentRecord(id=row.id, type=row.type, name=row.name, body=row.body, folder=row.folder,
                               version=row.version, source_file=row.source_file, created_at=row.created_at)

    @staticmethod
    def _latest_rows(conn: Connection, ids: list[str] | None) -> list[Row[Any]]:
        """The latest version row of the given ids (every component when None)."""
        def query(chunk: list[str] | None) -> list[Row[Any]]:
            latest = select(components.c.id, func.max(components.c.version).label("version"))
            if chunk is not None:
                latest = latest.where(components.c.id.in_(chunk))
            sub = latest.group_by(components.c.id).subquery()
            stmt = select(components).join(
                sub, and_(components.c.id == sub.c.id, components.c.version == sub.c.version))
            return list(conn.execute(stmt))

        if ids is None:
            return query(None)
        return [row for chunk in _chunks(ids, _IN_CHUNK) for row in query(chunk)]

    def save_components(self, records: list[ComponentRecord]) -> list[ComponentRecord]:
        """All or nothing. A record is unchanged (keeps its version) when its type, name,
        folder and body (compared as JSON, key order ignored) equal the latest version's;
        its ``source_file``, when given, is then updated in place. Returns new records;
        the arguments are not modified. Raises ConfigError for an id given twice, a body
        that is not JSON, or a record the database refuses (then nothing is stored)."""
        seen: set[str] = set()
        canon: dict[str, str] = {}
        for record in records:
            if record.id in seen:
                raise ConfigError(f"component id {record.id!r} appears more than once in one import",
                                  component=record.id, fix="give each component its own id")
            seen.add(record.id)
            try:
                canon[record.id] = _canonical(record.body)
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"the component body cannot be stored as JSON: {exc}", component=record.id,
                                  fix="use only strings, numbers, booleans, null, lists and mappings") from None
        if not records:
            return []

        try:
            return self._save_components_once(records, canon)
        except IntegrityError as exc:
            raise ConfigError(
                f"the components could not be stored, nothing was saved: {_driver_message(exc)}",
                fix="check that every component has an id, type and name",
            ) from None

    def _save_components_once(self, records: list[ComponentRecord],
                              canon: dict[str, str]) -> list[ComponentRecord]:
        now = utcnow()
        result: list[ComponentRecord] = []
        with self._write() as conn:
            if self._dialect == "postgresql":
                # Serialise saves (SQLite's BEGIN IMMEDIATE already does): the versions read
                # next are then the committed latest, and two importers never pick one number.
                conn.execute(select(func.pg_advisory_xact_lock(_COMPONENTS_LOCK_KEY)))
            latest = {row.id: row for row in self._latest_rows(conn, [r.id for r in records])}
            inserts: list[dict[str, Any]] = []
            for record in records:
                row = latest.get(record.id)
                if (row is not None and row.type == record.type and row.name == record.name
                        and row.folder == (record.folder or "") and _canonical(row.body) == canon[record.id]):
                    stored = self._component(row)
                    if record.source_file is not None and record.source_file != row.source_file:
                        conn.execute(update(components)
                                     .where(components.c.id == row.id, components.c.version == row.version)
                                     .values(source_file=record.source_file))
                        stored.source_file = record.source_file
                    result.append(stored)
                    continue
                version = row.version + 1 if row is not None else 1
                inserts.append({"id": record.id, "version": version, "type": record.type, "name": record.name,
                                "folder": record.folder or "", "body": record.body,
                                "source_file": record.source_file, "created_at": now})
                result.append(replace(record, folder=record.folder or "", version=version, created_at=now))
            for chunk in _chunks(inserts, BATCH_SIZE):
                conn.execute(components.insert(), chunk)
        return result

    def get_component(self, component_id: str, version: int | None = None) -> ComponentRecord | None:
        stmt = select(components).where(components.c.id == component_id)
        if version is None:
            stmt = stmt.order_by(components.c.version.desc()).limit(1)
        else:
            stmt = stmt.where(components.c.version == version)
        with self._read() as conn:
            row = conn.execute(stmt).first()
        return self._component(row) if row is not None else None

    def list_components(self, type: str | None = None, folder: str | None = None) -> list[ComponentRecord]:
        """Latest versions; ``folder`` matches that folder and its subfolders (``A`` lists
        ``A`` and ``A/B``, not ``AB``); ``""`` lists the top level only. Sorted in Python
        so the order is the same on every database collation."""
        with self._read() as conn:
            rows = self._latest_rows(conn, None)
        found = [self._component(r) for r in rows]
        if type is not None:
            found = [c for c in found if c.type == type]
        if folder is not None:
            folder = folder.strip("/")
            found = [c for c in found
                     if c.folder == folder or (folder and c.folder.startswith(folder + "/"))]
        return sorted(found, key=lambda c: (c.folder, c.name, c.id))

    def component_versions(self, component_id: str) -> list[ComponentRecord]:
        stmt = select(components).where(components.c.id == component_id).order_by(components.c.version)
        with self._read() as conn:
            return [self._component(r) for r in conn.execute(stmt)]

    def delete_component(self, component_id: str) -> bool:
        with self._write() as conn:
            return conn.execute(delete(components).where(components.c.id == component_id)).rowcount > 0

    # -- secrets ----------------------------------------------------------------------------------
    def set_secret(self, name: str, value: str) -> None:
        """Store ``value`` encrypted; only the ciphertext reaches the database."""
        if not name or not name.strip():
            raise ConfigError("a secret needs a name", fix="postroom secrets set NAME")
        if not isinstance(value, str):
            raise ConfigError(f"secret {name!r}: the value must be text", fix="pass the value as a string")
        token = self._box.encrypt(value)
        with self._write() as conn:
            self._upsert(conn, secrets, ["name"], [{"name": name, "ciphertext": token, "updated_at": utcnow()}])

    def get_secret(self, name: str) -> str | None:
        with self._read() as conn:
            token = conn.execute(select(secrets.c.ciphertext).where(secrets.c.name == name)).scalar()
        return None if token is None else self._box.decrypt(name, token)

    def list_secrets(self) -> list[tuple[str, datetime]]:
        with self._read() as conn:
            rows = conn.execute(select(secrets.c.name, secrets.c.updated_at).order_by(secrets.c.name))
            return [(r.name, r.updated_at) for r in rows]

    def delete_secret(self, name: str) -> bool:
        with self._write() as conn:
            return conn.execute(delete(secrets).where(secrets.c.name == name)).rowcount > 0

    # -- executions ---------------------------------------------------------------------------------
    @staticmethod
    def _execution(row: Row[Any]) -> ExecutionRecord:
        record = ExecutionRecord(**{name: getattr(row, name) for name in _EXECUTION_FIELDS})
        record.connector_counts = record.connector_counts or {}  # NULL in rows older than 0003
        return record

    def create_execution(self, record: ExecutionRecord) -> None:
        """``started_at`` defaults to now. ConfigError when the id is taken."""
        values = {name: getattr(record, name) for name in _EXECUTION_FIELDS}
        values["started_at"] = values["started_at"] or utcnow()
        values["request"] = values["request"] or {}
        values["connector_counts"] = values["connector_counts"] or {}
        try:
            with self._write() as conn:
                conn.execute(executions.insert(), values)
        except IntegrityError:
            raise ConfigError(f"execution {record.id!r} already exists",
                              fix="give every execution a new id") from None

    def update_execution(self, execution_id: str, **fields: Any) -> None:
        """Raises TypeError for a name that is not an ExecutionRecord field (or ``id``),
        NotFound when the execution does not exist."""
        unknown = set(fields) - (_EXECUTION_FIELDS - {"id"})
        if unknown:
            raise TypeError(f"update_execution: not execution fields: {', '.join(sorted(unknown))}")
        if "request" in fields and fields["request"] is None:
            fields["request"] = {}
        with self._write() as conn:
            if fields:
                count = conn.execute(update(executions).where(executions.c.id == execution_id)
                                     .values(**fields)).rowcount
            else:
                count = len(conn.execute(select(executions.c.id)
                                         .where(executions.c.id == execution_id)).all())
        if count == 0:
            raise NotFound(f"execution {execution_id!r} does not exist")

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
            return conn.execute(update(executions).where(
                executions.c.id == execution_id, executions.c.lease_host == host, executions.c.lease_pid == pid,
            ).values(heartbeat_at=utcnow())).rowcount == 1

    def get_execution(self, execution_id: str) -> ExecutionRecord | None:
        with self._read() as conn:
            row = conn.execute(select(executions).where(executions.c.id == execution_id)).first()
        return self._execution(row) if row is not None else None

    def list_executions(self, process_id: str | None = None, status: str | None = None,
                        limit: int = 50) -> list[ExecutionRecord]:
        """Newest first (by start time, then id); ``limit`` <= 0 means no limit."""
        stmt = select(executions).order_by(executions.c.started_at.desc(), executions.c.id.desc())
        if process_id is not None:
            stmt = stmt.where(executions.c.process_id == process_id)
        if status is not None:
            stmt = stmt.where(executions.c.status == status)
        if limit and limit > 0:
            stmt = stmt.limit(limit)
        with self._read() as conn:
            return [self._execution(r) for r in conn.execute(stmt)]

    def add_logs(self, execution_id: str, entries: Iterable[LogEntry]) -> None:
        self._insert_many(execution_logs, (
            {"execution_id": execution_id, "time": e.time, "level": e.level, "message": e.message,
             "shape": e.shape} for e in entries))

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
             "data": _as_bytes(d.data), "properties": dict(d.properties), "dynamic": dict(d.dynamic)}
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
             "payload": _as_bytes(d.payload)} for d in records))

    def get_dry_runs(self, execution_id: str) -> list[DryRunRecord]:
        stmt = select(dry_runs).where(dry_runs.c.execution_id == execution_id).order_by(dry_runs.c.id)
        with self._read() as conn:
            return [DryRunRecord(shape=r.shape, document=r.document, action=r.action, payload=bytes(r.payload))
                    for r in conn.execute(stmt)]

    def purge_executions(self, older_than: datetime) -> int:
        """Executions that ended before ``older_than``, with their logs, errors, shape
        documents, dry runs and journal. Executions still running (no end) are kept."""
        with self._write() as conn:
            ids = list(conn.execute(select(executions.c.id).where(executions.c.ended_at < older_than)).scalars())
            for chunk in _chunks(ids, _IN_CHUNK):
                for table in _EXECUTION_DEPENDENTS:
                    conn.execute(delete(table).where(table.c.execution_id.in_(chunk)))
                conn.execute(delete(executions).where(executions.c.id.in_(chunk)))
        return len(ids)

    # -- persisted dynamic process properties ----------------------------------------------------------
    def get_persisted_properties(self, process_id: str) -> dict[str, str]:
        stmt = (select(process_properties.c.name, process_properties.c.value)
                .where(process_properties.c.process_id == process_id).order_by(process_properties.c.name))
        with self._read() as conn:
            return {r.name: r.value for r in conn.execute(stmt)}

    def set_persisted_properties(self, process_id: str, values: dict[str, str]) -> None:
        if not values:
            return
        now = utcnow()
        rows = [{"process_id": process_id, "name": k, "value": str(v), "updated_at": now} for k, v in values.items()]
        with self._write() as conn:
            self._upsert(conn, process_properties, ["process_id", "name"], rows)

    # -- send journal ---------------------------------------------------------------------------------
    @staticmethod
    def _journal(row: Row[Any]) -> JournalEntry:
        return JournalEntry(execution_id=row.execution_id, key=row.key, message_id=row.message_id,
                            status=row.status, reply=row.reply, updated_at=row.updated_at)

    def journal_begin(self, execution_id: str, key: str, message_id: str) -> JournalEntry:
        """Insert-or-get on the primary key (execution_id, key): safe when two workers race,
        the loser gets the winner's entry (and so its Message-ID)."""
        stmt = self._insert(send_journal).on_conflict_do_nothing(index_elements=["execution_id", "key"])
        with self._write() as conn:
            conn.execute(stmt, {"execution_id": execution_id, "key": key, "message_id": message_id,
                                "status": "pending", "reply": "", "updated_at": utcnow()})
            row = conn.execute(select(send_journal).where(send_journal.c.execution_id == execution_id,
                                                          send_journal.c.key == key)).one()
        return self._journal(row)

    def journal_finish(self, execution_id: str, key: str, status: str, reply: str = "") -> None:
        """NotFound when ``journal_begin`` was not called for the key."""
        with self._write() as conn:
            count = conn.execute(update(send_journal)
                                 .where(send_journal.c.execution_id == execution_id, send_journal.c.key == key)
                                 .values(status=status, reply=reply or "", updated_at=utcnow())).rowcount
        if count == 0:
            raise NotFound(f"no journal entry {key!r} in execution {execution_id!r}",
                           fix="call journal_begin before the side effect")

    def journal_begin_many(self, execution_id: str, items: list[tuple[str, str]]) -> dict[str, JournalEntry]:
        """One transaction for the whole list: insert-or-get as ``journal_begin`` does.

        The insert runs on the driver's connection (see ``journal_finish_many``); when it
        inserted every key (a first run: nothing was there), the entries are what it wrote
        and nothing is read back."""
        if not items:
            return {}
        now = utcnow()
        unique = dict(items)  # the first message id of a key repeated in the list
        if len(unique) < len(items):
            unique = {}
            for key, message_id in items:
                unique.setdefault(key, message_id)
        at = self._journal_time(now)
        rows = [(execution_id, key, message_id, "pending", "", at) for key, message_id in unique.items()]
        if self._raw_executemany(self._journal_insert_sql, rows) == len(rows):
            return {key: JournalEntry(execution_id=execution_id, key=key, message_id=message_id, status="pending",
                                      reply="", updated_at=now) for key, message_id in unique.items()}
        entries: dict[str, JournalEntry] = {}
        with self._read() as conn:
            for keys in _chunks(unique, _IN_CHUNK):
                query = select(send_journal).where(send_journal.c.execution_id == execution_id,
                                                   send_journal.c.key.in_(keys))
                entries.update((r.key, self._journal(r)) for r in conn.execute(query))
        return entries

    @cached_property
    def _journal_insert_sql(self) -> str:
        dialect = self.engine.dialect
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        quote = dialect.identifier_preparer.quote
        columns = ["execution_id", "key", "message_id", "status", "reply", "updated_at"]
        return (f"INSERT INTO {quote(send_journal.name)} ({', '.join(quote(c) for c in columns)}) "
                f"VALUES ({', '.join([mark] * len(columns))}) "
                f"ON CONFLICT ({quote('execution_id')}, {quote('key')}) DO NOTHING")

    def journal_finish_many(self, execution_id: str, items: list[tuple[str, str, str]]) -> None:
        """One transaction for the whole list; NotFound when a key was never begun.

        A sender calls this once per email or small group of emails and waits for it
        before its next email may be accepted (so a crash repeats at most one email per
        session), so it runs on the driver's own connection and cursor: one prepared
        UPDATE, executemany, commit. Through SQLAlchemy's Connection the same transaction
        costs five to ten times as much, which capped how fast mail could go out."""
        if not items:
            return
        at = self._journal_time(utcnow())
        rows = [(status, reply or "", at, execution_id, key) for key, status, reply in items]
        count = self._raw_executemany(self._journal_update_sql, rows)
        if count >= 0 and count < len(rows):  # the others are committed, as one by one they would be
            raise NotFound(f"some of {len(rows)} journal entries of execution {execution_id!r} were never begun",
                           fix="call journal_begin before the side effect")

    @cached_property
    def _journal_update_sql(self) -> str:
        dialect = self.engine.dialect
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        quote = dialect.identifier_preparer.quote
        return (f"UPDATE {quote(send_journal.name)} SET {quote('status')} = {mark}, {quote('reply')} = {mark}, "
                f"{quote('updated_at')} = {mark} WHERE {quote('execution_id')} = {mark} AND {quote('key')} = {mark}")

    def _journal_time(self, value: datetime) -> Any:
        """``value`` as SQLAlchemy would bind it to send_journal.updated_at on this database."""
        processor = self._journal_time_processor
        return processor(value) if processor else value

    @cached_property
    def _journal_time_processor(self) -> Any:
        return send_journal.c.updated_at.type.bind_processor(self.engine.dialect)

    def _raw_executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> int:
        """One write transaction on the journal's driver connection; the rows changed (-1: unknown).

        The journal keeps one pooled connection checked out (per process: a forked child
        takes its own), so a write costs no pool checkout and return; calls take turns."""
        dbapi = self.engine.dialect.dbapi
        sqlite = self._dialect == "sqlite"
        with self._journal_lock:
            try:
                held = self._journal_raw
                if held is None or held[0] != os.getpid():
                    held = self._journal_raw = (os.getpid(), self.engine.raw_connection())
                raw = held[1]
                cursor = raw.cursor()
                try:
                    if sqlite:  # autocommit mode (see _engine): take the write lock up front
                        cursor.execute("BEGIN IMMEDIATE")
                    cursor.executemany(sql, rows)
                    count = cursor.rowcount if cursor.rowcount is not None else -1
                    raw.commit()
                except BaseException:
                    self._journal_raw = None
                    for undo in (cursor.close, raw.rollback):
                        try:
                            undo()
                        except Exception:  # noqa: BLE001, S110 - the first error is the one to report
                            pass
                    raw.invalidate()  # not back to the pool: its state is unknown
                    raise
                cursor.close()
            except (dbapi.OperationalError, dbapi.InterfaceError) as exc:
                raise ConnectionFailed(
                    f"the repository database {self.display_url} failed: "
                    f"{_driver_message(exc, self._url.password)}",
                    fix=f"check that the database in {URL_ENV} is running and reachable; retry",
                ) from None
        return count

    def journal_entries(self, execution_id: str) -> dict[str, JournalEntry]:
        stmt = (select(send_journal).where(send_journal.c.execution_id == execution_id)
                .order_by(send_journal.c.key))
        with self._read() as conn:
            return {r.key: self._journal(r) for r in conn.execute(stmt)}

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


def _as_bytes(data: bytes | bytearray | memoryview | str) -> bytes:
    """Document data as bytes; text (a convenience for callers) is stored as UTF-8."""
    if isinstance(data, str):
        return data.encode("utf-8")
    return bytes(data)
