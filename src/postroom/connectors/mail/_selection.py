"""Which mail a get reads: the operation's from, subject and since filters as one value.

The server is asked with them where it can be (IMAP SEARCH); :meth:`Selection.matches`
checks each message exactly. The selection is part of where the watermark is kept
(:meth:`Selection.key_suffix`): a get with other filters has a watermark of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from email.message import Message
from urllib.parse import urlencode

from ._message import addresses
from ._parse import header_text
from .mime import parse_addresses
from .spec import MailOperation

__all__ = ["Selection"]


@dataclass(frozen=True)
class Selection:
    """The from addresses (lower case), the subject text and the first day to read."""

    senders: frozenset[str] = frozenset()
    from_address: str = ""
    subject: str = ""
    since: date | None = None

    @classmethod
    def of(cls, operation: MailOperation) -> Selection:
        try:
            senders = frozenset(a.addr.lower() for a in parse_addresses(operation.from_address))
        except Exception:  # noqa: BLE001 - validated by the model already
            senders = frozenset()
        return cls(senders, operation.from_address or "", operation.subject_filter or "", operation.since)

    @property
    def filtering(self) -> bool:
        """Must each message be checked (any filter set)?"""
        return bool(self.senders or self.subject or self.since)

    def key_suffix(self) -> str:
        """The selection as a query string for the watermark key ("" when nothing is filtered)."""
        selection = []
        if self.from_address:
            selection.append(("from", ",".join(sorted(self.senders)) or self.from_address))
        if self.subject:
            selection.append(("subject", self.subject))
        if self.since:
            selection.append(("since", self.since.isoformat()))
        return urlencode(selection)

    def matches(self, headers: Message, received: datetime) -> bool:
        """Does the message pass the from, subject and since filters (checked exactly)?"""
        if self.senders and not (self.senders & {a.lower() for a in addresses(headers, "From")}):
            return False
        if self.subject and self.subject.casefold() not in header_text(headers.get("Subject")).casefold():
            return False
        return not (self.since and received.date() < self.since)
