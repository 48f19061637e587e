"""The IMAP side of the Get operation (see :mod:`.get`): searching by UID above the
watermark (and the messages held back), fetching in batches, the commit (flags, moves,
deletes) once the execution succeeded, and waiting for new mail (IDLE) for listeners."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import date

from ...errors import ConnectionFailed
from ...sdk import Document, Failed
from ._imap import ImapSession, SelectInfo, uid_set
from ._imap_fetch import ImapMessage, fetch_messages
from ._marks import ImapMark, Pending, Pop3Mark
from ._message import HEAD_BYTES, header_block, held_back, received_from_headers
from ._parse import parse_headers
from ._reader_inputs import ReaderInputs

__all__ = ["ImapReader"]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: Fetch at most this many messages per IMAP FETCH command (streamed: one message in memory
#: at a time, whatever their sizes; a consumer that stops early leaves at most this many to drop).
_BATCH_MESSAGES = 200


def _imap_date(day: date) -> str:
    return f"{day.day:02d}-{_MONTHS[day.month - 1]}-{day.year}"


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'




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


def _describe(actions: Pending) -> str:
    done = []
    if actions.mark:
        done.append("marked as read")
    if actions.move:
        done.append(f"moved to {actions.move}")
    elif actions.delete:
        done.append("deleted")
    return " and ".join(done) or "passed by the watermark"


class ImapReader:
    """The IMAP side of a :class:`~.get.MailGetSession`: UIDs, flags, moves and IDLE."""

    def __init__(self, inputs: ReaderInputs) -> None:
        self.inputs = inputs
        self.imap: ImapSession | None = None
        self.info: SelectInfo | None = None
        self.loaded = False
        self.watermark: ImapMark | None = None
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
        return self.inputs.folder

    def _open(self) -> ImapSession:
        if self.imap is not None and self.imap.noop():
            return self.imap
        if self.imap is not None:
            self.imap.logout()
        imap = ImapSession.open(self.inputs.inbound)
        info = imap.select(self.folder, readonly=self.inputs.dry_run)
        if self.info is not None and info.uidvalidity != self.info.uidvalidity:
            imap.logout()
            raise ConnectionFailed(f"the folder {self.folder} of {self.inputs.mailbox} was renumbered "
                                   "(UIDVALIDITY changed) during the execution; the next run reads it afresh",
                                   retryable=True)
        if self.info is None:
            self.info = info
        self.imap = imap
        return imap

    def _criteria(self, floor: int, since: date | None) -> tuple[list[str], tuple[str, str] | None]:
        op = self.inputs.operation
        criteria = [f"UID {floor + 1}:*"]
        if op.unread_only:
            criteria.append("UNSEEN")
        if since:
            criteria += ["SINCE", _imap_date(since)]
        senders = sorted(self.inputs.selection.senders)
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
        held = _parse_uid_set(self.watermark.retry)
        found: set[int] = set()
        for chunk in uid_set(held):
            criteria, text = self._criteria(0, since)
            found.update(imap.search([f"UID {chunk}", *criteria[1:]], text))
        return found & set(held)

    def document_failed(self, properties: dict[str, str]) -> None:
        uid = properties.get("mail.uid", "")
        if properties.get("mail.folder") == self.folder and uid.isdigit():
            self.failed.add(int(uid))

    def _load(self, imap: ImapSession) -> bool:
        """Load the watermark (finishing a commit left undone) at the first read; False when a
        first run with start_from: now only stores its baseline."""
        s, op, info = self.inputs, self.inputs.operation, self.info
        assert info is not None
        self.loaded = True
        watermark = s.marks.load()
        assert watermark is None or isinstance(watermark, ImapMark)
        if watermark and watermark.pending and not s.dry_run:
            watermark = self._finish_pending(watermark)
        if watermark is not None and watermark.uidvalidity != info.uidvalidity:
            s.log.warning(
                f"the folder {self.folder} of {s.mailbox} was renumbered by the server (UIDVALIDITY "
                f"{watermark.uidvalidity} is now {info.uidvalidity}); reading it as on a first run "
                f"(start_from: {op.start_from})")
            watermark = None
        if watermark is None:
            if op.start_from == "now":
                baseline = info.uidnext - 1 if info.uidnext else max(imap.search(["ALL"]), default=0)
                self.watermark = ImapMark(info.uidvalidity, baseline)
                if not s.dry_run:
                    s.marks.save(self.watermark)
                    self.stored = True
                s.log.info(
                    f"first run on {s.mailbox}: {info.exists} message(s) already there are left alone "
                    "(start_from: now); set start_from: all or date to read them")
                return False
            self.watermark = ImapMark(info.uidvalidity, 0)
            self.first_date = op.start_date if op.start_from == "date" else None
        else:
            self.watermark, self.stored = watermark, True
        if op.move_to_folder and not s.dry_run:
            imap.ensure_folder(op.move_to_folder)
        return True

    def read(self) -> Iterator[Document | Failed]:
        op = self.inputs.operation
        imap = self._open()
        if not self.loaded and not self._load(imap):
            return
        assert self.watermark is not None
        floor = max(self.watermark.uid, self.handled)
        since = max(filter(None, (op.since, self.first_date)), default=None)
        criteria, text = self._criteria(floor, since)
        uids = sorted(u for u in imap.search(criteria, text) if u > floor)
        if not self.retried:
            self.retried = True
            self.retry = self._search_retry(imap, since)
            uids = sorted(set(self.retry) | set(uids))
        cut = False
        if op.max_messages:
            room = max(0, op.max_messages - self.count)
            if len(uids) > room:
                uids, cut = uids[:room], True
        for start in range(0, len(uids), _BATCH_MESSAGES):
            # a reader closed early closes the stream, which reads the rest of its answer
            with closing(fetch_messages(imap, uids[start : start + _BATCH_MESSAGES])) as messages:
                yield from self._documents(messages)
        if not cut:
            self.complete = True

    def _documents(self, messages: Iterator[ImapMessage]) -> Iterator[Document | Failed]:
        s, folder = self.inputs, self.folder
        filtering = s.selection.filtering  # the server searched; check exactly
        for message in messages:
            try:
                received = message.received
                if filtering:
                    head = message.raw.read(HEAD_BYTES)
                    message.raw.seek(0)
                    headers = parse_headers(header_block(head))
                    received = received or received_from_headers(headers)
                    if not s.selection.matches(headers, received):
                        self.handled = max(self.handled, message.uid)
                        continue
                result = s.documents(message.raw, received, {"mail.uid": str(message.uid), "mail.folder": folder},
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

    # -- commit -------------------------------------------------------------------------------
    def _actions(self, uids: str = "") -> Pending:
        op = self.inputs.operation
        return Pending(uids, mark=bool(op.mark_as_read), move=op.move_to_folder or "",
                       delete=bool(op.delete_after_read))

    def commit(self) -> None:
        s = self.inputs
        if not self.loaded or self.watermark is None or self.info is None:
            return
        info = self.info
        before = self.watermark.uid
        new_uid = max(before, self.handled)
        if self.complete and info.uidnext:
            new_uid = max(new_uid, info.uidnext - 1)  # everything below matched nothing at search time
        failed = self.failed & set(self.taken)
        done = [uid for uid in self.taken if uid not in failed]
        retry = ",".join(uid_set(sorted((self.retry - set(self.taken)) | failed)))
        actions = self._actions()
        acting = bool(done) and (actions.mark or bool(actions.move) or actions.delete)
        if s.dry_run:
            if done:
                s.log.info(f"dry run: {len(done)} message(s) would now be {_describe(actions)}; "
                                   "the watermark is not advanced")
            return
        if new_uid == before and not acting and self.stored and retry == self.watermark.retry:
            return
        watermark = ImapMark(info.uidvalidity, new_uid, retry)
        if acting:
            pending = self._actions(",".join(uid_set(done)))
            s.marks.save(ImapMark(info.uidvalidity, new_uid, retry, pending))
            self._apply(pending, info.uidvalidity)
            s.log.info(f"{len(done)} message(s) {_describe(actions)} after the execution succeeded")
        if failed:
            s.log.warning(held_back(len(failed)))
        s.marks.save(watermark)
        self.watermark, self.taken, self.stored = watermark, [], True
        self.failed, self.retry = set(), set()

    def _apply(self, pending: Pending, uidvalidity: int | None) -> None:
        imap = self._open()
        assert self.info is not None
        if self.info.uidvalidity != uidvalidity:  # pragma: no cover - _open raises first
            return
        uids = _parse_uid_set(pending.uids)
        if not uids:
            return
        if pending.mark:
            imap.add_flags(uids, "\\Seen")
        if pending.move:
            imap.move(uids, pending.move)
        elif pending.delete:
            imap.add_flags(uids, "\\Deleted")
            imap.expunge(uids)

    def _finish_pending(self, mark: ImapMark) -> ImapMark:
        s = self.inputs
        pending, watermark = mark.pending, mark.settled()
        assert self.info is not None and pending is not None
        if watermark.uidvalidity == self.info.uidvalidity:
            if pending.move:
                self._open().ensure_folder(pending.move)
            self._apply(pending, self.info.uidvalidity)
            s.log.info(
                f"finished what the last successful execution could not: messages {pending.uids} "
                f"{_describe(pending)}")
        s.marks.save(watermark)
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
        watcher = ImapSession.open(self.inputs.inbound)
        watcher.select(self.folder, readonly=True)
        self.watcher = watcher
        return watcher

    def _has_new(self, watcher: ImapSession) -> bool:
        """Would an execution now take (or settle) anything? Mail it would take, a commit
        to finish, a renumbered folder, or a first run with start_from: now (whose fetch
        stores the baseline at once)."""
        op = self.inputs.operation
        watermark = self.inputs.marks.load()
        assert watcher.selected is not None and not isinstance(watermark, Pop3Mark)
        since = op.since
        if watermark is None:
            if op.start_from == "now":
                return True
            floor = 0  # a first run with start_from all or date: what it would take
            if op.start_from == "date":
                since = max(filter(None, (op.since, op.start_date)), default=None)
        elif watermark.uidvalidity != watcher.selected.uidvalidity or watermark.pending:
            return True
        else:
            floor = watermark.uid
        criteria, text = self._criteria(floor, since)
        return any(u > floor for u in watcher.search(criteria, text))

    def wait_for_new(self, timeout: float, stopping: threading.Event, *, idle_slice: float,
                     poll_seconds: float) -> bool:
        """Block until mail the next read would take (or settle) may be there (True), or until
        ``timeout`` passes or ``stopping`` is set (False): IDLE in slices of at most
        ``idle_slice`` seconds, else a search every ``poll_seconds``."""
        deadline = time.monotonic() + timeout
        watcher = self._watcher()
        if self._has_new(watcher):
            return True
        while not stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if watcher.has("IDLE"):
                watcher.idle(min(remaining, idle_slice), stopping)
            else:
                stopping.wait(min(remaining, poll_seconds))
            if stopping.is_set():
                return False
            if not watcher.noop():  # the keepalive after each IDLE period, and a liveness check
                watcher = self._watcher()
            if self._has_new(watcher):
                return True
        return False
