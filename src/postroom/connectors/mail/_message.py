"""One received message into the get operation's documents (see :mod:`.get`): parsed with
the limits of :class:`~._parse.Limits`, its ``mail.*`` properties built in one pass over its
headers, and, when it is broken, a :class:`~postroom.sdk.Failed` holding the raw message.
Used by the POP3 and IMAP readers, and by the hostile-input tests without a server."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from typing import IO

from ...sdk import Document, Failed
from ._parse import BrokenMessage, Limits, parse_headers, parse_message
from ._parse import header_text as _header_text
from ._reports import Report, is_report, read_reports
from .spec import MailOperation

__all__ = ["BOUNCE_PREFIX", "HEAD_BYTES", "addresses", "header_block", "header_properties", "held_back", "message_documents",
           "message_properties", "received_from_headers"]

#: The properties of a delivery report or complaint (``recognize: bounces``).
BOUNCE_PREFIX = "mail.bounce."

#: How much of a message is read for its headers when only they are needed.
HEAD_BYTES = 64 * 1024


def message_documents(raw: IO[bytes], op: MailOperation, limits: Limits | None = None, *,
                      received: datetime | None = None, extra: dict[str, str] | None = None,
                      label: str = "message", warn: Callable[[str], None] | None = None) -> list[Document] | Failed:
    """The documents of one received message (see :mod:`.get`), or a :class:`Failed` holding
    the raw message and the reason when it is broken. Never raises for what the message
    holds: every message either becomes documents or fails alone."""
    limits = limits or Limits()
    extra = extra or {}
    keep = {"attachment"} if op.disposition == "attachment" else {"text", "html"}
    raw.seek(0)
    try:
        parsed = parse_message(raw, keep, limits)
    except BrokenMessage as exc:
        raw.seek(0)
        head = raw.read(HEAD_BYTES)
        raw.seek(0)
        headers = parse_headers(header_block(head))
        properties = message_properties(headers, received, extra, raw, limits.max_header_fields)
        document = Document.from_stream(raw, properties)
        return Failed(document, f"{label} {properties['mail.message_id']} is broken: {exc}. It stays on the "
                                "server (not deleted, moved or marked) and later runs pass it")
    try:
        properties = message_properties(parsed.headers, received, extra, raw)
        if warn is not None:
            for warning in parsed.warnings:
                warn(f"{label} {properties['mail.message_id']}: {warning}")
        if op.recognize == "bounces" and is_report(str(parsed.headers.get("Content-Type", ""))):
            reports = _report_documents(raw, properties, label, warn)
            if reports:
                return reports
        if op.disposition == "attachment":
            documents = []
            for part in parsed.attachments:
                kind = part.content_type + (f"; charset={part.charset}" if part.charset else "")
                documents.append(Document.from_stream(
                    part.content, {**properties, "mail.file_name": part.file_name, "mail.content_type": kind}))
            return documents
        if op.body == "both":
            bodies = [p for p in (parsed.text, parsed.html) if p is not None]
        elif op.body == "html":
            bodies = [p for p in (parsed.html or parsed.text,) if p is not None]
        else:
            bodies = [p for p in (parsed.text or parsed.html,) if p is not None]
        if not bodies:
            return [Document(b"", {**properties, "mail.content_type": "text/plain; charset=utf-8"})]
        return [Document.from_stream(part.content, {**properties,
                                                    "mail.content_type": f"{part.content_type}; charset=utf-8"})
                for part in bodies]
    finally:
        parsed.close()


#: A report bigger than this (a bounce that returned a large letter whole) is read as ordinary mail.
REPORT_LIMIT = 10 * 1024 * 1024


def _report_documents(raw: IO[bytes], properties: dict[str, str], label: str,
                      warn: Callable[[str], None] | None) -> list[Document]:
    """One document per recipient of a delivery report (or per complaint): its fields as JSON
    and as ``mail.bounce.*`` properties (see :mod:`._reports`). Read whole, so only up to
    :data:`REPORT_LIMIT`."""
    size = raw.seek(0, 2)
    if size > REPORT_LIMIT:
        if warn is not None:
            warn(f"{label} {properties['mail.message_id']} is a report of {size} bytes, over the "
                 f"{REPORT_LIMIT} read as one: it is read as ordinary mail (send with dsn_ret: hdrs so bounces return headers only)")
        return []
    raw.seek(0)
    return [Document(report.json(), {**properties, "mail.content_type": "application/json",
                                     **bounce_properties(report)})
            for report in read_reports(raw.read())]


def bounce_properties(report: Report) -> dict[str, str]:
    """``mail.bounce.*`` of one report; execution_id and journal_key are filled in by the get
    when the send journal knows the letter."""
    return {BOUNCE_PREFIX + "kind": report.kind, BOUNCE_PREFIX + "recipient": report.recipient,
            BOUNCE_PREFIX + "action": report.action, BOUNCE_PREFIX + "status": report.status,
            BOUNCE_PREFIX + "diagnostic": report.diagnostic,
            BOUNCE_PREFIX + "original_message_id": report.original_message_id,
            BOUNCE_PREFIX + "reported_at": report.reported_at,
            BOUNCE_PREFIX + "execution_id": "", BOUNCE_PREFIX + "journal_key": ""}


def message_properties(headers: Message, received: datetime | None, extra: dict[str, str],
                       raw: IO[bytes], max_fields: int | None = None) -> dict[str, str]:
    """The ``mail.*`` properties every document of the message carries."""
    if received is None:
        received = received_from_headers(headers)
    senders = _pairs(headers, "From")
    properties = {
        "mail.from_address": ", ".join(address for _, address in senders),
        "mail.from_name": senders[0][0] if senders else "",
        "mail.to_address": ", ".join(addresses(headers, "To")),
        "mail.cc_address": ", ".join(addresses(headers, "Cc")),
        "mail.reply_to_address": ", ".join(addresses(headers, "Reply-To")),
        "mail.subject": _header_text(headers.get("Subject")),
        "mail.message_id": _header_text(headers.get("Message-ID")) or _synthetic_id(raw),
        "mail.received_date": received.isoformat(),
    }
    properties.update(header_properties(headers, max_fields))
    properties.update(extra)
    return properties


def header_block(head: bytes) -> bytes:
    for separator in (b"\r\n\r\n", b"\n\n"):
        index = head.find(separator)
        if index >= 0:
            return head[: index + len(separator)]
    return head + b"\r\n\r\n"


def header_properties(headers: Message, max_fields: int | None = None) -> dict[str, str]:
    """``mail.headers.<Name>`` for every header (the first spelling of a name; repeated
    headers joined with ``, ``), in one pass over the headers (linear in their number);
    at most ``max_fields`` fields are looked at."""
    groups: dict[str, tuple[str, list[str]]] = {}
    for index, (name, value) in enumerate(headers.items()):
        if max_fields is not None and index >= max_fields:
            break
        entry = groups.get(name.lower())
        if entry is None:
            groups[name.lower()] = (name, [_header_text(value)])
        else:
            entry[1].append(_header_text(value))
    return {f"mail.headers.{name}": ", ".join(values) for name, values in groups.values()}


def _pairs(headers: Message, name: str) -> list[tuple[str, str]]:
    """(display name, address) of an address header; names decoded after splitting, so a
    comma inside an encoded name never splits an address."""
    values = [v if isinstance(v, str) else _header_text(v) for v in headers.get_all(name) or []]
    return [(_header_text(n), _header_text(a)) for n, a in getaddresses(values) if a and a != "<>"]


def addresses(headers: Message, name: str) -> list[str]:
    return [address for _, address in _pairs(headers, name)]


def received_from_headers(headers: Message) -> datetime:
    """When the message arrived: the newest Received header's date, else Date, else now."""
    candidates = []
    received = headers.get_all("Received") or []
    if received:
        candidates.append(_header_text(received[0]).rpartition(";")[2])
    if headers.get("Date") is not None:
        candidates.append(_header_text(headers.get("Date")))
    for text in candidates:
        try:
            moment = parsedate_to_datetime(" ".join(text.split()))
        except (TypeError, ValueError, IndexError):
            continue
        if moment is not None:
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.now(UTC).replace(microsecond=0)


def _synthetic_id(raw: IO[bytes]) -> str:
    """A stable Message-ID for a message that has none: the same bytes give the same id."""
    position = raw.tell()
    raw.seek(0)
    digest = hashlib.sha256()
    while chunk := raw.read(1024 * 1024):
        digest.update(chunk)
    raw.seek(position)
    return f"<{digest.hexdigest()[:40]}@postroom.invalid>"


def held_back(count: int) -> str:
    """The log line for messages held back at commit (a document of theirs failed)."""
    return (f"{count} message(s) left on the server as they were (not deleted, moved or marked): some of their "
            "documents failed; the next run reads them again (set commit_failed_messages: true to commit them "
            "anyway)")
