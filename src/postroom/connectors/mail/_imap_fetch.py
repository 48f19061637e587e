"""Fetching messages over IMAP as a stream (the get operation's read, see :mod:`._imap_get`).

One ``UID FETCH`` names a range of messages; each message is handed on as it comes off the
connection, while the server goes on sending the next ones into the socket buffers, so its
work and the parsing overlap (imaplib's ``uid("FETCH")`` would first read the whole answer
into a list). Bodies are fetched with ``BODY.PEEK[]``, so reading never sets ``\\Seen``; a
literal larger than the SDK's spool threshold goes straight into a spooled file (the
session's reader, :class:`._imap._Streaming`). The answer is read with imaplib's public
``send``, ``readline`` and ``read``, under a tag imaplib never uses (``PRF1``...): imaplib
tags are four letters from A to P and a number.
"""

from __future__ import annotations

import imaplib
import itertools
import re
from collections.abc import Generator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from io import BytesIO
from typing import IO

from ...errors import ConnectionFailed
from ._imap import ImapSession, uid_set

__all__ = ["ImapMessage", "fetch_messages", "internal_date"]

_FETCH_UID = re.compile(rb"UID (\d+)")
_FETCH_DATE = re.compile(rb'INTERNALDATE "([^"]+)"')
_FETCH_FLAGS = re.compile(rb"FLAGS \(([^)]*)\)")
_LITERAL = re.compile(rb"\{(\d+)\}\r?\n\Z")
_BODY_LITERAL = re.compile(rb"BODY\[\] ?\Z")
_TAGS = itertools.count(1)


@dataclass
class ImapMessage:
    uid: int
    received: datetime | None
    flags: str
    size: int
    raw: IO[bytes]


def _text(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return " ".join(str(value).split())


def fetch_messages(session: ImapSession, uids: list[int]) -> Generator[ImapMessage, None, None]:
    """The messages with these UIDs, in ascending UID order (those the server no longer has
    are skipped). A consumer that stops early leaves nothing unread: the rest of the answer
    is read and dropped, or the connection is closed when that fails."""
    if not uids:
        return
    client, where = session.client, session.inbound.where
    tag = b"PRF%d" % next(_TAGS)
    wanted = set(uids)
    done = False
    try:
        client.send(b"%s UID FETCH %s (UID INTERNALDATE RFC822.SIZE FLAGS BODY.PEEK[])\r\n"
                    % (tag, ",".join(uid_set(uids)).encode("ascii")))
        while (item := _next_message(session, tag)) is not None:
            if item.uid in wanted:
                yield item
            else:  # pragma: no cover - the server sent more than it was asked
                item.raw.close()
        done = True
    except imaplib.IMAP4.abort as exc:
        done = True
        raise ConnectionFailed(f"the IMAP session with {where} broke (FETCH): {_text(exc)}") from None
    except imaplib.IMAP4.error as exc:
        done = True
        raise ConnectionFailed(f"the IMAP server {where} failed (FETCH): {_text(exc)}") from None
    except (OSError, EOFError) as exc:
        done = True
        raise session.inbound.map(exc, "FETCH", connected=True) from None
    except ConnectionFailed:
        done = True
        raise
    finally:
        if not done:
            _drain(session, tag)


def _next_message(session: ImapSession, tag: bytes) -> ImapMessage | None:
    """The next message of a running FETCH (other untagged answers are passed over); None
    after its tagged answer, which must be OK."""
    client = session.client
    while True:
        line = client.readline()
        if not line:
            raise EOFError("the server closed the connection in the middle of a FETCH")
        if line.startswith(tag + b" "):
            if not line[len(tag) + 1 :].upper().startswith(b"OK"):
                raise ConnectionFailed(f"the IMAP server {session.inbound.where} refused FETCH: "
                                       f"{_text(line[len(tag) + 1 :])}", retryable=False)
            return None
        if line.startswith(b"* BYE"):
            raise ConnectionFailed(f"the IMAP server {session.inbound.where} ended the session: {_text(line)}")
        meta, body = line, None
        while (literal := _LITERAL.search(line)) is not None:
            data = client.read(int(literal.group(1)))
            if body is None and _BODY_LITERAL.search(line, 0, literal.start()):
                body = data
            elif isinstance(data, bytes):
                meta += data
            else:  # pragma: no cover - a large literal that is not the body
                data.file.close()
            line = client.readline()
            meta += line
        if body is not None:
            return _message(meta, body)


def _message(meta: bytes, body: object) -> ImapMessage | None:
    raw: IO[bytes] = BytesIO(body) if isinstance(body, bytes) else body.file  # type: ignore[attr-defined]
    size = len(body) if isinstance(body, bytes) else body.size  # type: ignore[attr-defined]
    uid = _FETCH_UID.search(meta)
    if uid is None:  # pragma: no cover - the server left out the UID that UID FETCH asks for
        raw.close()
        raise ConnectionFailed("the IMAP server answered UID FETCH without the UIDs", retryable=False)
    when, flags = _FETCH_DATE.search(meta), _FETCH_FLAGS.search(meta)
    return ImapMessage(int(uid.group(1)), internal_date(when.group(1)) if when else None,
                       flags.group(1).decode("ascii", "replace") if flags else "", size, raw)


def _drain(session: ImapSession, tag: bytes) -> None:
    """Read what is left of a FETCH the consumer stopped reading, so the session goes on."""
    try:
        while (item := _next_message(session, tag)) is not None:
            item.raw.close()
    except (ConnectionFailed, imaplib.IMAP4.error, OSError, EOFError):
        try:  # the session cannot go on: the next command fails and the reader opens another
            session.client.shutdown()
        except OSError:
            pass


_MONTH = {name: number for number, name in enumerate(
    (b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"), start=1)}
_INTERNAL_DATE = re.compile(rb"(\d{1,2}| [1-9])-([A-Z][a-z][a-z])-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)([0-5]\d)")


def internal_date(value: bytes) -> datetime | None:
    """IMAP's INTERNALDATE (``24-Nov-2026 10:00:00 +0000``), as ``strptime`` reads it (read
    directly: ``strptime`` cost as much as the rest of a message's fetch)."""
    found = _INTERNAL_DATE.fullmatch(value)
    month = _MONTH.get(found.group(2)) if found is not None else None
    if found is not None and month is not None:
        day, _, year, hour, minute, second, sign, zone_hours, zone_minutes = found.groups()
        offset = timedelta(hours=int(zone_hours), minutes=int(zone_minutes))
        try:
            return datetime(int(year), month, int(day), int(hour), int(minute), int(second),
                            tzinfo=timezone(-offset if sign == b"-" else offset))
        except ValueError:
            pass
    try:
        return datetime.strptime(value.decode("ascii"), "%d-%b-%Y %H:%M:%S %z")
    except ValueError:
        try:
            return parsedate_to_datetime(value.decode("ascii", "replace"))
        except (TypeError, ValueError):
            return None
