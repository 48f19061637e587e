"""The repository of ``postroom run`` on a SQLite file whose schema is current, without
SQLAlchemy.

Importing SQLAlchemy (and the repository's Core tables) costs a run about a third of its
start-up. A run's own reads and writes are few: its components and secrets, its execution
record (created, heart-beaten, ended, read), its log, its send journal and persisted
properties, and for ``--json`` its log and failed documents read back (and "none" for the
bounce reports and chunks it has none of). Those are the plain statements of ``_plain.py``, which the SQLAlchemy repository
runs too; here they run on one :mod:`sqlite3` connection with the same pragmas, busy
timeout and ``BEGIN IMMEDIATE`` writes as the repository's engine. Any other method (a
test-mode record, a watermark, a scoped journal...) opens the full repository on the same
file on first use and goes there (each method is one transaction, so the two connections
never share one). PostgreSQL, a new or older database (it must migrate) or an unusual URL
get the full repository from the start (ADR 0019).
"""

from __future__ import annotations

import itertools
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ..errors import ConfigError, ConnectionFailed
from . import _plain as plain
from ._crypto import SecretBox
from ._home import SQLITE_BUSY_TIMEOUT_MS, SQLITE_FILE_PRAGMAS, URL_ENV, data_home
from ._listing import open_sqlite_at, sqlite_file
from ._records import ComponentRecord, DocumentErrorRecord, ExecutionRecord, JournalEntry, LogEntry

if TYPE_CHECKING:
    from ._base import Repository

__all__ = ["open_run_repository"]

T = TypeVar("T")


def open_run_repository(url: str | None = None, home: str | Path | None = None) -> Repository:
    """The repository for a run: :class:`SqliteRunStore` on a current SQLite file, else
    :func:`open_repository`'s (which creates and migrates as always)."""
    from . import default_database_url, open_repository
    from ._migrate import HEAD

    resolved = data_home(home)
    path = sqlite_file(url or default_database_url(resolved))
    if path is not None:
        conn = open_sqlite_at(path, HEAD)
        if conn is not None:
            return cast("Repository", SqliteRunStore(conn, path, resolved,
                                                     lambda: open_repository(url, resolved)))
    return open_repository(url, resolved)


class _SqliteDb:
    """One open transaction on the store's connection, for ``_plain.py``."""

    sqlite = True

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, tuple(params))

    def executemany(self, sql: str, rows: Any) -> sqlite3.Cursor:
        return self.conn.executemany(sql, rows)


