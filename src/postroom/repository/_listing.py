"""Listings for the commands that only read (``postroom components list``, ``postroom
executions list``), opened without SQLAlchemy when they can be.

Importing SQLAlchemy alone costs a listing command most of its time. When the database is
the SQLite file (the default) and its schema is already current (one query on
``alembic_version``), :func:`open_listing` reads it with the standard library's
:mod:`sqlite3`, with the same queries, filters, order and value conversions as the
repository. Anything else (PostgreSQL, a new or older database that needs its migrations, an
unusual URL, a value this module does not read like the repository) goes to the full
repository, which migrates and reports errors as it always has.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol, TypeVar

from ._plain import EXECUTION_COLUMNS, execution_from_row, read_time
from ._records import ComponentSummary, ExecutionRecord

__all__ = ["Listing", "SUMMARY_COLUMNS", "listed", "open_listing", "sqlite_file", "open_sqlite_at"]

#: the component columns a listing shows, in :class:`ComponentSummary`'s order
SUMMARY_COLUMNS = ("id", "type", "name", "folder", "version", "created_at")


class _Listed(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def folder(self) -> str: ...


C = TypeVar("C", bound=_Listed)


class Listing(Protocol):
    def components(self, type: str | None = None, folder: str | None = None) -> list[ComponentSummary]: ...

    def executions(self, process_id: str | None = None, status: str | None = None,
                   limit: int = 50) -> list[ExecutionRecord]: ...

    def close(self) -> None: ...


def listed(found: Iterable[C], type: str | None, folder: str | None) -> list[C]:
    """Components of ``type`` in ``folder`` or its subfolders (``A`` lists ``A`` and
    ``A/B``, not ``AB``; ``""`` the top level only), sorted by folder, name and id in Python
    so the order is the same on every database collation."""
    items = list(found)
    if type is not None:
        items = [c for c in items if c.type == type]
    if folder is not None:
        folder = folder.strip("/")
        items = [c for c in items if c.folder == folder or (folder and c.folder.startswith(folder + "/"))]
    return sorted(items, key=lambda c: (c.folder, c.name, c.id))


def open_listing(url: str | None = None, home: str | Path | None = None) -> Listing:
    """A listing of the repository at ``url`` (as :func:`open_repository` resolves it)."""
    from . import default_database_url, open_repository
    from ._home import data_home
    from ._migrate import HEAD

    resolved = data_home(home)
    path = sqlite_file(url or default_database_url(resolved))
    if path is not None:
        conn = open_sqlite_at(path, HEAD)
        if conn is not None:
            return _Fallback(_SqliteListing(conn), lambda: open_repository(url, resolved))
    return _RepositoryListing(open_repository(url, resolved))


def sqlite_file(url: str) -> Path | None:
    """The file of a plain ``sqlite:///PATH`` URL that exists; None for anything else."""
    for prefix in ("sqlite:///", "sqlite+pysqlite:///"):
        if url.startswith(prefix):
            path = url[len(prefix):]
            if path and path != ":memory:" and not any(c in path for c in "?%#") and not path.startswith("file:"):
                return Path(path) if Path(path).is_file() else None
    return None


def open_sqlite_at(path: Path, head: str) -> sqlite3.Connection | None:
    """The SQLite file at ``path`` opened with :mod:`sqlite3` (autocommit: statements say
    ``BEGIN``), None unless it opens and its schema is at ``head`` (else it needs migrating)."""
    from ._home import SQLITE_BUSY_TIMEOUT_MS

    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=rw", uri=True, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
                               isolation_level=None, check_same_thread=False)
    except sqlite3.Error:
        return None
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        row = None
    if row is None or row[0] != head:
        conn.close()
        return None
    return conn


class _SqliteListing:
    """Plain :mod:`sqlite3` reads of a SQLite repository whose schema is current."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def components(self, type: str | None = None, folder: str | None = None) -> list[ComponentSummary]:
        rows = self._conn.execute(
            "SELECT c.id, c.type, c.name, c.folder, c.version, c.created_at FROM components AS c "
            "JOIN (SELECT id, max(version) AS version FROM components GROUP BY id) AS latest "
            "ON c.id = latest.id AND c.version = latest.version").fetchall()
        return listed([ComponentSummary(i, t, n, f, v, read_time(at)) for i, t, n, f, v, at in rows], type, folder)

    def executions(self, process_id: str | None = None, status: str | None = None,
                   limit: int = 50) -> list[ExecutionRecord]:
        where: list[str] = []
        params: list[str | int] = []
        for column, value in (("process_id", process_id), ("status", status)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        sql = (f"SELECT {', '.join(EXECUTION_COLUMNS)} FROM executions"
               + (f" WHERE {' AND '.join(where)}" if where else "")
               + " ORDER BY started_at DESC, id DESC" + (" LIMIT ?" if limit and limit > 0 else ""))
        if limit and limit > 0:
            params.append(limit)
        return [execution_from_row(row) for row in self._conn.execute(sql, params)]

    def close(self) -> None:
        self._conn.close()


class _RepositoryListing:
    """The listing through the full repository (PostgreSQL, migrations, errors)."""

    def __init__(self, repo: Any) -> None:
        self._repo = repo

    def components(self, type: str | None = None, folder: str | None = None) -> list[ComponentSummary]:
        summaries: list[ComponentSummary] = self._repo.list_component_summaries(type=type, folder=folder)
        return summaries

    def executions(self, process_id: str | None = None, status: str | None = None,
                   limit: int = 50) -> list[ExecutionRecord]:
        records: list[ExecutionRecord] = self._repo.list_executions(process_id=process_id, status=status,
                                                                    limit=limit)
        return records

    def close(self) -> None:
        self._repo.close()


class _Fallback:
    """The quick listing; from the first call it cannot answer (a value stored in a form it
    does not read, a locked or changed schema) on, the full repository."""

    def __init__(self, quick: _SqliteListing, open_full: Callable[[], Any]) -> None:
        self._quick = quick
        self._open_full = open_full
        self._full: _RepositoryListing | None = None

    def components(self, type: str | None = None, folder: str | None = None) -> list[ComponentSummary]:
        if self._full is None:
            try:
                return self._quick.components(type, folder)
            except (sqlite3.Error, ValueError, TypeError):
                pass
        return self._slow().components(type, folder)

    def executions(self, process_id: str | None = None, status: str | None = None,
                   limit: int = 50) -> list[ExecutionRecord]:
        if self._full is None:
            try:
                return self._quick.executions(process_id, status, limit)
            except (sqlite3.Error, ValueError, TypeError):
                pass
        return self._slow().executions(process_id, status, limit)

    def _slow(self) -> _RepositoryListing:
        if self._full is None:
            self._quick.close()
            self._full = _RepositoryListing(self._open_full())
        return self._full

    def close(self) -> None:
        if self._full is not None:
            self._full.close()
        self._quick.close()
