"""The send journal's "after" records, written in groups by the sending threads (see send.py),
and the two journals a send writes to: the execution's, and the process's scope for emails
keyed by the inbound message their document came from (:mod:`postroom.sdk._once`)."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from ...sdk import Journal, JournalRecord, RunContext, once_scope

__all__ = ["JournalWriter", "Sender", "SendJournal"]


class SendJournal:
    """The execution's journal for most emails; the process's scope for the keys in ``scoped``.
    Only ``begin_many`` and ``finish_many`` are routed (all a send uses)."""

    def __init__(self, context: RunContext, scoped: set[str]) -> None:
        self.own = context.journal()
        self.scoped = scoped
        self.shared: Journal | None = context.journal(once_scope(context)) if scoped else None

    def begin_many(self, items: list[tuple[str, str]]) -> Mapping[str, JournalRecord]:
        mine = [item for item in items if item[0] not in self.scoped]
        entries = dict(self.own.begin_many(mine)) if mine else {}
        if self.shared is not None:
            entries.update(self.shared.begin_many([item for item in items if item[0] in self.scoped]))
        return entries

    def finish_many(self, items: list[tuple[str, str, str]]) -> None:
        mine = [item for item in items if item[0] not in self.scoped]
        if mine:
            self.own.finish_many(mine)
        if self.shared is not None:
            shared = [item for item in items if item[0] in self.scoped]
            if shared:
                self.shared.finish_many(shared)


class JournalWriter:
    """The journal's "after" records, queued by the sending threads and written in groups.

    ``finish`` queues a record and returns its ticket. ``sync(ticket)`` returns once that
    record is written: the calling thread writes everything queued so far in one
    ``finish_many`` (one transaction), its own record and those the other threads queued
    meanwhile, or waits for the thread already writing. No thread of its own: a sender
    writes while its server works on the commands it just sent (see ``SmtpPool.send``).
    """

    def __init__(self, journal: Journal | SendJournal) -> None:
        self._journal = journal
        self._cond = threading.Condition(threading.Lock())
        self._queue: list[tuple[str, str, str]] = []
        self._tickets = 0
        self._written = 0
        self._writing = False
        self.error: BaseException | None = None

    def finish(self, key: str, status: str, reply: str) -> int:
        with self._cond:
            self._queue.append((key, status, reply))
            self._tickets += 1
            return self._tickets

    def sync(self, ticket: int) -> None:
        """Return once record ``ticket`` (and every one before it) is written."""
        with self._cond:
            while self._written < ticket:
                if self.error is not None:
                    raise self.error
                if self._writing:
                    self._cond.wait()
                    continue
                group, self._queue = self._queue, []
                upto = self._tickets
                self._writing = True
                self._cond.release()
                try:
                    self._write(group)
                except BaseException as exc:
                    self._cond.acquire()
                    self.error = exc
                    raise
                else:
                    self._cond.acquire()
                    self._written = upto
                finally:
                    self._writing = False
                    self._cond.notify_all()

    def flush(self) -> None:
        """Write whatever is queued; raise if a write failed."""
        self.sync(self._tickets)

    close = flush

    def _write(self, group: list[tuple[str, str, str]]) -> None:
        self._journal.finish_many(group)


class Sender:
    """One chain's way to the journal (see send.py): its outcomes queued, synced before a dot."""

    def __init__(self, writer: JournalWriter) -> None:
        self.writer = writer

    def finish(self, key: str, status: str, reply: str) -> None:
        self.writer.finish(key, status, reply)

    def sync(self) -> None:
        """The outcome of this sender's previous email on record, and every other one queued so
        far: called before the next email's final dot (and earlier, while the server answers
        the commands before it). Every other one too, because the session may have carried
        another sender's email last (a chain that ended gave it back to the pool)."""
        self.writer.flush()
