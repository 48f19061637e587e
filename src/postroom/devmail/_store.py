"""The mail store shared by every devmail server.

SMTP and SMTPS write into it, POP3 and POP3S read per-user views of it, the web inbox and
tests browse all of it. It lives in memory; with a folder it also keeps one ``.eml`` per
message plus an append-only JSON-lines index, so ``postroom devmail --data DIR`` keeps
mail across restarts without rewriting a growing index on every message.

Why a JSON-lines log rather than one JSON document: a test or benchmark may push
thousands of messages through devmail, and rewriting the whole index per message would
make storing quadratic. The log is compacted when the store opens.
"""

from __future__ import annotations

import email
import json
import logging
import os
import re
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from functools import cached_property
from pathlib import Path
from typing import Any

__all__ = ["MailStore", "RecipientDecision", "StoredMessage", "normalize_crlf"]

log = logging.getLogger("postroom.devmail")

INDEX_NAME = "index.jsonl"
MESSAGES_DIR = "messages"
_INDEX_VERSION = 1
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,70}$")
_LINE_END = re.compile(rb"\r\n|\r|\n")


def normalize_crlf(raw: bytes) -> bytes:
    """``raw`` with every line ending as CRLF and a final CRLF.

    POP3 and the SMTP DATA phase are line protocols with CRLF line ends; a message that
    was stored with bare LFs (written by hand into a data folder, say) must still be
    served with correct octet counts.
    """
    if not raw:
        return b""
    text = _LINE_END.sub(b"\r\n", raw)
    if not text.endswith(b"\r\n"):
        text += b"\r\n"
    return text


@dataclass(frozen=True)
class StoredMessage:
    """One message as the SMTP server received it.

    ``raw`` holds the bytes of the DATA phase exactly as received (dot-unstuffed, as
    RFC 5321 says), so tests can assert on what a client really sent. ``deleted_for``
    lists the POP3 users who deleted it from their mailbox: a POP3 DELE hides the
    message from that user only, as a real server with one copy per recipient would,
    while the web inbox and :meth:`MailStore.messages` still show it.
    """

    id: str
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    received: datetime
    peer: str = ""
    tls: bool = False
    auth_user: str | None = None
    smtp_utf8: bool = False
    server: str = "smtp"
    deleted_for: frozenset[str] = field(default_factory=frozenset)

    @property
    def size(self) -> int:
        """Size in octets of the raw message."""
        return len(self.raw)

    def parse(self) -> EmailMessage:
        """The message parsed with the stdlib ``email`` package (policy ``default``).

        A new object on every call, so callers may modify what they get.
        """
        message = email.message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        return message

    @cached_property
    def _headers(self) -> EmailMessage:
        # Parsing only the header block keeps listing a large inbox cheap.
        return BytesHeaderParser(policy=policy.default).parsebytes(self.raw)

    def header(self, name: str, default: str = "") -> str:
        """A decoded header (RFC 2047 words decoded); ``default`` when absent or unreadable."""
        try:
            value = self._headers.get(name)
        except Exception:  # a malformed header must not break a listing
            value = None
        if value is None:
            return default
        return str(value)

    @property
    def subject(self) -> str:
        return self.header("Subject")

    def metadata(self) -> dict[str, Any]:
        """Everything but the raw bytes, as JSON-ready values (for the index and the API)."""
        return {
            "id": self.id,
            "mail_from": self.mail_from,
            "rcpt_tos": list(self.rcpt_tos),
            "received": self.received.isoformat(),
            "peer": self.peer,
            "tls": self.tls,
            "auth_user": self.auth_user,
            "smtp_utf8": self.smtp_utf8,
            "server": self.server,
            "size": self.size,
            "deleted_for": sorted(self.deleted_for),
        }

    @classmethod
    def from_metadata(cls, meta: dict[str, Any], raw: bytes) -> StoredMessage:
        return cls(
            id=str(meta["id"]),
            mail_from=str(meta.get("mail_from", "")),
            rcpt_tos=tuple(str(r) for r in meta.get("rcpt_tos", ())),
            raw=raw,
            received=datetime.fromisoformat(meta["received"]),
            peer=str(meta.get("peer", "")),
            tls=bool(meta.get("tls", False)),
            auth_user=meta.get("auth_user"),
            smtp_utf8=bool(meta.get("smtp_utf8", False)),
            server=str(meta.get("server", "smtp")),
            deleted_for=frozenset(meta.get("deleted_for", ())),
        )

    def addressed_to(self, address: str) -> bool:
        """Whether ``address`` is one of the envelope recipients (case-insensitive)."""
        wanted = address.casefold()
        return any(r.casefold() == wanted for r in self.rcpt_tos)


