"""The Get operation: read mail over POP3 or IMAP; each email becomes documents.

Documents (``disposition``):

* ``inline``: the body becomes the document: the text body (``body: text``, the
  default), the HTML body (``html``), or one document for each (``both``); bodies are
  UTF-8 with ``\\n`` line breaks and ``mail.content_type`` says which one a document is;
* ``attachment``: each attachment becomes one document, its bytes as attached, named
  by ``mail.file_name`` (RFC 2231 and RFC 2047 names decoded).

Every document carries ``mail.from_address``, ``mail.to_address``, ``mail.cc_address``,
``mail.reply_to_address`` (bare addresses, ``, ``-separated), ``mail.from_name``,
``mail.subject`` (decoded), ``mail.message_id`` (as in the message, with its angle
brackets; a message without one gets ``<sha256-of-the-message@postroom.invalid>``, the
same on every read), ``mail.received_date`` (ISO 8601: IMAP's internal date, for POP3
the newest ``Received:`` header, else ``Date:``), ``mail.content_type``,
``mail.headers.<Name>`` for every header (repeated headers joined with ``, ``), and
``mail.uid`` + ``mail.folder`` (IMAP) or ``mail.uidl`` (POP3).

A message that cannot be read (:class:`~._parse.BrokenMessage`) fails alone: ``fetch``
yields a :class:`~postroom.sdk.Failed` holding the raw message and the reason; the
engine records it as a failed document and the other messages go on. A broken message
is never deleted, moved or marked: it stays on the server for a person to look at, and
the watermark passes it so that it does not fail every run.

Commit after success and the watermark (DESIGN.md principle 8)
----------------------------------------------------------------
Nothing on the server changes while an execution runs: IMAP fetches with
``BODY.PEEK[]``. The engine calls :meth:`MailGetSession.commit` only after the
execution ended without failing; only then are messages deleted, moved or flagged
``\\Seen``, and the watermark advanced. The watermark lives in the repository
(``context.watermarks()``) under the operation's id (``operation_id``: two operations
reading one mailbox, say one for bodies and one for attachments, each take every
message) and :meth:`MailGetSession.watermark_key`: the mailbox (:meth:`resource_key`)
plus the server-side selection (from, subject, since). A watermark stored before
watermarks were per operation is taken over once by each operation that reads its
mailbox. A message with a document that failed later in the process is not committed
(unless ``commit_failed_messages``) and is read again by the next run: over IMAP the
watermark lists it under ``retry``; over POP3 its UIDL is not recorded as taken.

* IMAP: ``{uidvalidity, uid}``: every message with a UID up to ``uid`` has been dealt
  with. A run searches ``UID uid+1:*`` only. A changed UIDVALIDITY (the server renumbered
  the folder) is logged and treated as a first run.
* POP3: ``{taken, kept}``: the UIDLs of messages read and committed (deleted when
  ``delete_after_read``), and of messages passed without reading (there before the first
  run, filtered out, broken). Both are pruned to the UIDLs still on the server, so they
  never grow beyond the mailbox.

``commit`` writes the new watermark *first*, with the actions still to do
(``pending`` for IMAP; for POP3 the committed UIDLs still on the server), then acts on
the server, then clears ``pending``. So:

* killed before ``commit``: nothing changed; the next run reads the same messages
  again. Postroom cannot know whether the process stored them (a disk write, a database
  insert): processes store idempotently, keyed by ``mail.message_id`` (a file named by
  it with ``write_option: overwrite``, an upsert). The kill test proves that this gives
  exactly one stored copy per message and that nothing is deleted unstored.
* killed inside ``commit``, after the watermark: the next run does not read those
  messages again, and first finishes the deletes, moves and flags they were due.

The first run on a mailbox takes what ``start_from`` says: ``now`` (the default) takes
nothing that is already there (the baseline is stored at once, and the log says how
many messages were left alone), ``all`` takes everything, ``date`` what was received
on or after ``start_date``. A first poll never floods a process by surprise.

For listeners (``postroom serve``): :meth:`resource_key` names the mailbox (one
consumer at a time), :meth:`wait_for_new` blocks until mail the next execution would
take may have arrived (IMAP IDLE, re-issued every 25 minutes, or polling), and
:meth:`interrupt` makes a waiting call return within a second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from email.message import Message
from typing import IO, Any
from urllib.parse import quote, urlencode

from ...errors import ConfigError, ConnectionFailed
from ...sdk import Document, Failed, OperationSession, RunContext
from ._conntest import test_inbound, test_mail_connection
from ._imap import ImapSession, SelectInfo, uid_set
from ._inbound import Inbound
from ._message import HEAD_BYTES, addresses, header_block, message_documents, received_from_headers
from ._parse import Limits, parse_headers
from ._parse import header_text as _header_text
from ._pop3 import Pop3Message, Pop3Session
from .mime import parse_addresses
from .spec import MailConnection, MailOperation

__all__ = ["ImapGetSession", "MailGetSession", "test_inbound", "test_mail_connection"]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: Fetch at most this many messages, or this many bytes, per IMAP FETCH command.
_BATCH_MESSAGES = 100
_BATCH_BYTES = 8 * 1024 * 1024


def _imap_date(day: date) -> str:
    return f"{day.day:02d}-{_MONTHS[day.month - 1]}-{day.year}"


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class MailGetSession(OperationSession):
    """Reads one mailbox for one execution (or, for a listener, waits for it)."""

    side_effects = True
    #: RFC 2177: servers may drop an IDLE after 30 minutes; re-IDLE well before.
    IDLE_SLICE = 25 * 60.0
    #: How often to look when the server offers no IDLE (and for POP3).
    POLL_SECONDS = 30.0

    def __init__(self, connection: MailConnection, operation: MailOperation, context: RunContext) -> None:
        self.connection = connection
        self.operation = operation
        self.context = context
        self.inbound = Inbound(connection)
        self.protocol = self.inbound.protocol
        self._check_settings()
        self.limits = Limits(max_depth=operation.max_mime_depth, max_header_fields=operation.max_header_fields,
                             max_header_bytes=operation.max_header_bytes)
        try:
            self._from = {a.addr.lower() for a in parse_addresses(operation.from_address)}
        except Exception:  # noqa: BLE001 - validated by the model already
            self._from = set()
        self._stop = threading.Event()
        self._warned = False
        self._reader: _Pop3Reader | _ImapReader = (
            _Pop3Reader(self) if self.protocol == "pop3" else _ImapReader(self))

    def __repr__(self) -> str:
        return f"MailGetSession({self.resource_key()})"

    def _check_settings(self) -> None:
        op = self.operation
        if self.protocol == "pop3":
            if op.move_to_folder:
                raise ConfigError("move_to_folder needs IMAP: POP3 has no folders", field="move_to_folder",
                                  fix="set inbound_protocol: imap on the connection, or use delete_after_read")
            if op.folder and op.folder.upper() != "INBOX":
                raise ConfigError(f"folder {op.folder!r} needs IMAP: POP3 reads only the inbox", field="folder",
                                  fix="set inbound_protocol: imap on the connection, or folder: INBOX")
        elif op.move_to_folder and op.delete_after_read:
            raise ConfigError("move_to_folder and delete_after_read are both set: a message is either moved or "
                              "deleted", field="delete_after_read", fix="keep one of them")
        if op.move_to_folder and op.move_to_folder.strip().upper() == (op.folder or "INBOX").strip().upper():
            raise ConfigError("move_to_folder is the folder being read", field="move_to_folder",
                              fix="name another folder, such as Processed")

    # -- names --------------------------------------------------------------------------------
    def resource_key(self) -> str:
        """The mailbox, such as ``imap://clinic%40example.com@mail.example.com:993/INBOX``:
        one consumer at a time per key (the listener's lock)."""
        ep = self.inbound.endpoint
        key = f"{self.protocol}://{quote(ep.user_name, safe='')}@{ep.host.lower()}:{ep.port}"
        if self.protocol == "imap":
            key += "/" + quote(self.operation.folder or "INBOX", safe="/")
        return key

    def watermark_key(self) -> str:
        """Where the watermark is kept: the mailbox plus the server-side selection."""
        op = self.operation
        selection = []
        if op.from_address:
            selection.append(("from", ",".join(sorted(self._from)) or op.from_address))
        if op.subject_filter:
            selection.append(("subject", op.subject_filter))
        if op.since:
            selection.append(("since", op.since.isoformat()))
        key = self.resource_key()
        return f"{key}?{urlencode(selection)}" if selection else key

    # -- engine interface ---------------------------------------------------------------------
    def fetch(self) -> Iterator[Document | Failed]:
        if not self._warned:
            self._warned = True
            warning = self.inbound.insecure_warning()
            if warning:
                self.context.log.warning(warning)
        yield from self._reader.read()

    def execute(self, documents: Iterable[Document], shape_id: str) -> Iterator[Document | Failed]:
        # As a connector shape: each incoming document triggers one read; the mail comes out.
        for _ in documents:
            yield from self.fetch()

    def document_failed(self, document: Document) -> None:
        """Hold back the message the document came from (``commit_failed_messages: false``)."""
        if not self.operation.commit_failed_messages:
            self._reader.document_failed(document.properties)

    def commit(self) -> None:
        self._reader.commit()

    def close(self) -> None:
        self._stop.set()
        self._reader.close()

    def interrupt(self) -> None:
        """Make a running :meth:`wait_for_new` return False within about a second."""
        self._stop.set()

    @staticmethod
    def open(connection: MailConnection, operation: MailOperation, context: RunContext) -> MailGetSession:
        """The session for the connection's protocol: IMAP sessions can also wait for mail."""
        if connection.inbound().protocol == "imap":
            return ImapGetSession(connection, operation, context)
        return MailGetSession(connection, operation, context)

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._stop.wait(min(1.0, remaining))

    # -- watermarks ---------------------------------------------------------------------------
    def _load_watermark(self) -> dict[str, Any] | None:
        store, key, operation = self.context.watermarks(), self.watermark_key(), self.operation_id
        value = store.get(key, operation) if operation else store.get(key)
        if value is None and operation:
            value = self._adopt_watermark(store, key, operation)
        return dict(value) if value else None

    def _adopt_watermark(self, store: Any, key: str, operation: str) -> dict[str, Any] | None:
        """A watermark kept for the mailbox before watermarks were per operation: each
        operation takes it over once (the first one also what was left to do), so an
        upgrade reads no old mail again; after ``postroom watermarks reset`` it is not
        taken over again."""
        legacy = store.get(key)
        if not legacy or operation in legacy.get("adopted_by", ()):
            return None
        value = {k: v for k, v in legacy.items() if k != "adopted_by"}
        if not self.context.dry_run:
            rest = {k: v for k, v in value.items() if k != "pending"}
            store.set(key, {**rest, "adopted_by": [*legacy.get("adopted_by", ()), operation]})
            store.set(key, value, operation)
        return value

    def _save_watermark(self, value: dict[str, Any]) -> None:
        if self.operation_id:
            self.context.watermarks().set(self.watermark_key(), value, self.operation_id)
        else:
            self.context.watermarks().set(self.watermark_key(), value)

    # -- filters ------------------------------------------------------------------------------
    def _matches(self, headers: Message, received: datetime) -> bool:
        op = self.operation
        if self._from and not (self._from & {a.lower() for a in addresses(headers, "From")}):
            return False
        if op.subject_filter and op.subject_filter.casefold() not in _header_text(headers.get("Subject")).casefold():
            return False
        return not (op.since and received.date() < op.since)

    # -- documents ----------------------------------------------------------------------------
    def _documents(self, raw: IO[bytes], received: datetime | None, extra: dict[str, str],
                   label: str) -> list[Document] | Failed:
        return message_documents(raw, self.operation, self.limits, received=received, extra=extra, label=label,
                                 warn=self.context.log.warning)


class ImapGetSession(MailGetSession):
    """A get over IMAP; it can also wait for new mail (for listeners)."""

    def wait_for_new(self, timeout_seconds: float) -> bool:
        """Block until mail that the next execution would take may have arrived (True), or
        until ``timeout_seconds`` pass or :meth:`interrupt` is called (False). Also True
        when the next fetch must settle something first (a first run with start_from: now,
        whose fetch stores the baseline; a commit to finish; a renumbered folder). With no
        watermark and start_from: all or date, True only when the mailbox holds mail that
        first run would take (an empty mailbox does not wake anyone). Uses IDLE when
        the server offers it (re-issued every :attr:`IDLE_SLICE` seconds, a NOOP after
        each), else a NOOP and a search every :attr:`POLL_SECONDS`; its own read-only
        connection, kept across calls. Raises ConnectionFailed / AuthenticationFailed when
        the server cannot be reached."""
        self._stop.clear()
        assert isinstance(self._reader, _ImapReader)
        return self._reader.wait_for_new(max(0.0, float(timeout_seconds)))


# -- POP3 -------------------------------------------------------------------------------------


class _Pop3Reader:
    def __init__(self, session: MailGetSession) -> None:
        self.s = session
        self.pop: Pop3Session | None = None
        self.loaded = False
        self.watermark: dict[str, Any] | None = None
        self.present: set[str] = set()
        self.taken: dict[str, int] = {}  # UIDL -> message number in self.pop, read this execution
        self.kept: set[str] = set()  # passed this execution without being taken
        self.failed: set[str] = set()  # taken, but a document failed later in the process
        self.leftover: dict[str, int] = {}  # committed before, still on the server (to delete)
        self.stored = False  # the watermark in self.watermark is the repository's

    def _open(self) -> Pop3Session:
        if self.pop is None:
            self.pop = Pop3Session.open(self.s.inbound)
        return self.pop

    def read(self) -> Iterator[Document | Failed]:
        s, op = self.s, self.s.operation
        pop = self._open()
        listing = pop.listing()
        by_uidl = {m.uidl: m for m in listing}
        self.present = set(by_uidl)
        first = False
        if not self.loaded:
            self.loaded = True
            self.watermark = s._load_watermark()
            first = self.watermark is None
            self.stored = not first
        assert self.watermark is not None or first
        before_taken = set(self.watermark.get("taken", ())) if self.watermark else set()
        before_kept = set(self.watermark.get("kept", ())) if self.watermark else set()
        if op.delete_after_read:
            self.leftover = {u: by_uidl[u].number for u in before_taken if u in by_uidl}
        done = before_taken | before_kept | set(self.taken) | self.kept
        candidates = [m for m in listing if m.uidl not in done]
        if first:
            if op.start_from == "now":
                self.watermark = {"protocol": "pop3", "taken": [], "kept": sorted(m.uidl for m in candidates)}
                if not s.context.dry_run:
                    s._save_watermark(self.watermark)
                    self.stored = True
                s.context.log.info(
                    f"first run on {s.resource_key()}: {len(candidates)} message(s) already there are left alone "
                    "(start_from: now); set start_from: all or date to read them")
                return
            self.watermark = {"protocol": "pop3", "taken": [], "kept": []}
        first_date = op.start_date if first and op.start_from == "date" else None
        needs_headers = bool(s._from or op.subject_filter or op.since or first_date)
        # Which messages to read: with header filters, each is looked at first (TOP);
        # without, they are read in one pipelined stream.
        wanted: list[Pop3Message] = []
        for message in candidates:
            if op.max_messages and len(wanted) >= op.max_messages:
                break
            if needs_headers:
                headers = parse_headers(header_block(pop.top(message.number)))
                received = received_from_headers(headers)
                if (first_date and received.date() < first_date) or not s._matches(headers, received):
                    self.kept.add(message.uidl)
                    continue
            wanted.append(message)
        uidl_of = {m.number: m.uidl for m in wanted}
        stream = pop.retrieve_many([m.number for m in wanted])
        try:
            for number, raw in stream:
                uidl = uidl_of[number]
                try:
                    result = s._documents(raw, None, {"mail.uidl": uidl}, f"POP3 message {number}")
                finally:
                    raw.close()
                if isinstance(result, Failed):
                    self.kept.add(uidl)
                    yield result
                    continue
                yield from result[:-1]
                self.taken[uidl] = number
                if result:
                    yield result[-1]
        finally:
            stream.close()

    def document_failed(self, properties: dict[str, str]) -> None:
        uidl = properties.get("mail.uidl")
        if uidl:
            self.failed.add(uidl)

    def commit(self) -> None:
        s, op = self.s, self.s.operation
        if not self.loaded or self.watermark is None:
            return
        failed = self.failed & set(self.taken)
        for uidl in failed:  # neither taken nor kept: the next run reads it again
            del self.taken[uidl]
        if s.context.dry_run:
            if self.taken:
                action = "deleted" if op.delete_after_read else "passed by the watermark"
                s.context.log.info(f"dry run: {len(self.taken)} message(s) would now be {action}")
            return
        if failed:
            s.context.log.warning(_held_back(len(failed)))
        taken = (set(self.watermark.get("taken", ())) & self.present) | set(self.taken)
        kept = (set(self.watermark.get("kept", ())) & self.present) | self.kept
        watermark = {"protocol": "pop3", "taken": sorted(taken), "kept": sorted(kept)}
        if watermark != self.watermark or not self.stored:
            s._save_watermark(watermark)
        self.watermark, self.stored = watermark, True
        due = {**self.leftover, **self.taken}
        if op.delete_after_read and due:
            pop = self.pop
            if pop is None or not pop.alive():
                if pop is not None:
                    pop.abandon()
                self.pop = pop = Pop3Session.open(s.inbound)
                numbers = {m.uidl: m.number for m in pop.listing()}
                due = {uidl: numbers[uidl] for uidl in due if uidl in numbers}
            for number in sorted(due.values()):
                pop.delete(number)
            self.pop = None
            pop.quit()
            s.context.log.info(f"deleted {len(due)} message(s) from {s.resource_key()} after the execution succeeded")
        self.taken, self.kept, self.leftover, self.failed = {}, set(), {}, set()

    def close(self) -> None:
        pop, self.pop = self.pop, None
        if pop is not None:
            pop.abandon()


# -- IMAP -------------------------------------------------------------------------------------


class _ImapReader:
    def __init__(self, session: MailGetSession) -> None:
        self.s = session
        self.imap: ImapSession | None = None
        self.info: SelectInfo | None = None
        self.loaded = False
        self.watermark: dict[str, Any] | None = None
        self.first_date: date | None = None
        self.handled = 0  # highest UID dealt with in this execution
        self.taken: list[int] = []
        self.failed: set[int] = set()  # taken UIDs with a document that failed later in the process
        self.retry: set[int] = set()  # held back by an earlier execution, still there to read again
        self.retried = False
        self.count = 0
        self.complete = False
        self.stored = False  # the watermark in self.watermark is the repository's
        self.watcher: ImapSession | None = None

    @property
    def folder(self) -> str:
        return self.s.operation.folder or "INBOX"

    def _open(self) -> ImapSession:
        if self.imap is not None and self.imap.noop():
            return self.imap
        if self.imap is not None:
            self.imap.logout()
        imap = ImapSession.open(self.s.inbound)
        info = imap.select(self.folder, readonly=self.s.context.dry_run)
        if self.info is not None and info.uidvalidity != self.info.uidvalidity:
            imap.logout()
            raise ConnectionFailed(f"the folder {self.folder} of {self.s.resource_key()} was renumbered "
                                   "(UIDVALIDITY changed) during the execution; the next run reads it afresh",
                                   retryable=True)
        if self.info is None:
            self.info = info
        self.imap = imap
        return imap

    def _criteria(self, floor: int, since: date | None) -> tuple[list[str], tuple[str, str] | None]:
        op = self.s.operation
        criteria = [f"UID {floor + 1}:*"]
        if op.unread_only:
            criteria.append("UNSEEN")
        if since:
            criteria += ["SINCE", _imap_date(since)]
        senders = sorted(self.s._from)
        ascii_senders = [a for a in senders if a.isascii()]
        if senders and len(ascii_senders) == len(senders):
            keys = [f"FROM {_quote(a)}" for a in senders]
            expression = keys[-1]
            for key in reversed(keys[:-1]):
                expression = f"OR {key} {expression}"
            criteria.append(expression)
        text = ("SUBJECT", op.subject_filter) if op.subject_filter else None
        return criteria, text

    def _search_retry(self, imap: ImapSession, since: date | None) -> set[int]:
        """The messages an earlier execution held back (a document failed) that are still
        there and still selected: they are read again."""
        assert self.watermark is not None
        held = _parse_uid_set(self.watermark.get("retry", ""))
        found: set[int] = set()
        for chunk in uid_set(held):
            criteria, text = self._criteria(0, since)
            found.update(imap.search([f"UID {chunk}", *criteria[1:]], text))
        return found & set(held)

    def document_failed(self, properties: dict[str, str]) -> None:
        uid = properties.get("mail.uid", "")
        if properties.get("mail.folder") == self.folder and uid.isdigit():
            self.failed.add(int(uid))

    def read(self) -> Iterator[Document | Failed]:
        s, op = self.s, self.s.operation
        imap = self._open()
        info = self.info
        assert info is not None
        if not self.loaded:
            self.loaded = True
            watermark = s._load_watermark()
            if watermark and watermark.get("pending") and not s.context.dry_run:
                watermark = self._finish_pending(watermark)
            if watermark is not None and watermark.get("uidvalidity") != info.uidvalidity:
                s.context.log.warning(
                    f"the folder {self.folder} of {s.resource_key()} was renumbered by the server (UIDVALIDITY "
                    f"{watermark.get('uidvalidity')} is now {info.uidvalidity}); reading it as on a first run "
                    f"(start_from: {op.start_from})")
                watermark = None
            if watermark is None:
                if op.start_from == "now":
                    baseline = info.uidnext - 1 if info.uidnext else max(imap.search(["ALL"]), default=0)
                    self.watermark = {"protocol": "imap", "uidvalidity": info.uidvalidity, "uid": baseline}
                    if not s.context.dry_run:
                        s._save_watermark(self.watermark)
                        self.stored = True
                    s.context.log.info(
                        f"first run on {s.resource_key()}: {info.exists} message(s) already there are left alone "
                        "(start_from: now); set start_from: all or date to read them")
                    return
                self.watermark = {"protocol": "imap", "uidvalidity": info.uidvalidity, "uid": 0}
                self.first_date = op.start_date if op.start_from == "date" else None
            else:
                self.watermark, self.stored = watermark, True
            if op.move_to_folder and not s.context.dry_run:
                imap.ensure_folder(op.move_to_folder)
        assert self.watermark is not None
        floor = max(int(self.watermark["uid"]), self.handled)
        since = max(filter(None, (op.since, self.first_date)), default=None)
        criteria, text = self._criteria(floor, since)
        uids = sorted(u for u in imap.search(criteria, text) if u > floor)
        if not self.retried:
            self.retried = True
            self.retry = self._search_retry(imap, since)
            uids = sorted(self.retry) + uids
        cut = False
        if op.max_messages:
            room = max(0, op.max_messages - self.count)
            if len(uids) > room:
                uids, cut = uids[:room], True
        sizes = imap.sizes(uids) if uids else {}
        folder = self.folder
        for batch in _batches(uids, sizes):
            messages = imap.fetch(batch)
            filtering = bool(s._from or op.subject_filter or op.since)  # the server searched; check exactly
            for message in messages:
                try:
                    received = message.received
                    if filtering:
                        head = message.raw.read(HEAD_BYTES)
                        message.raw.seek(0)
                        headers = parse_headers(header_block(head))
                        received = received or received_from_headers(headers)
                        if not s._matches(headers, received):
                            self.handled = max(self.handled, message.uid)
                            continue
                    result = s._documents(message.raw, received, {"mail.uid": str(message.uid),
                                                                  "mail.folder": folder},
                                          f"IMAP message {folder}/{message.uid}")
                finally:
                    message.raw.close()
                if isinstance(result, Failed):
                    self.handled = max(self.handled, message.uid)
                    yield result
                    continue
                self.count += 1
                yield from result[:-1]
                self.taken.append(message.uid)
                self.handled = max(self.handled, message.uid)
                if result:
                    yield result[-1]
        if not cut:
            self.complete = True

    # -- commit -------------------------------------------------------------------------------
    def _actions(self) -> dict[str, Any]:
        op = self.s.operation
        return {"mark": bool(op.mark_as_read), "move": op.move_to_folder or "",
                "delete": bool(op.delete_after_read)}

    def commit(self) -> None:
        s = self.s
        if not self.loaded or self.watermark is None or self.info is None:
            return
        info = self.info
        before = int(self.watermark["uid"])
        new_uid = max(before, self.handled)
        if self.complete and info.uidnext:
            new_uid = max(new_uid, info.uidnext - 1)  # everything below matched nothing at search time
        failed = self.failed & set(self.taken)
        done = [uid for uid in self.taken if uid not in failed]
        retry = ",".join(uid_set(sorted((self.retry - set(self.taken)) | failed)))
        actions = self._actions()
        acting = bool(done) and (actions["mark"] or actions["move"] or actions["delete"])
        if s.context.dry_run:
            if done:
                s.context.log.info(f"dry run: {len(done)} message(s) would now be {_describe(actions)}; "
                                   "the watermark is not advanced")
            return
        if new_uid == before and not acting and self.stored and retry == self.watermark.get("retry", ""):
            return
        watermark: dict[str, Any] = {"protocol": "imap", "uidvalidity": info.uidvalidity, "uid": new_uid}
        if retry:
            watermark["retry"] = retry
        if acting:
            pending = {"uids": ",".join(uid_set(done)), **actions}
            s._save_watermark({**watermark, "pending": pending})
            self._apply(pending, info.uidvalidity)
            s.context.log.info(f"{len(done)} message(s) {_describe(actions)} after the execution succeeded")
        if failed:
            s.context.log.warning(_held_back(len(failed)))
        s._save_watermark(watermark)
        self.watermark, self.taken, self.stored = watermark, [], True
        self.failed, self.retry = set(), set()

    def _apply(self, pending: dict[str, Any], uidvalidity: int) -> None:
        imap = self._open()
        assert self.info is not None
        if self.info.uidvalidity != uidvalidity:  # pragma: no cover - _open raises first
            return
        uids = _parse_uid_set(pending.get("uids", ""))
        if not uids:
            return
        if pending.get("mark"):
            imap.add_flags(uids, "\\Seen")
        if pending.get("move"):
            imap.move(uids, pending["move"])
        elif pending.get("delete"):
            imap.add_flags(uids, "\\Deleted")
            imap.expunge(uids)

    def _finish_pending(self, watermark: dict[str, Any]) -> dict[str, Any]:
        s = self.s
        pending = watermark.pop("pending")
        assert self.info is not None
        if watermark.get("uidvalidity") == self.info.uidvalidity:
            if pending.get("move"):
                self._open().ensure_folder(pending["move"])
            self._apply(pending, self.info.uidvalidity)
            s.context.log.info(
                f"finished what the last successful execution could not: messages {pending.get('uids')} "
                f"{_describe(pending)}")
        s._save_watermark(watermark)
        return watermark

    def close(self) -> None:
        for attr in ("imap", "watcher"):
            session = getattr(self, attr)
            setattr(self, attr, None)
            if session is not None:
                session.logout()

    # -- waiting ------------------------------------------------------------------------------
    def _watcher(self) -> ImapSession:
        if self.watcher is not None and self.watcher.noop():
            return self.watcher
        if self.watcher is not None:
            self.watcher.logout()
        self.watcher = None
        watcher = ImapSession.open(self.s.inbound)
        watcher.select(self.folder, readonly=True)
        self.watcher = watcher
        return watcher

    def _has_new(self, watcher: ImapSession) -> bool:
        """Would an execution now take (or settle) anything? Mail it would take, a commit
        to finish, a renumbered folder, or a first run with start_from: now (whose fetch
        stores the baseline at once)."""
        op = self.s.operation
        watermark = self.s._load_watermark()
        assert watcher.selected is not None
        since = op.since
        if watermark is None:
            if op.start_from == "now":
                return True
            floor = 0  # a first run with start_from all or date: what it would take
            if op.start_from == "date":
                since = max(filter(None, (op.since, op.start_date)), default=None)
        elif watermark.get("uidvalidity") != watcher.selected.uidvalidity or watermark.get("pending"):
            return True
        else:
            floor = int(watermark.get("uid", 0))
        criteria, text = self._criteria(floor, since)
        return any(u > floor for u in watcher.search(criteria, text))

    def wait_for_new(self, timeout: float) -> bool:
        s = self.s
        deadline = time.monotonic() + timeout
        watcher = self._watcher()
        if self._has_new(watcher):
            return True
        while not s._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if watcher.has("IDLE"):
                watcher.idle(min(remaining, s.IDLE_SLICE), s._stop)
            else:
                s._sleep(min(remaining, s.POLL_SECONDS))
            if s._stop.is_set():
                return False
            if not watcher.noop():  # the keepalive after each IDLE period, and a liveness check
                watcher = self._watcher()
            if self._has_new(watcher):
                return True
        return False


# -- helpers ----------------------------------------------------------------------------------


def _batches(uids: list[int], sizes: dict[int, int]) -> Iterator[list[int]]:
    batch: list[int] = []
    total = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if batch and (len(batch) >= _BATCH_MESSAGES or total + size > _BATCH_BYTES):
            yield batch
            batch, total = [], 0
        batch.append(uid)
        total += size
    if batch:
        yield batch


def _parse_uid_set(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if ":" in part:
            low, high = (int(x) for x in part.split(":", 1))
            out.extend(range(min(low, high), max(low, high) + 1))
        else:
            out.append(int(part))
    return out


def _held_back(count: int) -> str:
    return (f"{count} message(s) left on the server as they were (not deleted, moved or marked): some of their "
            "documents failed; the next run reads them again (set commit_failed_messages: true to commit them "
            "anyway)")


def _describe(actions: dict[str, Any]) -> str:
    done = []
    if actions.get("mark"):
        done.append("marked as read")
    if actions.get("move"):
        done.append(f"moved to {actions['move']}")
    elif actions.get("delete"):
        done.append("deleted")
    return " and ".join(done) or "passed by the watermark"


