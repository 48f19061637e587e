"""The database connection: one SQLAlchemy engine (and its pool) per connection, shared by every session that uses
the connection: the shapes of a run, and runs at the same time. Each session takes the
engine when it opens and gives it back when it closes; the last one to give it back
disposes of it, so the pool's connections close at the end of the run.

Errors from the driver pass through :func:`redact` before they reach a message: a driver
may quote its connection string, the password included.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, NoSuchModuleError, SQLAlchemyError

from ...errors import AuthenticationFailed, ConfigError, ConnectionFailed
from ...sdk import TestReport
from ._sql import driver_url
from .spec import DatabaseConnection

__all__ = ["EnginePool", "POOLS", "connect", "driver_message", "redact", "test_connection"]

_MIN_SECRET = 3  # shorter values would blank ordinary words


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret removed, in clear and as written inside a URL."""
    for secret in secrets:
        if len(secret) < _MIN_SECRET:
            continue
        for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
            text = text.replace(form, "***")
    return text


def driver_message(exc: BaseException, secrets: Iterable[str]) -> str:
    """The driver's own words for an error (not SQLAlchemy's wrapper with the statement),
    one paragraph, secrets removed."""
    original = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = str(original).strip() or type(original).__name__
    if isinstance(exc, SQLAlchemyError) and original is exc:
        text = text.split("\n(Background on this error")[0]
    return redact(" ".join(text.split()), secrets)


@dataclass
class _Entry:
    engine: Engine
    users: int = 0


class EnginePool:
    """The engines of every connection in use, by url and password."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], _Entry] = {}

    def take(self, connection: DatabaseConnection) -> Engine:
        key = (connection.url.strip(), connection.password)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                entry = _Entry(_create(connection))
                self._entries[key] = entry
            entry.users += 1
            return entry.engine

    def give_back(self, engine: Engine) -> None:
        with self._lock:
            for key, entry in list(self._entries.items()):
                if entry.engine is engine:
                    entry.users -= 1
                    if entry.users <= 0:
                        del self._entries[key]
                        engine.dispose()
                    return

    def in_use(self) -> int:
        with self._lock:
            return len(self._entries)


POOLS = EnginePool()


def _create(connection: DatabaseConnection) -> Engine:
    url = driver_url(connection.url, connection.password)
    try:
        engine = create_engine(url, pool_pre_ping=True)
    except (NoSuchModuleError, ImportError) as exc:
        raise ConfigError(f"the database driver for {url.drivername} is not installed "
                          f"({redact(str(exc), [connection.password])})", field="url",
                          fix="install the driver package (for PostgreSQL: pip install 'postroom[postgres]')") from None
    if engine.dialect.name == "sqlite" and engine.dialect.driver == "pysqlite":
        _sqlite_transactions(engine)
    return engine


def _sqlite_transactions(engine: Engine) -> None:
    """Let SQLAlchemy, not Python's sqlite3 module, begin transactions (SQLAlchemy's recipe
    for pysqlite): otherwise a SAVEPOINT opens the transaction itself and each RELEASE
    commits to disk, so a batch would not be one transaction."""

    @event.listens_for(engine, "connect")
    def _no_implicit_begin(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN")


_AUTH_WORDS = ("password authentication failed", "authentication failed", "access denied", "login failed",
               "no password supplied")


def connect(engine: Engine, connection: DatabaseConnection) -> Connection:
    """A connection from the pool; ConnectionFailed / AuthenticationFailed (exit 3) when the
    database cannot be reached or refuses the login, the url and message without the password."""
    try:
        return engine.connect()
    except SQLAlchemyError as exc:
        message = driver_message(exc, [connection.password])
        shown = engine.url.render_as_string(hide_password=True)
        if any(word in message.lower() for word in _AUTH_WORDS):
            raise AuthenticationFailed(f"the database at {shown} refused the login: {message}", field="password",
                                       fix="check the user in url and the password secret") from None
        raise ConnectionFailed(f"could not reach the database at {shown}: {message}", field="url",
                               fix="check that the database server runs and that url names the right host, "
                                   "port and database") from None


def test_connection(connection: DatabaseConnection) -> TestReport:
    """``postroom connections test``: log in, report the dialect, driver and server version."""
    engine = POOLS.take(connection)
    try:
        with connect(engine, connection) as conn:
            version = _server_version(conn)
        facts = [("url", engine.url.render_as_string(hide_password=True)), ("dialect", engine.dialect.name),
                 ("driver", engine.dialect.driver), ("server version", version)]
        return TestReport(ok=True, facts=facts)
    finally:
        POOLS.give_back(engine)


def _server_version(conn: Connection) -> str:
    if conn.dialect.name == "sqlite":
        return "SQLite " + str(conn.execute(text("select sqlite_version()")).scalar())
    if conn.dialect.name == "postgresql":
        return str(conn.execute(text("select version()")).scalar())
    info = conn.dialect.server_version_info
    return ".".join(map(str, info)) if info else "unknown"
