"""Storage: components and their versions, encrypted secrets, executions and what is
recorded with them, persisted process properties, the send journal, mailbox watermarks,
leases and listener health, behind one interface (:class:`Repository`).

Open it with :func:`open_repository`; every caller (CLI, web, engine, workers) should.
"""

from __future__ import annotations

import os
from pathlib import Path

from ._base import Repository
from ._home import URL_ENV, data_home
from ._listing import Listing, open_listing
from ._records import (
    ApiTokenRecord,
    ChunkRecord,
    ComponentRecord,
    ComponentSummary,
    DeploymentRecord,
    DocumentErrorRecord,
    DryRunRecord,
    ExecutionRecord,
    JournalEntry,
    ListenerHealth,
    LogEntry,
    MailReport,
    ScheduleFiring,
    SessionRecord,
    ShapeDocumentRecord,
    UserRecord,
    WatermarkRecord,
)

__all__ = [
    "Repository",
    "ComponentRecord",
    "ComponentSummary",
    "Listing",
    "open_listing",
    "ExecutionRecord",
    "LogEntry",
    "DocumentErrorRecord",
    "ShapeDocumentRecord",
    "DryRunRecord",
    "JournalEntry",
    "ListenerHealth",
    "MailReport",
    "WatermarkRecord",
    "UserRecord",
    "SessionRecord",
    "ApiTokenRecord",
    "ScheduleFiring",
    "DeploymentRecord",
    "ChunkRecord",
    "open_repository",
    "open_run_repository",
    "data_home",
    "default_database_url",
]


def default_database_url(home: str | Path | None = None) -> str:
    """``POSTROOM_DATABASE_URL`` if set, else the SQLite file ``<home>/postroom.db``."""
    return os.environ.get(URL_ENV) or f"sqlite:///{data_home(home) / 'postroom.db'}"


def open_repository(url: str | None = None, home: str | Path | None = None) -> Repository:
    """Open the repository, creating and upgrading its database as needed.

    ``home``: the data folder (else ``POSTROOM_HOME``, else ``~/.postroom``), created with
    mode 0700; it holds the default SQLite file and the secret key file.
    ``url``: the database (else ``POSTROOM_DATABASE_URL``, else SQLite in ``home``):
    ``sqlite:///PATH`` or ``postgresql://USER:PASSWORD@HOST:PORT/DB`` (psycopg 3).
    Raises :class:`postroom.errors.ConfigError` (exit 2) for a bad URL or a database that
    cannot be reached, with the password masked. Close it with ``close()`` when done.
    """
    from ._sql import SqlRepository  # SQLAlchemy is imported only when a repository is opened

    resolved = data_home(home)
    return SqlRepository(url or default_database_url(resolved), home=resolved)


def open_run_repository(url: str | None = None, home: str | Path | None = None) -> Repository:
    """The repository as :func:`open_repository` opens it, for ``postroom run``: on the
    SQLite file at the current schema, a run's own reads and writes go through the standard
    library's sqlite3 without importing SQLAlchemy (``_runstore.py``, ADR 0019)."""
    from ._runstore import open_run_repository as open_for_run

    return open_for_run(url, home)
