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
