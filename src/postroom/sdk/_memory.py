"""In-memory stand-ins for what a run gives a connector (journal, watermarks, the run
context), for connector tests and the contract in ``postroom.sdk.testing``."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ._document import Document

__all__ = ["JournalItem", "MemoryContext", "MemoryJournal", "MemorySentMail", "MemoryWatermarks"]


@dataclass
class JournalItem:
    key: str
    message_id: str
    status: str = "pending"
    reply: str = ""
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class MemoryJournal:
    """The send journal bound to one execution: ``begin`` before, ``finish`` after."""

    def __init__(self) -> None:
        self.items: dict[str, JournalItem] = {}

    def begin(self, key: str, message_id: str) -> JournalItem:
        """Record an intent; an existing entry is returned unchanged (resume reuses it)."""
        if key not in self.items:
            self.items[key] = JournalItem(key, message_id)
        return self.items[key]

    def finish(self, key: str, status: str, reply: str = "") -> None:
        item = self.items[key]
        item.status, item.reply, item.updated_at = status, reply, datetime.now(UTC)

    def begin_many(self, items: list[tuple[str, str]]) -> dict[str, JournalItem]:
        """``begin`` for many ``(key, message_id)`` at once; the entries by key."""
        return {key: self.begin(key, message_id) for key, message_id in items}

    def finish_many(self, items: list[tuple[str, str, str]]) -> None:
        """``finish`` for many ``(key, status, reply)`` at once."""
        for key, status, reply in items:
            self.finish(key, status, reply)

    def entries(self) -> dict[str, JournalItem]:
        return dict(self.items)


class MemoryWatermarks:
    """Watermarks by mailbox; those of an operation under ``(operation, mailbox)``."""

    def __init__(self) -> None:
        self.values: dict[Any, dict[str, Any]] = {}

    def get(self, mailbox: str, operation: str = "") -> dict[str, Any] | None:
        return self.values.get((operation, mailbox) if operation else mailbox)

    def set(self, mailbox: str, value: dict[str, Any], operation: str = "") -> None:
        self.values[(operation, mailbox) if operation else mailbox] = value


class MemorySentMail:
    """The letters of the journals given (execution id -> journal) and the reports recorded."""

    def __init__(self, journals: dict[str, MemoryJournal]) -> None:
        self.journals = journals
        self.reports: dict[tuple[str, str], dict[str, str]] = {}

    def find(self, message_id: str) -> tuple[str, str] | None:
        for execution_id, journal in self.journals.items():
            for item in journal.items.values():
                if item.message_id == message_id:
                    return execution_id, item.key
        return None

    def record(self, report: Mapping[str, str]) -> None:
        self.reports[(report["report_id"], report["recipient"])] = dict(report)


@dataclass
class MemoryContext:
    """A RunContext for connector tests."""

    execution_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    process_id: str = "test-process"
    dry_run: bool = False
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("postroom.test"))
    dry_runs: list[tuple[str, Document, str, bytes]] = field(default_factory=list)
    _journal: MemoryJournal = field(default_factory=MemoryJournal)
    _watermarks: MemoryWatermarks = field(default_factory=MemoryWatermarks)
    _sent: MemorySentMail | None = None
    stop: bool = False  # set True to ask the connector to stop (RunContext.stop_requested)
    #: what ``{process_property: NAME}`` gives in :meth:`value`
    process_properties: dict[str, str] = field(default_factory=dict)

    def record_dry_run(self, shape_id: str, document: Document, action: str, payload: Any) -> None:
        if callable(payload):
            payload = payload()
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        self.dry_runs.append((shape_id, document, action, payload))

    def journal(self) -> MemoryJournal:
        return self._journal

    def watermarks(self) -> MemoryWatermarks:
        return self._watermarks

    def sent_mail(self) -> MemorySentMail:
        """This context's own journal's letters (a test hands another context's journal in
        through ``sent.journals``) and the reports recorded."""
        if self._sent is None:
            self._sent = MemorySentMail({self.execution_id: self._journal})
        return self._sent

    def stop_requested(self) -> bool:
        return self.stop

    def value(self, source: str | Mapping[str, str], document: Document) -> str:
        """A value source for one document: static, document properties and process
        properties (from :attr:`process_properties`); other kinds give the empty text."""
        if isinstance(source, str):
            return source
        kind, arg = next((k, v) for k, v in source.items() if k != "profile")
        if kind == "static":
            return arg
        if kind == "document_property":
            return document.properties.get(arg, "")
        if kind == "dynamic_document_property":
            return document.dynamic.get(arg, "")
        if kind == "process_property":
            return self.process_properties.get(arg, "")
        return ""
