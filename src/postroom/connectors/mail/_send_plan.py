"""What a send lays out for one document before anything goes: its emails (one, or one per
recipient), their outcome as the sending threads report it, and the plan holding both
(see send.py, which fills and walks these)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...sdk import Document, Failed
from ._send_fields import unique_addresses
from .mime import Letter, MailAddress

__all__ = ["Email", "Outcome", "Plan", "lay_out_emails"]


@dataclass
class Email:
    key: str  # the journal key: shape/digest.k, plus /recipient with one_email_per_recipient
    label: str  # shape/n (the document's number in this run), for logs (which name no recipient)
    to: list[MailAddress]
    envelope: list[str]
    once: bool = False  # keyed by the inbound message (the process's journal scope), not the execution


@dataclass
class Outcome:
    message_ids: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    delivered: int = 0
    recipients: int = 0


@dataclass
class Plan:
    """One document, checked and ready to go: its letter, its emails, their journal entries."""

    document: Document
    index: int
    sender: MailAddress
    letter: Letter
    emails: list[Email]
    notify: tuple[str, ...] = ()  # the DSN notices asked for (RFC 3461), () for none
    entries: list[Any] = field(default_factory=list)
    outcome: Outcome = field(default_factory=Outcome)
    result: Document | Failed | None = None
    error: BaseException | None = None
    failure: str | None = None  # why the document fails (its remaining emails are not sent)
    in_flight: int = 0  # emails handed to the pool and not yet reported
    fed_all: bool = False  # every email handed out, skipped or given up
    once: str | None = None  # its key by inbound message (OnceKeys), if it came from a mailbox


def lay_out_emails(base: str, label: str, to: list[MailAddress], extra: list[str], per_recipient: bool,
                   once: bool) -> list[Email]:
    """The emails of one document under journal key ``base``: one to every address, or (with
    ``one_email_per_recipient``) one per To address keyed ``base/address``; ``extra``: the Cc
    and Bcc addresses every email's envelope also carries."""
    if per_recipient:
        return [Email(f"{base}/{r.addr}", label, [r], list(dict.fromkeys([r.addr, *extra])), once)
                for r in unique_addresses(to)]
    return [Email(base, label, to, list(dict.fromkeys([*(a.addr for a in to), *extra])), once)]