class SqliteRunStore:
    """A run's reads and writes with :mod:`sqlite3`; everything else in the full repository.
    Thread-safe: calls take turns on the one connection (SQLite serialises writers anyway)."""

    def __init__(self, conn: sqlite3.Connection, path: Path, home: Path, open_full: Callable[[], Any]) -> None:
        self._path, self._home, self._open_full = path, home, open_full
        self._lock = threading.RLock()
        self._pid = os.getpid()
        self._conn = self._tune(conn)
        self._full: Any = None
        self._box = SecretBox(home, stored=lambda: [name for name, _ in self.list_secrets()])

    @staticmethod
    def _tune(conn: sqlite3.Connection) -> sqlite3.Connection:
        for pragma in (*SQLITE_FILE_PRAGMAS, f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}"):
            conn.execute(pragma)
        return conn

    # -- what is not a run's: the full repository, opened on first use -----------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # never another object's private parts (nor ours before __init__ set them)
            raise AttributeError(name)
        return getattr(self._repository(), name)

    def _repository(self) -> Any:
        with self._lock:
            if self._full is None:
                self._full = self._open_full()
            return self._full

    @property
    def display_url(self) -> str:
        return f"sqlite:///{self._path}"

    @property
    def home(self) -> Path:
        return self._home

    def __repr__(self) -> str:
        return f"SqliteRunStore({self.display_url!r})"

    def close(self) -> None:
        with self._lock:
            full, self._full = self._full, None
            self._conn.close()
        if full is not None:
            full.close()

    # -- transactions ---------------------------------------------------------------------------
    @contextmanager
    def _transaction(self, write: bool) -> Iterator[plain.Db]:
        with self._lock:
            if self._pid != os.getpid():  # a forked child never uses its parent's handle
                self._pid = os.getpid()
                self._conn = self._tune(sqlite3.connect(self._path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
                                                        isolation_level=None, check_same_thread=False))
            try:
                self._conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    yield _SqliteDb(self._conn)
                except BaseException:
                    self._conn.rollback()
                    raise
                self._conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                raise ConnectionFailed(
                    f"the repository database {self.display_url} failed: {exc}",
                    fix=f"check that the database in {URL_ENV} is running and reachable; retry",
                ) from None

    def _read(self, work: Callable[[plain.Db], T]) -> T:
        with self._transaction(write=False) as db:
            return work(db)

    def _write(self, work: Callable[[plain.Db], T]) -> T:
        with self._transaction(write=True) as db:
            return work(db)

    # -- a run's reads and writes -------------------------------------------------------------------
    def get_component(self, component_id: str, version: int | None = None) -> ComponentRecord | None:
        return self._read(lambda db: plain.component(db, component_id, version))

    def get_secret(self, name: str) -> str | None:
        token = self._read(lambda db: plain.secret_ciphertext(db, name))
        return None if token is None else self._box.decrypt(name, token)

    def create_execution(self, record: ExecutionRecord) -> None:
        try:
            self._write(lambda db: plain.insert_execution(db, record, _now()))
        except sqlite3.IntegrityError:
            raise ConfigError(f"execution {record.id!r} already exists",
                              fix="give every execution a new id") from None

    def update_execution(self, execution_id: str, **fields: Any) -> None:
        values = plain.check_execution_fields(fields)
        self._write(lambda db: plain.update_execution(db, execution_id, values))

    def get_execution(self, execution_id: str) -> ExecutionRecord | None:
        return self._read(lambda db: plain.execution(db, execution_id))

    def heartbeat_execution(self, execution_id: str, host: str, pid: int) -> bool:
        return self._write(lambda db: plain.heartbeat(db, execution_id, host, pid, _now()))

    def get_persisted_properties(self, process_id: str) -> dict[str, str]:
        return self._read(lambda db: plain.persisted_properties(db, process_id))

    def add_logs(self, execution_id: str, entries: Iterable[LogEntry]) -> None:
        iterator = iter(entries)
        first = next(iterator, None)
        if first is not None:
            self._write(lambda db: plain.insert_logs(db, execution_id, itertools.chain([first], iterator)))

    # the reads of `postroom run --json`'s view: an execution's log and failed documents here;
    # its bounce reports and chunks too when it has none (most runs), else the full repository
    def get_logs(self, execution_id: str) -> list[LogEntry]:
        return self._read(lambda db: plain.logs(db, execution_id))

    def get_document_errors(self, execution_id: str) -> list[DocumentErrorRecord]:
        return self._read(lambda db: plain.document_errors(db, execution_id))

    def mail_reports(self, execution_id: str) -> list[Any]:
        if not self._read(lambda db: plain.has_rows(db, "mail_reports", execution_id)):
            return []
        return cast("list[Any]", self._repository().mail_reports(execution_id))

    def list_chunks(self, execution_id: str, shape: str | None = None, numbers: Any = None) -> list[Any]:
        if shape is None and numbers is None and not self._read(
                lambda db: plain.has_rows(db, "execution_chunks", execution_id)):
            return []
        return cast("list[Any]", self._repository().list_chunks(execution_id, shape, numbers))

    def journal_begin_many(self, execution_id: str, items: list[tuple[str, str]]) -> dict[str, JournalEntry]:
        if not items:
            return {}
        now = _now()
        return self._write(lambda db: plain.begin_journal(db, execution_id, items, now))

    def journal_finish_many(self, execution_id: str, items: list[tuple[str, str, str]]) -> None:
        if not items:
            return
        now = _now()
        count = self._write(lambda db: plain.finish_journal(db, execution_id, items, now))
        plain.check_finished(execution_id, items, count)


def _now() -> datetime:
    return datetime.now(UTC)
