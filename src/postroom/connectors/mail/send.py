"""The Send operation: each document becomes one email (or one per To address).

For every document the operation's fields are overridden by the document properties
``mail.to_address``, ``mail.from_address``, ``mail.cc_address``, ``mail.bcc_address``,
``mail.reply_to_address``, ``mail.subject``, ``mail.file_name`` and ``mail.body`` when
they are set and not blank.

Results, per document:

* sent: the document passes on with ``mail.message_id`` (the Message-ID, several
  separated by spaces with ``one_email_per_recipient``) and ``mail.smtp_response`` (the
  server's final reply, such as ``250 2.0.0 Ok: queued as 4F2A``);
* some recipients refused: the document still passes, because the others *did* get
  the email and failing it would invite a resend to them; it carries
  ``mail.refused_recipients`` (``addr: reply; ...``) and a warning is logged;
* every recipient refused, no From, no To, a bad address or body: :class:`Failed`
  with the reason; the other documents go on;
* the server cannot be reached or refuses the login: the error is raised, since no
  later document could fare better.

Journal (DESIGN.md principle 9): before each email ``journal().begin(key, message_id)``
with ``key = f"{shape_id}/{n}"`` (``n``: the document's index in this session, counted
as documents arrive) plus ``f"/{recipient}"`` with ``one_email_per_recipient``. An entry
already ``sent`` (a resumed execution) is skipped; any other entry is sent again under
its recorded Message-ID; afterwards ``finish(key, "sent" | "failed", reply)``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ...errors import DocumentError
from ...sdk import Document, Failed, OperationSession, RunContext
from ._smtp import Delivery, PoolRegistry, SmtpPool, insecure_warning
from .mime import (
    AddressError,
    BodyError,
    Letter,
    MailAddress,
    MessageTemplate,
    default_file_name,
    message_id_for,
    parse_addresses,
    parse_content_type,
)
from .spec import MailConnection, MailOperation

__all__ = ["MailSendSession", "EXPOSED_ADDRESS_LIMIT"]

#: More addresses than this in To and Cc of one email draws a warning: every recipient sees them all.
EXPOSED_ADDRESS_LIMIT = 10

_OVERRIDES = {
    "to": "mail.to_address",
    "from_": "mail.from_address",
    "cc": "mail.cc_address",
    "bcc": "mail.bcc_address",
    "reply_to": "mail.reply_to_address",
    "subject": "mail.subject",
    "file_name": "mail.file_name",
}
_LABELS = {"to": "To", "from_": "From", "cc": "Cc", "bcc": "Bcc", "reply_to": "Reply-To"}


class _DocumentFailed(Exception):
    """This document cannot be sent; the message says why (no other document's data)."""


@dataclass
class _Email:
    key: str  # the journal key: shape/n, plus /recipient with one_email_per_recipient
    label: str  # shape/n, for logs (which name no recipient)
    to: list[MailAddress]
    envelope: list[str]


@dataclass
class _Outcome:
    message_ids: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    delivered: int = 0
    recipients: int = 0


class MailSendSession(OperationSession):
    """Sends documents as emails over a pooled SMTP connection for one execution."""

    side_effects = True

    def __init__(
        self,
        connection: MailConnection,
        operation: MailOperation,
        context: RunContext,
        pools: PoolRegistry,
    ) -> None:
        self.connection = connection
        self.operation = operation
        self.context = context
        self._pools = pools
        self._pool: SmtpPool | None = None
        self._lock = threading.Lock()
        self._counters: dict[str, int] = {}
        self.template = MessageTemplate(
            disposition=operation.disposition,
            attachment_type=parse_content_type(operation.attachment_content_type),
            body_type=parse_content_type(operation.body_content_type),
        )

    def __repr__(self) -> str:
        return f"MailSendSession({self.connection.endpoint})"

    # -- engine interface ----------------------------------------------------------------------
    def execute(self, documents: Iterable[Document], shape_id: str) -> Iterator[Document | Failed]:
        for document in documents:
            yield self._send_document(document, shape_id, self._next_index(shape_id))

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            self._pools.release(pool)

    # -- helpers -------------------------------------------------------------------------------
    def _next_index(self, shape_id: str) -> int:
        with self._lock:
            index = self._counters.get(shape_id, 0)
            self._counters[shape_id] = index + 1
            return index

    def _pool_for_send(self) -> SmtpPool:
        with self._lock:
            if self._pool is None:
                self._pool = self._pools.acquire(self.connection)
                warning = insecure_warning(self.connection)
                if warning:
                    self.context.log.warning(warning)
            return self._pool

    def _field(self, document: Document, name: str) -> str:
        value = document.properties.get(_OVERRIDES[name])
        if value is not None and value.strip():
            return value
        return getattr(self.operation, name)

    def _addresses(self, document: Document, name: str) -> list[MailAddress]:
        try:
            return parse_addresses(self._field(document, name))
        except AddressError as exc:
            raise _DocumentFailed(f"the {_LABELS[name]} address is not valid: {exc}") from None

    # -- one document --------------------------------------------------------------------------
    def _send_document(self, document: Document, shape_id: str, index: int) -> Document | Failed:
        try:
            senders = self._addresses(document, "from_")
            if not senders:
                return Failed(document, "From address is missing")
            if len(senders) > 1:
                return Failed(document, f"the From address must be one address, not {len(senders)}")
            to = self._addresses(document, "to")
            if not to:
                return Failed(document, "To address is missing")
            cc = self._addresses(document, "cc")
            bcc = self._addresses(document, "bcc")
            reply_to = self._addresses(document, "reply_to")
        except _DocumentFailed as exc:
            return Failed(document, str(exc))
        sender = senders[0]
        letter = Letter(
            sender=sender,
            to=to,
            cc=cc,
            reply_to=reply_to,
            subject=self._field(document, "subject"),
            message_id="",
            data=document.data,
            body=document.properties.get("mail.body", ""),
            file_name=self._field(document, "file_name") or default_file_name(self.template.attachment_type, index),
        )
        extra = [a.addr for a in (*cc, *bcc)]
        base = f"{shape_id}/{index}"
        if self.operation.one_email_per_recipient:
            emails = [
                _Email(f"{base}/{r.addr}", base, [r], list(dict.fromkeys([r.addr, *extra])))
                for r in _unique(to)
            ]
        else:
            emails = [_Email(base, base, to, list(dict.fromkeys([*(a.addr for a in to), *extra])))]
        exposed = len(emails[0].to) + len(cc)
        if exposed > EXPOSED_ADDRESS_LIMIT:
            self.context.log.warning(
                "document %d: one email shows %d addresses in To and Cc, so every recipient will see the "
                "others' addresses; set one_email_per_recipient: true or use bcc to keep them private",
                index, exposed,
            )
        outcome = _Outcome()
        for email in emails:
            letter.to = email.to
            failure = self._send_email(document, shape_id, email, letter, sender, outcome)
            if failure is not None:
                return Failed(document, failure)
        return self._result(document, index, outcome)

    def _send_email(
        self, document: Document, shape_id: str, email: _Email, letter: Letter, sender: MailAddress, outcome: _Outcome
    ) -> str | None:
        """Send (or record, or skip) one email; a returned string fails the document."""
        default_id = message_id_for(self.context.execution_id, email.key, sender.domain)
        smtputf8 = letter.smtputf8 or any(not addr.isascii() for addr in email.envelope)
        outcome.recipients += len(email.envelope)
        if self.context.dry_run:
            letter.message_id = default_id
            try:
                payload = self.template.build(letter)
            except BodyError as exc:
                return str(exc)
            self.context.record_dry_run(shape_id, document, "mail.send", payload)
            outcome.message_ids.append(default_id)
            outcome.replies.append("dry run: not sent")
            outcome.delivered += len(email.envelope)
            return None
        journal = self.context.journal()
        entry = journal.begin(email.key, default_id)
        letter.message_id = entry.message_id
        if entry.status == "sent":
            self.context.log.info("%s: %s was sent by an earlier attempt; skipped", email.label, entry.message_id)
            outcome.message_ids.append(entry.message_id)
            outcome.replies.append(getattr(entry, "reply", "") or "already sent")
            outcome.delivered += len(email.envelope)
            return None
        if entry.status != "pending":
            self.context.log.info("%s: sending %s again (an earlier attempt ended %s)",
                                  email.label, entry.message_id, entry.status)
        try:
            message = self.template.build(letter)
            delivery: Delivery = self._pool_for_send().send(
                sender.addr, email.envelope, message, smtputf8=smtputf8, logger=self.context.log
            )
        except (BodyError, DocumentError) as exc:
            journal.finish(email.key, "failed", str(exc))
            return str(exc)  # the same for every email of this document: no point going on
        except Exception as exc:
            journal.finish(email.key, "failed", str(exc))
            raise
        summary = delivery.reply
        if delivery.refused:
            summary += ("; " if summary else "") + "refused: " + _refused_text(delivery.refused)
        journal.finish(email.key, "sent" if delivery.accepted else "failed", summary)
        outcome.refused.update(delivery.refused)
        outcome.delivered += len(delivery.accepted)
        if delivery.accepted:
            outcome.message_ids.append(entry.message_id)
            outcome.replies.extend(delivery.replies)
        return None

    def _result(self, document: Document, index: int, outcome: _Outcome) -> Document | Failed:
        if not outcome.delivered:
            # Retrying may help only when every refusal was temporary (4xx after the retries).
            temporary = all(reply.startswith("4") for reply in outcome.refused.values())
            return Failed(
                document, "the server refused every recipient: " + _refused_text(outcome.refused), retryable=temporary
            )
        result = document.copy()
        result.properties["mail.message_id"] = " ".join(outcome.message_ids)
        result.properties["mail.smtp_response"] = "; ".join(outcome.replies)
        if outcome.refused:
            result.properties["mail.refused_recipients"] = _refused_text(outcome.refused)
            self.context.log.warning(
                "document %d: the server refused %d of %d recipients; the others got the email "
                "(see mail.refused_recipients)",
                index, len(outcome.refused), outcome.recipients,
            )
        return result


def _unique(addresses: list[MailAddress]) -> list[MailAddress]:
    """The addresses without repeats (first one wins; domains compare case-blind)."""
    seen: dict[str, MailAddress] = {}
    for address in addresses:
        local, _, domain = address.addr.rpartition("@")
        seen.setdefault(f"{local}@{domain.lower()}", address)
    return list(seen.values())


def _refused_text(refused: dict[str, str]) -> str:
    return "; ".join(f"{addr}: {reply}" for addr, reply in refused.items())

