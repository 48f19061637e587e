"""Database URLs and engines: SQLite (default, one file) and PostgreSQL (shared).

SQLite is tuned so several threads and processes can use one file: WAL (readers never
block the writer), a busy timeout (a writer waits for the lock instead of failing), and
write transactions that start with ``BEGIN IMMEDIATE`` (they take the write lock first,
so a read-then-write transaction cannot fail half-way with "database is locked").
"""

from __future__ import annotations

import os
import re
import weakref
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import StaticPool

from ..errors import ConfigError
from ._home import SQLITE_BUSY_TIMEOUT_MS, SQLITE_FILE_PRAGMAS, URL_ENV

__all__ = ["URL_ENV", "SQLITE_BUSY_TIMEOUT_MS", "normalize_url", "mask_url", "make_engine", "WRITE"]

# Execution option marking a connection whose transactions write (see module docstring).
WRITE = "postroom_write"

_FIX = (
    f"set {URL_ENV} to sqlite:///PATH/postroom.db or postgresql://USER:PASSWORD@HOST:PORT/DB, "
    "or unset it to use the default SQLite file in POSTROOM_HOME"
)


def mask_url(text: str | URL) -> str:
    """The URL with its password hidden, safe for messages and logs."""
    if isinstance(text, URL):
        return text.render_as_string(hide_password=True)
    try:
        return make_url(text).render_as_string(hide_password=True)
    except Exception:  # unparsable: hide anything between "user:" and "@"
        return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", text)


def normalize_url(text: str) -> URL:
    """Parse and check a database URL; ``postgresql://`` and ``postgres://`` get psycopg 3."""
    try:
        url = make_url(text.strip())
    except (ArgumentError, ValueError):
        # Not echoed: an unparsable string may be anything, a bare password included.
        raise ConfigError("the database URL is not a valid URL (expected BACKEND://...)", fix=_FIX) from None
    backend, _, driver = url.drivername.partition("+")
    if backend in ("postgresql", "postgres"):
        if driver not in ("", "psycopg"):
            raise ConfigError(
                f"the database driver {driver!r} in {mask_url(url)!r} is not supported",
                fix=f"use postgresql+psycopg:// (psycopg 3) or plain postgresql:// in {URL_ENV}",
            )
        url = url.set(drivername="postgresql+psycopg")
    elif backend == "sqlite":
        if driver not in ("", "pysqlite"):
            raise ConfigError(
                f"the database driver {driver!r} in {mask_url(url)!r} is not supported",
                fix=f"use sqlite:///PATH in {URL_ENV}",
            )
    else:
        raise ConfigError(
            f"database {backend!r} in {mask_url(url)!r} is not supported (only SQLite and PostgreSQL)",
            fix=_FIX,
        )
    return url


def make_engine(url: URL) -> Engine:
    """An engine for a normalized URL. Parameters never appear in errors or logs
    (``hide_parameters``): they may hold ciphertext, document data or addresses."""
    kw: dict[str, Any] = {"hide_parameters": True}
    if url.get_backend_name() == "sqlite":
        memory = url.database in (None, "", ":memory:")
        if not memory:
            _create_private_file(str(url.database))
        kw["connect_args"] = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        if memory:  # one shared connection, or every checkout would see an empty database
            kw["poolclass"] = StaticPool
    else:
        kw["pool_pre_ping"] = True
        kw["connect_args"] = {"connect_timeout": 10}
    try:
        engine = create_engine(url, **kw)
    except (ModuleNotFoundError, NoSuchModuleError):
        raise ConfigError(
            f"the driver for {mask_url(url)!r} is not installed",
            fix="pip install 'postroom[postgres]' (psycopg 3)",
        ) from None
    except ArgumentError as exc:
        raise ConfigError(f"the database URL {mask_url(url)!r} is not usable: {exc}", fix=_FIX) from None
    if url.get_backend_name() == "sqlite":
        _tune_sqlite(engine, memory=memory)
    _dispose_after_fork(engine)
    return engine


def _create_private_file(path: str) -> None:
    """Create a new SQLite file readable by its owner only (0600) before SQLite opens it:
    SQLite gives its -wal and -shm files the database file's mode. An existing file keeps
    the mode its owner chose."""
    if path.startswith("file:"):
        return  # a URI filename: SQLite opens it as the URI says
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError:
        return  # a folder that does not exist or cannot be written: SQLite's own error says so
    os.close(fd)


def _tune_sqlite(engine: Engine, *, memory: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (the driver's implicit BEGIN is always DEFERRED).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if not memory:
                for pragma in SQLITE_FILE_PRAGMAS:
                    cursor.execute(pragma)
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(WRITE):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def _dispose_after_fork(engine: Engine) -> None:
    """A forked child must not reuse its parent's pooled connections (two processes on one
    socket or one SQLite handle corrupt each other); drop them, without closing, in the child."""
    ref = weakref.ref(engine)

    def _child() -> None:
        eng = ref()
        if eng is not None:
            eng.dispose(close=False)

    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_child)