@dataclass(frozen=True)
class RecipientDecision:
    """What the SMTP server answered to one RCPT TO, kept so tests can assert on it.

    ``attempt`` counts RCPT commands for this address since the store was cleared,
    which is what the 4xx injection keys on.
    """

    address: str
    mail_from: str
    code: int
    reply: str
    attempt: int
    peer: str
    server: str
    tls: bool
    time: datetime

    @property
    def accepted(self) -> bool:
        return 200 <= self.code < 300

    @property
    def temporary(self) -> bool:
        return 400 <= self.code < 500

    def as_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "mail_from": self.mail_from,
            "code": self.code,
            "reply": self.reply,
            "attempt": self.attempt,
            "peer": self.peer,
            "server": self.server,
            "tls": self.tls,
            "time": self.time.isoformat(),
            "accepted": self.accepted,
        }


class MailStore:
    """Thread-safe message store, in memory with an optional folder behind it.

    Every server thread calls into it, so every public method takes the lock; waiting
    callers (:meth:`wait_for`) sleep on a condition, never in a polling loop.
    """

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._messages: dict[str, StoredMessage] = {}
        self._decisions: list[RecipientDecision] = []
        self._attempts: dict[str, int] = {}
        self.directory: Path | None = Path(directory) if directory is not None else None
        self._index_file: Any = None
        if self.directory is not None:
            self._open_folder(self.directory)

    # -- folder ------------------------------------------------------------------

    def _open_folder(self, directory: Path) -> None:
        (directory / MESSAGES_DIR).mkdir(parents=True, exist_ok=True)
        index = directory / INDEX_NAME
        if index.exists():
            self._replay(index)
        self._compact(index)

    def _replay(self, index: Path) -> None:
        messages: dict[str, dict[str, Any]] = {}
        with open(index, encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                    op = entry["op"]
                except (ValueError, KeyError, TypeError):
                    # A line cut short by a crash: what came before it is still good.
                    log.warning("devmail: skipping unreadable line %d of %s", number, index)
                    continue
                if op == "add":
                    meta = entry["message"]
                    messages[str(meta["id"])] = meta
                elif op == "delete":
                    for message_id in entry.get("ids", ()):
                        messages.pop(message_id, None)
                elif op == "pop3_delete":
                    user = entry["user"]
                    for message_id in entry.get("ids", ()):
                        if message_id in messages:
                            meta = messages[message_id]
                            meta["deleted_for"] = sorted({*meta.get("deleted_for", ()), user})
                elif op == "clear":
                    messages.clear()
        for message_id, meta in messages.items():
            path = self._eml_path(message_id)
            if path is None or not path.exists():
                log.warning("devmail: message %s is in the index but its file is missing", message_id)
                continue
            self._messages[message_id] = StoredMessage.from_metadata(meta, path.read_bytes())

    def _compact(self, index: Path) -> None:
        """Rewrite the index with one ``add`` line per live message; drop orphan files.

        An orphan ``.eml`` comes from a crash between writing the file and its index
        line; its SMTP client never got a 250, so it will resend and the file is junk.
        """
        assert self.directory is not None
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".index-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(json.dumps({"op": "header", "version": _INDEX_VERSION}) + "\n")
            for message in self._messages.values():
                out.write(json.dumps({"op": "add", "message": message.metadata()}) + "\n")
        os.replace(tmp, index)
        live = {f"{message_id}.eml" for message_id in self._messages}
        for path in (self.directory / MESSAGES_DIR).glob("*.eml"):
            if path.name not in live:
                path.unlink(missing_ok=True)

    def _eml_path(self, message_id: str) -> Path | None:
        if self.directory is None or not _SAFE_ID.match(message_id):
            return None
        return self.directory / MESSAGES_DIR / f"{message_id}.eml"

    def _log(self, entry: dict[str, Any]) -> None:
        if self.directory is None:
            return
        if self._index_file is None:
            # Kept open between writes (one append per message); reopened after close().
            self._index_file = open(self.directory / INDEX_NAME, "a", encoding="utf-8")
        self._index_file.write(json.dumps(entry) + "\n")
        self._index_file.flush()

    def close(self) -> None:
        """Close the index file; the store stays usable and reopens it on the next write."""
        with self._lock:
            if self._index_file is not None:
                self._index_file.close()
                self._index_file = None

    # -- writing -----------------------------------------------------------------

    def add(
        self,
        *,
        mail_from: str,
        rcpt_tos: Sequence[str],
        raw: bytes,
        peer: str = "",
        tls: bool = False,
        auth_user: str | None = None,
        smtp_utf8: bool = False,
        server: str = "smtp",
        received: datetime | None = None,
    ) -> StoredMessage:
        """Store a message; on disk the ``.eml`` is written before its index line."""
        message = StoredMessage(
            id=uuid.uuid4().hex,
            mail_from=mail_from,
            rcpt_tos=tuple(rcpt_tos),
            raw=bytes(raw),
            received=received or datetime.now(UTC),
            peer=peer,
            tls=tls,
            auth_user=auth_user,
            smtp_utf8=smtp_utf8,
            server=server,
        )
        with self._lock:
            path = self._eml_path(message.id)
            if path is not None:
                # No temp file and rename needed: a file only counts once its index line,
                # written after it, exists; a torn one is an orphan, dropped at open.
                path.write_bytes(message.raw)
            self._log({"op": "add", "message": message.metadata()})
            self._messages[message.id] = message
            self._changed.notify_all()
        return message

    def delete(self, ids: Iterable[str]) -> int:
        """Remove messages entirely; returns how many existed."""
        with self._lock:
            gone = [i for i in ids if i in self._messages]
            if not gone:
                return 0
            self._log({"op": "delete", "ids": gone})
            for message_id in gone:
                del self._messages[message_id]
                path = self._eml_path(message_id)
                if path is not None:
                    path.unlink(missing_ok=True)
            self._changed.notify_all()
            return len(gone)

    def delete_for(self, user: str, ids: Iterable[str]) -> int:
        """Hide messages from one POP3 user's mailbox (the POP3 UPDATE state)."""
        key = user.casefold()
        with self._lock:
            hit = [i for i in ids if i in self._messages and key not in self._messages[i].deleted_for]
            if not hit:
                return 0
            self._log({"op": "pop3_delete", "user": key, "ids": hit})
            for message_id in hit:
                old = self._messages[message_id]
                self._messages[message_id] = replace(old, deleted_for=old.deleted_for | {key})
            self._changed.notify_all()
            return len(hit)

    def clear(self) -> int:
        """Remove every message and forget recipient decisions and attempt counts."""
        with self._lock:
            count = len(self._messages)
            self._log({"op": "clear"})
            for message_id in list(self._messages):
                path = self._eml_path(message_id)
                if path is not None:
                    path.unlink(missing_ok=True)
            self._messages.clear()
            self._decisions.clear()
            self._attempts.clear()
            self._changed.notify_all()
            return count

    # -- recipient decisions -----------------------------------------------------

    def next_attempt(self, address: str) -> int:
        """Count one more RCPT attempt for ``address`` and return the new count (from 1)."""
        key = address.casefold()
        with self._lock:
            self._attempts[key] = self._attempts.get(key, 0) + 1
            return self._attempts[key]

    def record_decision(self, decision: RecipientDecision) -> None:
        with self._lock:
            self._decisions.append(decision)
            self._changed.notify_all()

    def decisions(self) -> list[RecipientDecision]:
        """Every RCPT decision since the store was made or cleared, oldest first."""
        with self._lock:
            return list(self._decisions)

    # -- reading -----------------------------------------------------------------

    def __len__(self) -> int:
        with self._lock:
            return len(self._messages)

    def get(self, message_id: str) -> StoredMessage:
        """The message with this id; ``KeyError`` when there is none."""
        with self._lock:
            return self._messages[message_id]

    def messages(self, recipient: str | None = None) -> list[StoredMessage]:
        """Stored messages in arrival order, optionally only those addressed to ``recipient``."""
        with self._lock:
            found = list(self._messages.values())
        if recipient is not None:
            found = [m for m in found if m.addressed_to(recipient)]
        return found

    def mailbox(self, user: str, *, catch_all: bool = False) -> list[StoredMessage]:
        """What POP3 ``user`` sees: mail addressed to them (or all, for a catch-all),
        minus what they deleted."""
        key = user.casefold()
        with self._lock:
            found = list(self._messages.values())
        return [m for m in found if key not in m.deleted_for and (catch_all or m.addressed_to(user))]

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[StoredMessage]:
        """Block until at least ``count`` messages are stored; return them all.

        Raises ``TimeoutError`` after ``timeout`` seconds, saying how many arrived.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"devmail: {len(self._messages)} of {count} expected messages arrived "
                        f"within {timeout:g} s"
                    )
                self._changed.wait(remaining)
            return list(self._messages.values())
