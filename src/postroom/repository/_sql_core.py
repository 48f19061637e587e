"""What the parts of the SQL repository share: opening the database, transactions, bulk
inserts and the helpers for chunks, canonical JSON and driver messages.

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
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from ..errors import ConfigError, ConnectionFailed
from ._base import Repository
from ._crypto import SecretBox
from ._engine import URL_ENV, WRITE, make_engine, mask_url, normalize_url
from ._home import data_home
from ._migrate import upgrade
from ._plain import Cursor

__all__ = ["SqlCore", "BATCH_SIZE", "IN_CHUNK", "in_chunks", "canonical", "driver_message", "as_bytes"]

# Rows per executemany. Big enough that per-statement overhead vanishes, small enough that
# a generator of 100 000 log lines never sits in memory at once.
BATCH_SIZE = 1000
# Ids per ``IN (...)`` list: well under SQLite's bound-parameter limit.
IN_CHUNK = 500


def in_chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def canonical(body: Any) -> str:
    """The body as sorted compact JSON: equal bodies give equal text whatever the key order."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def driver_message(exc: BaseException, password: str | None = None) -> str:
    """First line of the driver's own message (never SQLAlchemy's, which would add the
    statement), with the URL's password scrubbed in case a driver echoes its DSN."""
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    text = lines[0] if lines else orig.__class__.__name__
    if password:
        text = text.replace(password, "***")
    return text


class SqlCore(Repository):
    """What every part of the SQL repository shares: the engine, the secret box, the
    journal's driver connection, and the transaction and bulk-insert plumbing.

    The repository on one database. Thread-safe: each call takes a pooled connection.

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
        # The send journal's own driver connection (see _raw_write): process id, connection.
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
                f"cannot open the database {self.display_url}: {driver_message(exc, self._url.password)}",
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
                f"the repository database {self.display_url} failed: {driver_message(exc, self._url.password)}",
                fix=f"check that the database in {URL_ENV} is running and reachable; retry",
            ) from None

    def _db(self, conn: Connection) -> _Driver:
        """``conn`` for the plain statements of ``_plain.py``."""
        return _Driver(conn, self._dialect == "sqlite")

    def _write(self) -> AbstractContextManager[Connection]:
        """A write transaction (takes SQLite's write lock up front)."""
        return self._connection(write=True)

    def _read(self) -> AbstractContextManager[Connection]:
        return self._connection(write=False)

    def _insert(self, table: Table) -> Any:
        """The dialect's INSERT, which offers ON CONFLICT on both SQLite and PostgreSQL."""
        # Imported here: a SQLite repository never loads the PostgreSQL dialect (~50 ms).
        if self._dialect == "postgresql":
            from sqlalchemy.dialects import postgresql

            return postgresql.insert(table)
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table)

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
        chunks = in_chunks(rows, BATCH_SIZE)
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
        if driver is None:  # invalidated under us: the lost connection _connection reports
            raise InterfaceError(sql, None, Exception("the database connection was closed"))
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



class _Driver:
    """A SQLAlchemy connection running ``_plain.py``'s statements on its driver connection
    (``exec_driver_sql``: SQLAlchemy's transaction, error wrapping and pool, no compiling)."""

    def __init__(self, conn: Connection, sqlite: bool) -> None:
        self.conn, self.sqlite = conn, sqlite

    def _sql(self, sql: str) -> str:
        return sql if self.sqlite else sql.replace("?", "%s")  # psycopg's marks

    def execute(self, sql: str, params: Any = ()) -> Cursor:
        return self.conn.exec_driver_sql(self._sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Any) -> Cursor:
        return self.conn.exec_driver_sql(self._sql(sql), [tuple(row) for row in rows])


def as_bytes(data: bytes | bytearray | memoryview | str) -> bytes:
    """Document data as bytes; text (a convenience for callers) is stored as UTF-8."""
    if isinstance(data, str):
        return data.encode("utf-8")
    return bytes(data)
