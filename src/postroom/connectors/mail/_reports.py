"""Delivery status notifications (RFC 3464) and feedback reports (RFC 5965) read into
:class:`Report` values, one per recipient: what a Get with ``recognize: bounces`` makes
documents of (see :mod:`._message`).

Both arrive as ``multipart/report``: a text for people, then the machine-readable part
(``message/delivery-status``: a block of per-message fields and one block per recipient;
``message/feedback-report``: one block), then the letter reported on (``message/rfc822``)
or its headers (``text/rfc822-headers``). The letter's Message-ID comes from the report's
``Original-Envelope-Id`` when it is one (Postroom sends its Message-ID as the ENVID), else
from the returned headers.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import UTC
from email import message_from_bytes, message_from_string, policy
from email.message import Message
from email.utils import parsedate_to_datetime

__all__ = ["Report", "is_report", "read_reports"]

#: What a report's action says about the letter (RFC 3464 2.3.3); complaints are their own kind.
_KINDS = {"failed": "bounce", "delayed": "delay", "delivered": "delivered", "relayed": "delivered",
          "expanded": "delivered"}
_REPORT_TYPES = ("delivery-status", "feedback-report")
_MESSAGE_ID = re.compile(r"<[^<>\s]+@[^<>\s]+>")
_XTEXT = re.compile(r"\+([0-9A-Fa-f]{2})")


@dataclass(frozen=True)
class Report:
    """One recipient's delivery report, or one complaint."""

    kind: str  # bounce | delay | delivered | complaint
    recipient: str
    action: str  # failed, delayed, ...; a complaint's feedback type (abuse)
    status: str  # 5.1.1; "" for a complaint
    diagnostic: str
    original_message_id: str
    reported_at: str  # ISO 8601, "" when the report gives no date

    def json(self, execution_id: str = "", journal_key: str = "") -> bytes:
        """The document a Get makes of it: every field, and the send the letter came from."""
        fields = {**asdict(self), "execution_id": execution_id, "journal_key": journal_key}
        return json.dumps(fields, ensure_ascii=False, indent=1).encode("utf-8")


def is_report(content_type: str) -> bool:
    """Whether a message's Content-Type header announces a report this module reads."""
    value = content_type.lower()
    return value.strip().startswith("multipart/report") and any(kind in value for kind in _REPORT_TYPES)


def read_reports(raw: bytes) -> list[Report]:
    """The reports a multipart/report message holds ([] when it holds none this module reads)."""
    message = message_from_bytes(raw, policy=policy.compat32)
    if message.get_content_type() != "multipart/report":
        return []
    report_type = (message.get_param("report-type") or "").lower()  # type: ignore[union-attr]
    parts = [part for part in message.walk() if part is not message]
    original = _original_message_id(parts)
    date = _iso(message.get("Date"))
    if report_type == "feedback-report":
        return _complaints(parts, original, date)
    return _delivery_status(parts, original, date)


def _delivery_status(parts: list[Message], original: str, date: str) -> list[Report]:
    status_part = next((p for p in parts if p.get_content_type() == "message/delivery-status"), None)
    if status_part is None:
        return []
    blocks = _blocks(status_part)
    if not blocks:
        return []
    per_message, recipients = blocks[0], blocks[1:]
    envid = _message_id(_unxtext(per_message.get("original-envelope-id", "")))
    date = _iso(per_message.get("arrival-date")) if not date else date
    reports = []
    for fields in recipients:
        recipient = _address(fields.get("final-recipient") or fields.get("original-recipient", ""))
        action = fields.get("action", "").strip().lower()
        if not recipient or not action:
            continue
        reports.append(Report(kind=_KINDS.get(action, action), recipient=recipient, action=action,
                              status=fields.get("status", "").strip().split(" ")[0],
                              diagnostic=_typed(fields.get("diagnostic-code", "")),
                              original_message_id=envid or original,
                              reported_at=_iso(fields.get("last-attempt-date")) or date))
    return reports


def _complaints(parts: list[Message], original: str, date: str) -> list[Report]:
    feedback = next((p for p in parts if p.get_content_type() == "message/feedback-report"), None)
    if feedback is None:
        return []
    blocks = _blocks(feedback)
    fields = blocks[0] if blocks else {}
    recipient = _address(fields.get("original-rcpt-to", "")) or _returned_to(parts)
    envid = _message_id(_unxtext(fields.get("original-envelope-id", "")))
    return [Report(kind="complaint", recipient=recipient, action=fields.get("feedback-type", "abuse").strip().lower(),
                   status="", diagnostic=fields.get("user-agent", "").strip(),
                   original_message_id=envid or original,
                   reported_at=_iso(fields.get("arrival-date")) or date)]


def _blocks(part: Message) -> list[dict[str, str]]:
    """The header blocks of a delivery-status or feedback-report part, names in lower case."""
    payload = part.get_payload()
    if isinstance(payload, list):  # the stdlib splits message/delivery-status into blocks
        return [{k.lower(): _unfold(v) for k, v in block.items()} for block in payload if isinstance(block, Message)]
    text = part.get_payload(decode=True)
    body = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(payload)
    blocks = []
    for chunk in re.split(r"\r?\n\s*\r?\n", body.strip()):
        block = message_from_string(chunk.strip() + "\n\n", policy=policy.compat32)
        if block.keys():
            blocks.append({k.lower(): _unfold(v) for k, v in block.items()})
    return blocks


def _original_headers(parts: list[Message]) -> Message | None:
    for part in parts:
        kind = part.get_content_type()
        if kind == "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
        if kind == "text/rfc822-headers":
            data = part.get_payload(decode=True)
            text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(part.get_payload())
            return message_from_string(text.strip() + "\n\n", policy=policy.compat32)
    return None


def _original_message_id(parts: list[Message]) -> str:
    headers = _original_headers(parts)
    return _message_id(str(headers.get("Message-ID", ""))) if headers is not None else ""


def _returned_to(parts: list[Message]) -> str:
    headers = _original_headers(parts)
    return _address(str(headers.get("To", ""))) if headers is not None else ""


def _unfold(value: object) -> str:
    return " ".join(str(value).split())


def _unxtext(value: str) -> str:
    return _XTEXT.sub(lambda m: chr(int(m.group(1), 16)), value.strip())


def _message_id(value: str) -> str:
    found = _MESSAGE_ID.search(value)
    return found.group(0) if found else ""


def _typed(value: str) -> str:
    """``smtp; 550 5.1.1 ...`` without its type (RFC 3464 address and diagnostic types)."""
    kind, sep, rest = value.partition(";")
    return rest.strip() if sep and " " not in kind.strip() else value.strip()


def _address(value: str) -> str:
    address = _typed(value).strip().strip("<>")
    found = re.search(r"[^\s<>,;]+@[^\s<>,;]+", address)
    return found.group(0) if found else address


def _iso(value: object) -> str:
    if not value:
        return ""
    try:
        moment = parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()
