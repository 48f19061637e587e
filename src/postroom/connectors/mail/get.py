"""The Get operation: read mail over POP3 or IMAP; each email becomes documents.

Documents (``disposition``):

* ``inline``: the body becomes the document: the text body (``body: text``, the
  default), the HTML body (``html``), or one document for each (``both``); bodies are
  UTF-8 with ``\\n`` line breaks and ``mail.content_type`` says which one a document is;
* ``attachment``: each attachment becomes one document, its bytes as attached, named
  by ``mail.file_name`` (RFC 2231 and RFC 2047 names decoded).

With ``recognize: bounces`` a delivery status notification (RFC 3464) or feedback report
(RFC 5965) becomes one document per recipient instead (:mod:`._reports`): its fields as
JSON and as ``mail.bounce.*``, linked to the send journal entry of the letter by its
Message-ID (``RunContext.sent_mail``), and kept with that send for ``executions show``.

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

import json
import threading
from collections.abc import Iterable, Iterator
from urllib.parse import quote

from ...errors import ConfigError
from ...sdk import Document, Failed, ListeningSession, OperationSession, RunContext
from ._imap_get import ImapReader
from ._inbound import Inbound
from ._marks import MarkStore
from ._message import BOUNCE_PREFIX
from ._parse import Limits
from ._pop3_get import Pop3Reader
from ._reader_inputs import ReaderInputs
from ._selection import Selection
from .connection import test_inbound, test_mail_connection
from .spec import MailConnection, MailOperation

__all__ = ["ImapGetSession", "MailGetSession", "test_inbound", "test_mail_connection"]



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
        self.selection = Selection.of(operation)
        self.stopping = threading.Event()
        self._warned = False
        self._reader: Pop3Reader | ImapReader | None = None  # made at the first read: see _reading

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
        key, selection = self.resource_key(), self.selection.key_suffix()
        return f"{key}?{selection}" if selection else key

    # -- engine interface ---------------------------------------------------------------------
    def fetch(self) -> Iterator[Document | Failed]:
        if not self._warned:
            self._warned = True
            warning = self.inbound.insecure_warning()
            if warning:
                self.context.log.warning(warning)
        for item in self._reading().read():
            if isinstance(item, Document):
                if BOUNCE_PREFIX + "kind" in item.properties:
                    item = self._link_report(item)
                item.mark_inbound()  # where the mail came from: readable, never reused to send
            yield item

    def _link_report(self, document: Document) -> Document:
        """A delivery report or complaint (``recognize: bounces``) with the send its letter came
        from, found in the send journals by Message-ID; the report is kept with that send (not
        in a dry run) so that ``postroom executions show`` lists it."""
        properties = dict(document.properties)
        sent = self.context.sent_mail()
        message_id = properties[BOUNCE_PREFIX + "original_message_id"]
        found = sent.find(message_id) if message_id else None
        if found is not None:
            properties[BOUNCE_PREFIX + "execution_id"], properties[BOUNCE_PREFIX + "journal_key"] = found
        fields = {name[len(BOUNCE_PREFIX):]: value for name, value in properties.items()
                  if name.startswith(BOUNCE_PREFIX)}
        if not self.context.dry_run:
            sent.record({**fields, "report_id": properties.get("mail.message_id", "")})
        data = json.loads(document.data)
        data.update(execution_id=fields["execution_id"], journal_key=fields["journal_key"])
        return Document(json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"), properties)

    def execute(self, documents: Iterable[Document], shape_id: str) -> Iterator[Document | Failed]:
        # As a connector shape: each incoming document triggers one read; the mail comes out.
        for _ in documents:
            yield from self.fetch()

    def document_failed(self, document: Document) -> None:
        """Hold back the message the document came from (``commit_failed_messages: false``)."""
        if not self.operation.commit_failed_messages and self._reader is not None:
            self._reader.document_failed(document.properties)

    def commit(self) -> None:
        if self._reader is not None:  # nothing was read, nothing to commit
            self._reader.commit()

    def close(self) -> None:
        self.stopping.set()
        if self._reader is not None:
            self._reader.close()

    def interrupt(self) -> None:
        """Make a running :meth:`wait_for_new` return False within about a second."""
        self.stopping.set()

    @staticmethod
    def open(connection: MailConnection, operation: MailOperation, context: RunContext) -> MailGetSession:
        """The session for the connection's protocol: IMAP sessions can also wait for mail."""
        if connection.inbound().protocol == "imap":
            return ImapGetSession(connection, operation, context)
        return MailGetSession(connection, operation, context)

    # -- the reader ---------------------------------------------------------------------------
    def _reading(self) -> Pop3Reader | ImapReader:
        """The reader, made at the first read with its inputs (the engine sets
        ``operation_id``, part of where the watermark is kept, after ``open``)."""
        if self._reader is None:
            inputs = ReaderInputs(
                operation=self.operation, inbound=self.inbound, selection=self.selection,
                # the store is looked up at each use: a listener's session is opened before its
                # executions, and each execution's context brings its own
                marks=MarkStore(self.context.watermarks, self.watermark_key(), self.operation_id, self.protocol,
                                dry_run=self.context.dry_run),
                mailbox=self.resource_key(), limits=self.limits, dry_run=self.context.dry_run, log=self.context.log)
            self._reader = Pop3Reader(inputs) if self.protocol == "pop3" else ImapReader(inputs)
        return self._reader


class ImapGetSession(MailGetSession, ListeningSession):
    """A get over IMAP; it can also wait for new mail (for listeners)."""

    interruptible = True  # interrupt() ends a running wait_for_new within about a second

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
        self.stopping.clear()
        reader = self._reading()
        assert isinstance(reader, ImapReader)
        return reader.wait_for_new(max(0.0, float(timeout_seconds)), self.stopping, idle_slice=self.IDLE_SLICE,
                                   poll_seconds=self.POLL_SECONDS)


