"""The tables, as SQLAlchemy Core metadata.

The migrations in ``migrations/versions`` create exactly these tables; a test compares the
two so that neither drifts. Two column types keep SQLite and PostgreSQL alike:

* :class:`UTCDateTime`: every time is stored in UTC and comes back timezone-aware (UTC),
  because SQLite keeps no zone and PostgreSQL would convert to the session's zone.
* :class:`JSONText`: JSON stored as plain text, so a component body keeps the key order
  the user wrote (PostgreSQL's JSONB would reorder it) and both databases store the same.

There are no foreign keys: records of an execution are written in large batches where an
extra index probe per row costs, and ``purge_executions`` deletes dependents explicitly.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

__all__ = [
    "metadata",
    "UTCDateTime",
    "JSONText",
    "components",
    "secrets",
    "executions",
    "execution_logs",
    "document_errors",
    "shape_documents",
    "dry_runs",
    "process_properties",
    "send_journal",
    "mail_reports",
    "watermarks",
    "leases",
    "listener_health",
    "users",
    "sessions",
    "api_tokens",
    "schedule_firings",
    "deployments",
    "utcnow",
]

# Explicit constraint names, so migrations (and later ALTERs on SQLite) can refer to them.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def utcnow() -> datetime:
    """Now, timezone-aware in UTC: the one clock the repository writes."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC, returned aware. A naive value is taken as local time
    (Python's own rule for ``astimezone``); pass aware datetimes to avoid the guess."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":  # SQLite stores text without a zone: keep it UTC, naive
            value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class JSONText(TypeDecorator[Any]):
    """JSON kept as text, key order preserved, non-ASCII kept readable."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return json.loads(value)


# -- components: one row per version ------------------------------------------------------
components = Table(
    "components",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("type", String(50), nullable=False),
    Column("name", String(500), nullable=False),
    Column("folder", String(1000), nullable=False, default=""),
    Column("body", JSONText, nullable=False),
    Column("source_file", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "type"),
)

# -- secrets: Fernet ciphertext only --------------------------------------------------------
secrets = Table(
    "secrets",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("ciphertext", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# -- executions and what is recorded with them ------------------------------------------------
executions = Table(
    "executions",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("process_id", String(200), nullable=False),
    Column("process_version", Integer, nullable=False),
    Column("process_name", String(500), nullable=False, default=""),
    Column("status", String(50), nullable=False),
    Column("mode", String(50), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),
    Column("documents_in", Integer, nullable=False, default=0),
    Column("documents_out", Integer, nullable=False, default=0),
    Column("documents_failed", Integer, nullable=False, default=0),
    Column("error", Text, nullable=True),
    Column("node", String(200), nullable=False, default=""),
    Column("request", JSONText, nullable=False),
    Column("truncated", Boolean, nullable=False, default=False),
    # revision 0003: the lease of a running execution, and what its connector shapes did
    Column("lease_host", String(200), nullable=True),
    Column("lease_pid", Integer, nullable=True),
    Column("heartbeat_at", UTCDateTime, nullable=True),
    Column("connector_counts", JSONText, nullable=True),
    Index(None, "process_id", "started_at"),
    Index(None, "started_at"),
    Index(None, "status"),
    Index(None, "ended_at"),
)

# Dependent rows carry an autoincrement id: it is their insertion order, which is the
# order the engine wrote them in and the order they are read back.
execution_logs = Table(
    "execution_logs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("execution_id", String(100), nullable=False),
    Column("time", UTCDateTime, nullable=False),
    Column("level", String(20), nullable=False),
    Column("message", Text, nullable=False),
    Column("shape", String(200), nullable=True),
    Index(None, "execution_id"),
)

document_errors = Table(
    "document_errors",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("execution_id", String(100), nullable=False),
    Column("shape", String(200), nullable=False),
    Column("document", Integer, nullable=False),
    Column("message", Text, nullable=False),
    Column("time", UTCDateTime, nullable=True),
    Index(None, "execution_id"),
)

shape_documents = Table(
    "shape_documents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("execution_id", String(100), nullable=False),
    Column("shape", String(200), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("document", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("properties", JSONText, nullable=False),
    Column("dynamic", JSONText, nullable=False),
    Index(None, "execution_id", "shape"),
)

dry_runs = Table(
    "dry_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("execution_id", String(100), nullable=False),
    Column("shape", String(200), nullable=False),
    Column("document", Integer, nullable=False),
    Column("action", String(100), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Index(None, "execution_id"),
)

# -- persisted dynamic process properties ------------------------------------------------------
process_properties = Table(
    "process_properties",
    metadata,
    Column("process_id", String(200), primary_key=True),
    Column("name", String(200), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# -- send journal: the primary key (execution_id, key) makes journal_begin insert-or-get ------
send_journal = Table(
    "send_journal",
    metadata,
    Column("execution_id", String(100), primary_key=True),
    Column("key", String(1000), primary_key=True),
    Column("message_id", String(1000), nullable=False),
    Column("status", String(20), nullable=False),
    Column("reply", Text, nullable=False, default=""),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "message_id"),  # revision 0008_bounce: a bounce finds the letter by its Message-ID
)

# -- delivery reports and complaints about sent letters (revision 0008_bounce) --------------------
# One row per report and recipient: report_id is the report's own Message-ID, so reading it again
# changes nothing. execution_id and journal_key name the send that letter came from ("" when unknown).
mail_reports = Table(
    "mail_reports",
    metadata,
    Column("report_id", String(1000), primary_key=True),
    Column("recipient", String(1000), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("action", String(50), nullable=False),
    Column("status", String(20), nullable=False),
    Column("diagnostic", Text, nullable=False),
    Column("original_message_id", String(1000), nullable=False),
    Column("execution_id", String(100), nullable=False),
    Column("journal_key", String(1000), nullable=False),
    Column("reported_at", String(50), nullable=False),
    Column("read_by", String(100), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Index(None, "execution_id"),
)

# -- mailbox watermarks -------------------------------------------------------------------------
watermarks = Table(
    "watermarks",
    metadata,
    Column("operation", String(200), primary_key=True),  # revision 0004; "" for older rows
    Column("mailbox", String(1000), primary_key=True),
    Column("value", JSONText, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# -- leases: expiry as epoch seconds (double), compared with the caller's clock -----------------
leases = Table(
    "leases",
    metadata,
    Column("name", String(500), primary_key=True),
    Column("owner", String(500), nullable=False),
    Column("expires_at", Float, nullable=False),
)

# -- listener health: one row per listener and serve process (revision 0002) -------------------
listener_health = Table(
    "listener_health",
    metadata,
    Column("listener", String(200), primary_key=True),
    Column("instance", String(200), primary_key=True),
    Column("state", String(20), nullable=False),
    Column("resource", String(1000), nullable=False, default=""),
    Column("node", String(200), nullable=False, default=""),
    Column("mode", String(20), nullable=False, default=""),
    Column("interval_seconds", Float, nullable=False, default=0.0),
    Column("started_at", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("last_check_at", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("last_error_at", UTCDateTime, nullable=True),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("documents_taken", Integer, nullable=False, default=0),
    Column("executions", Integer, nullable=False, default=0),
    Column("last_execution_id", String(100), nullable=True),
    Column("details", JSONText, nullable=False),
    Index(None, "updated_at"),
)

# -- logins (revision 0005): argon2 password hashes; sessions and API tokens by SHA-256 only --
users = Table(
    "users",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("role", String(20), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_name", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Index(None, "user_name"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("token_hash", String(64), nullable=False),
    Column("role", String(20), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime, nullable=True),
    UniqueConstraint("token_hash"),
)

# -- schedules (revision 0006_sched): one row per due time claimed; the primary key makes the
# claim unique however many serve processes share the database --------------------------------
schedule_firings = Table(
    "schedule_firings",
    metadata,
    Column("schedule_id", String(200), primary_key=True),
    Column("due_at", UTCDateTime, primary_key=True),
    Column("status", String(20), nullable=False),
    Column("instance", String(200), nullable=False, default=""),
    Column("fired_at", UTCDateTime, nullable=False),
    Column("execution_id", String(100), nullable=True),
    Column("error", Text, nullable=True),
    Column("missed", Integer, nullable=False, default=0),
    Index(None, "fired_at"),
)

# -- deployments (revision 0007_envs): each deploy of a process version to an environment -----
deployments = Table(
    "deployments",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("environment", String(128), nullable=False),
    Column("process_id", String(128), nullable=False),
    Column("process_version", Integer, nullable=False),
    Column("action", String(20), nullable=False, default="deploy"),
    Column("deployed_by", String(200), nullable=False, default=""),
    Column("deployed_at", UTCDateTime, nullable=False),
    Index(None, "environment", "process_id"),
)
