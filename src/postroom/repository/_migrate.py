"""Bring a database to the current schema with the Alembic revisions shipped in the package.

Every ``postroom`` command opens the repository, so the common case (already at head) must
cost one small query and not even import Alembic: :data:`HEAD` names the newest revision
(a test checks it against the scripts) and the stored revision is read with plain SQL.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, text

from ..errors import ConfigError
from ._engine import WRITE

__all__ = ["HEAD", "MIGRATIONS_DIR", "current_revision", "upgrade"]

HEAD = "0008_bounce"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Arbitrary constant: the PostgreSQL advisory lock serialising concurrent upgrades.
_PG_LOCK_KEY = 0x506F7374726F6F6D & 0x7FFFFFFFFFFFFFFF  # "Postroom"


def current_revision(conn: Connection) -> str | None:
    """The revision stored in the database; None for an empty database."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine) -> None:
    """Upgrade to :data:`HEAD` unless already there. Safe when several processes open a
    fresh database at once: the upgrade runs in one transaction holding the database's
    write lock (SQLite ``BEGIN IMMEDIATE``) or an advisory lock (PostgreSQL), and Alembic
    re-reads the revision after the lock is taken."""
    with engine.connect() as conn:
        if current_revision(conn) == HEAD:
            return

    from alembic import command
    from alembic.config import Config
    from alembic.util import CommandError

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    with engine.connect() as conn:
        conn.execution_options(**{WRITE: True})
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
            config.attributes["connection"] = conn
            try:
                command.upgrade(config, "head")
            except CommandError as exc:
                raise ConfigError(
                    f"the database schema cannot be upgraded: {exc}",
                    fix="the database was probably written by a newer Postroom; upgrade Postroom",
                ) from None
