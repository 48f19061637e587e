"""One received message into the get operation's documents (see :mod:`.get`): parsed with
the limits of :class:`~._parse.Limits`, its ``mail.*`` properties built in one pass over its
headers, and, when it is broken, a :class:`~postroom.sdk.Failed` holding the raw message.
Used by the POP3 and IMAP readers, and by the hostile-input tests without a server."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from functools import lru_cache
from typing import IO, Any

from ...sdk import INBOUND_MESSAGE, Document, Failed
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
    """The ``mail.*`` properties every document of the message carries, from one pass over
    its headers (each value decoded once)."""
    fields = _Fields(headers)
    if received is None:
        received = _received(fields.texts("received")[:1], fields.texts("date")[:1])
    senders = fields.pairs("from")
    subject, message_id = fields.texts("subject")[:1], fields.texts("message-id")[:1]
    properties = {
        "mail.from_address": ", ".join(address for _, address in senders),
        "mail.from_name": senders[0][0] if senders else "",
        "mail.to_address": ", ".join(address for _, address in fields.pairs("to")),
        "mail.cc_address": ", ".join(address for _, address in fields.pairs("cc")),
        "mail.reply_to_address": ", ".join(address for _, address in fields.pairs("reply-to")),
        "mail.subject": subject[0] if subject else "",
        "mail.message_id": (message_id[0] if message_id else "") or _synthetic_id(raw),
        "mail.received_date": received.isoformat(),
    }
    properties[INBOUND_MESSAGE] = properties["mail.message_id"]  # sends and writes once per message
    if max_fields is not None and fields.count > max_fields:
        properties.update(header_properties(headers, max_fields))
    else:
        properties.update(fields.header_properties())
    properties.update(extra)
    return properties


class _Fields:
    """A message's header values grouped by lower-case name (the first spelling kept), as
    :meth:`Message.get_all` gives them, each decoded to text at most once."""

    def __init__(self, headers: Message) -> None:
        fetch = headers.policy.header_fetch_parse
        groups: dict[str, tuple[str, list[Any]]] = {}
        count = 0
        for name, value in headers.raw_items():
            count += 1
            if not (isinstance(value, str) and value.isascii()):
                value = fetch(name, value)  # raw 8-bit text: a Header, as Message.get gives it
            key = name.lower()
            entry = groups.get(key)
            if entry is None:
                groups[key] = (name, [value])
            else:
                entry[1].append(value)
        self.groups = groups
        self.count = count
        self._texts: dict[str, list[str]] = {}

    def values(self, key: str) -> list[Any]:
        entry = self.groups.get(key)
        return entry[1] if entry is not None else []

    def texts(self, key: str) -> list[str]:
        texts = self._texts.get(key)
        if texts is None:
            texts = self._texts[key] = [_header_text(value) for value in self.values(key)]
        return texts

    def pairs(self, key: str) -> list[tuple[str, str]]:
        values = self.values(key)
        if not values:
            return []
        return address_pairs(tuple(v if isinstance(v, str) else text for v, text in
                                   zip(values, self.texts(key), strict=True)))

    def header_properties(self) -> dict[str, str]:
        return {f"mail.headers.{name}": ", ".join(self.texts(key)) for key, (name, _) in self.groups.items()}


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
    values = headers.get_all(name) or []
    return address_pairs(tuple(v if isinstance(v, str) else _header_text(v) for v in values))


def address_pairs(values: tuple[str, ...]) -> list[tuple[str, str]]:
    """(display name, address) of the values of one address header, by the stdlib's
    :func:`~email.utils.getaddresses` (a single plain ``Name <address>`` or ``address`` is
    read directly, the same result); short values are remembered (a mailbox's To repeats)."""
    if len(values) == 1:
        plain = _PLAIN_ADDRESS.fullmatch(values[0])
        if plain is not None:
            name, address = plain.group(1, 2)
            return [(name or "", address)] if address else [("", plain.group(3))]
    if sum(len(v) for v in values) <= 512:
        return list(_address_pairs(values))
    return list(_address_pairs.__wrapped__(values))


# One address as most mail writes it: letters and digits in the name, a dot-atom address.
_PLAIN_ADDRESS = re.compile(r"[ \t]*(?:([A-Za-z0-9]+(?: [A-Za-z0-9]+)*) <([A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*"
                            r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)>|([A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*"
                            r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*))[ \t]*")


@lru_cache(maxsize=1024)
def _address_pairs(values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((_header_text(n), _header_text(a)) for n, a in getaddresses(list(values)) if a and a != "<>")


def addresses(headers: Message, name: str) -> list[str]:
    return [address for _, address in _pairs(headers, name)]


def received_from_headers(headers: Message) -> datetime:
    """When the message arrived: the newest Received header's date, else Date, else now."""
    received = headers.get_all("Received") or []
    date = headers.get("Date")
    return _received([_header_text(received[0])] if received else [],
                     [_header_text(date)] if date is not None else [])


def _received(received: list[str], date: list[str]) -> datetime:
    candidates = [received[0].rpartition(";")[2]] if received else []
    candidates += date
    for text in candidates:
        moment = message_date(" ".join(text.split()))
        if moment is not None:
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.now(UTC).replace(microsecond=0)


_MONTH = {name: number for number, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}
_DATE = re.compile(r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                   r"([1-9]\d{3}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)")


def message_date(text: str) -> datetime | None:
    """An RFC 5322 date as :func:`~email.utils.parsedate_to_datetime` reads it (None when
    it cannot): the usual ``Tue, 24 Nov 2026 10:00:00 +0000`` read directly."""
    found = _DATE.fullmatch(text)
    if found is not None and found.group(7, 8, 9) != ("-", "00", "00"):  # -0000: no zone, the stdlib's
        day, month, year, hour, minute, second, sign, zone_hours, zone_minutes = found.groups()
        offset = timedelta(hours=int(zone_hours), minutes=int(zone_minutes))
        try:
            return datetime(int(year), _MONTH[month], int(day), int(hour), int(minute), int(second),
                            tzinfo=timezone(-offset if sign == "-" else offset))
        except ValueError:
            pass
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


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
