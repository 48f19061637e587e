"""What the engine hands a connector during one execution: the run context, the send
journal and the watermark store (typed contracts; connectors never probe them with
``getattr``).

Implementations: the engine and the listener runtime back them with the repository;
:mod:`postroom.sdk.testing` keeps them in memory for a connector's own tests.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from ._document import Document

__all__ = ["Journal", "JournalRecord", "RunContext", "WatermarkStore", "Watermark"]

#: A watermark as stored: a JSON object (what a get has read of one mailbox or folder).
Watermark = dict[str, Any]


@runtime_checkable
class JournalRecord(Protocol):
    """One journaled side effect: its key, the Message-ID (or other id) it was given,
    ``pending`` / ``sent`` / ``failed`` and the server's reply."""

    @property
    def key(self) -> str: ...
    @property
    def message_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def reply(self) -> str: ...


@runtime_checkable
class Journal(Protocol):
    """The send journal of one execution (DESIGN principle 9): ``begin`` before a side
    effect, ``finish`` after it. A resumed execution gets its earlier entries back from
    ``begin`` unchanged (same key: same Message-ID), so nothing is sent twice.

    Every member is required: the ``*_many`` forms write a whole batch in one transaction
    where the storage can (a simple store may loop over ``begin`` / ``finish``)."""

    def begin(self, key: str, message_id: str) -> JournalRecord:
        """Record an intent; an existing entry for ``key`` is returned unchanged."""
        ...

    def finish(self, key: str, status: str, reply: str = "") -> None:
        """Record the outcome of the side effect begun under ``key``."""
        ...

    def begin_many(self, items: list[tuple[str, str]]) -> Mapping[str, JournalRecord]:
        """``begin`` for many ``(key, message_id)``; the entries by key."""
        ...

    def finish_many(self, items: list[tuple[str, str, str]]) -> None:
        """``finish`` for many ``(key, status, reply)``."""
        ...

    def entries(self) -> Mapping[str, JournalRecord]:
        """Every entry of the execution, by key."""
        ...


@runtime_checkable
class SentMail(Protocol):
    """Letters sent by any execution, found by Message-ID, and the reports read about them
    later (bounces, complaints): how a mail Get links a bounce to the send it answers."""

    def find(self, message_id: str) -> tuple[str, str] | None:
        """``(execution_id, journal key)`` of the send that gave a letter ``message_id`` (with
        its angle brackets); None when no send journal has it."""
        ...

    def record(self, report: Mapping[str, str]) -> None:
        """Keep a report about one recipient of a letter: ``report_id`` (the report's own
        Message-ID), ``recipient``, ``kind``, ``action``, ``status``, ``diagnostic``,
        ``original_message_id``, ``execution_id``, ``journal_key``, ``reported_at``. Recording
        the same report_id and recipient again replaces it."""
        ...


@runtime_checkable
class WatermarkStore(Protocol):
    """Where a get keeps how far it has read: one :data:`Watermark` per mailbox (or other
    source key) and operation. ``operation=""`` is the value kept for the source before
    watermarks were per operation."""

    def get(self, mailbox: str, operation: str = "") -> Watermark | None: ...

    def set(self, mailbox: str, value: Watermark, operation: str = "") -> None: ...


@runtime_checkable
class RunContext(Protocol):
    """What the engine offers a connector during one execution (read-only for it)."""

    @property
    def execution_id(self) -> str:
        """The execution's id ("" for a listener's session before an execution runs)."""
        ...

    @property
    def process_id(self) -> str: ...

    @property
    def dry_run(self) -> bool:
        """``--dry-run``: record side effects with :meth:`record_dry_run` instead of doing them."""
        ...

    @property
    def log(self) -> logging.Logger:
        """Lines logged here go into the execution's log (secrets scrubbed)."""
        ...

    def record_dry_run(self, shape_id: str, document: Document, action: str, payload: Any) -> None:
        """Keep what a side effect would have done (``--dry-run``). ``payload`` is bytes,
        text, or a function returning them, called only when the record is kept."""
        ...

    def journal(self) -> Journal:
        """The send journal of this execution (issue 3)."""
        ...

    def watermarks(self) -> WatermarkStore:
        """The watermark store (issue 4), shared by every execution."""
        ...

    def sent_mail(self) -> SentMail:
        """Letters sent by any execution and the reports about them (issue 12)."""
        ...

    def value(self, source: str | Mapping[str, str], document: Document) -> str:
        """Resolve a value source as written in a setting (:data:`ValueSourceSetting`: a text
        or ``{kind: argument}``) for one document, as shapes resolve them (docs/values.md)."""
        ...

    def stop_requested(self) -> bool:
        """True once the execution was asked to stop (Ctrl-C, SIGTERM). A connector that
        works through many documents in one ``execute`` (a mail send) takes no new one
        after this: it finishes what is in flight, yields the results of the documents
        it finished and raises :class:`postroom.errors.Interrupted`. The engine records
        the execution ``stopped``; a resume does the rest."""
        ...
