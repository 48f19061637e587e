"""Plain records the repository stores and returns (no SQLAlchemy types leak out)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "ComponentRecord",
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
]


@dataclass
class ComponentRecord:
    """One version of a component. ``body`` is the component as a plain dict, exactly as
    it would be written to YAML, with every secret replaced by a ``${secret:NAME}`` or
    ``${env:VAR}`` reference (never a clear value)."""

    id: str
    type: str
    name: str
    body: dict[str, Any]
    folder: str = ""
    version: int = 0  # set by the repository on save (1, 2, 3...)
    source_file: str | None = None
    created_at: datetime | None = None


@dataclass
class ExecutionRecord:
    id: str
    process_id: str
    process_version: int
    process_name: str = ""
    status: str = "running"  # running | complete | complete_with_errors | failed | stopped
    mode: str = "normal"  # normal | test | dry_run
    started_at: datetime | None = None
    ended_at: datetime | None = None
    documents_in: int = 0
    documents_out: int = 0
    documents_failed: int = 0
    error: str | None = None  # execution-level failure message
    node: str = ""  # runtime node (host name or worker id)
    request: dict[str, Any] = field(default_factory=dict)  # the run request (inputs, options)
    truncated: bool = False  # test-mode records were cut at the configured limit
    # The lease of a running execution (revision 0003): the host and process running it and
    # the last heartbeat it wrote; a resume refuses an execution whose lease is alive.
    lease_host: str | None = None
    lease_pid: int | None = None
    heartbeat_at: datetime | None = None
    # per connector shape (not the start): {"completed": n, "failed": m}
    connector_counts: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class LogEntry:
    time: datetime
    level: str  # info | warning | error
    message: str
    shape: str | None = None


@dataclass
class DocumentErrorRecord:
    shape: str
    document: int  # index of the document in the execution (0-based, in order of creation)
    message: str
    time: datetime | None = None


@dataclass
class ShapeDocumentRecord:
    """Test mode: a document as it entered a shape."""

    shape: str
    seq: int  # order within the shape
    document: int
    data: bytes
    properties: dict[str, str]
    dynamic: dict[str, str]


@dataclass
class DryRunRecord:
    """Dry-run mode: what a side effect would have done."""

    shape: str
    document: int
    action: str  # e.g. "mail.send", "disk.write"
    payload: bytes


@dataclass
class JournalEntry:
    """Send journal (DESIGN principle 9): one side effect of one document."""

    execution_id: str
    key: str  # stable per execution and document, e.g. "<shape>/<document index>/<recipient>"
    message_id: str
    status: str  # pending | sent | failed
    reply: str = ""
    updated_at: datetime | None = None


@dataclass
class MailReport:
    """A delivery report (bounce, delay) or complaint about one recipient of a sent letter
    (revision 0008_bounce). ``execution_id`` and ``journal_key``: the send the letter came
    from, "" when no send journal has its Message-ID; ``read_by``: the execution that read
    the report; ``reported_at``: ISO 8601 as the report gives it ("" when it gives none)."""

    report_id: str
    recipient: str
    kind: str  # bounce | delay | delivered | complaint
    action: str
    status: str
    diagnostic: str
    original_message_id: str
    execution_id: str = ""
    journal_key: str = ""
    reported_at: str = ""
    read_by: str = ""
    recorded_at: datetime | None = None


@dataclass
class ListenerHealth:
    """How one listener fares in one ``postroom serve`` process (runtime/_listener.py).

    ``state``: starting | running | standby | retrying | failed | stopped. Times are UTC.
    ``last_error`` is a message for people and never holds a secret value (the runtime
    removes the resolved secrets of the listener's connection and operation from it)."""

    listener: str  # the listening process id
    instance: str  # the serve process: "<host>:<pid>:<random>"
    state: str = "starting"
    resource: str = ""  # the lease name: "listener:<resource key or process id>"
    node: str = ""  # host name
    mode: str = ""  # poll | idle
    interval_seconds: float = 0.0
    started_at: datetime | None = None
    updated_at: datetime | None = None  # heartbeat: written at least every heartbeat_seconds
    last_check_at: datetime | None = None  # last successful check of the source
    last_error: str | None = None
    last_error_at: datetime | None = None
    consecutive_failures: int = 0
    documents_taken: int = 0  # documents taken in by executions that were not failed
    executions: int = 0  # executions started
    last_execution_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)  # pid, heartbeat_seconds, lease_seconds...


@dataclass
class WatermarkRecord:
    """What one get operation has taken from one mailbox (``postroom watermarks list``).

    ``operation`` is the get operation's id ("" for a watermark kept before watermarks
    were per operation); ``mailbox`` the mailbox and the server-side selection, as a URL
    without the password; ``value`` the connector's own record (IMAP: UIDVALIDITY and
    UID; POP3: UIDLs)."""

    operation: str
    mailbox: str
    value: dict[str, Any]
    updated_at: datetime


@dataclass
class UserRecord:
    """A login of the web app. ``password_hash`` is an argon2 hash, never the password."""

    name: str
    role: str
    password_hash: str
    created_at: datetime | None = None


@dataclass
class SessionRecord:
    """A server-side session; ``token_hash`` is the SHA-256 of the cookie's token."""

    token_hash: str
    user_name: str
    created_at: datetime
    last_seen_at: datetime


@dataclass
class ApiTokenRecord:
    """An API token for scripts; ``token_hash`` is the SHA-256 of the token."""

    name: str
    token_hash: str
    role: str
    created_at: datetime | None = None
    last_used_at: datetime | None = None


@dataclass
class ScheduleFiring:
    """One due time of a schedule, claimed by one ``serve`` process (the primary key
    (``schedule_id``, ``due_at``) makes the claim unique). ``status``: ``started`` (its
    execution is ``execution_id``), ``failed`` (the run could not start: ``error``) or
    ``skipped`` (missed while no serve ran, and ``catch_up`` did not run it). ``missed``:
    how many earlier due times this one stands for (catch_up ``last`` and ``none``)."""

    schedule_id: str
    due_at: datetime
    status: str
    instance: str = ""
    fired_at: datetime | None = None
    execution_id: str | None = None
    error: str | None = None
    missed: int = 0


@dataclass
class DeploymentRecord:
    """A process version pinned to an environment. Every deploy (and rollback) adds one; the
    newest of an environment and process is the one in force. ``seq`` orders them; ``action`` is
    ``deploy`` or ``rollback`` (a rollback undoes the deploy before it, so a second goes further back)."""

    environment: str
    process_id: str
    process_version: int
    action: str = "deploy"
    deployed_by: str = ""
    deployed_at: datetime | None = None
    seq: int | None = None
