"""The Send operation: each document becomes one email (or one per To address); documents
of one batch with the same ``mail.group`` become one email with each attached (``_groups.py``).

For every document the operation's fields are overridden by the document properties
``mail.to_address``, ``mail.from_address``, ``mail.cc_address``, ``mail.bcc_address``,
``mail.reply_to_address``, ``mail.subject``, ``mail.file_name``, ``mail.body`` and
``mail.text_body`` (the text twin of an HTML body) when
they are set for the send (:meth:`Document.outbound`: by Set Properties or a script in
this process, not merely recorded by a mail Get) and not blank.

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

Journal (DESIGN.md principle 9): ``key = f"{shape_id}/{digest}.{k}"``, keyed by content,
not position: ``digest`` (BLAKE2b) covers what makes the email (the values the send reads
for From, To, Cc, Bcc, Reply-To, Subject, the file name and body, and the document's data;
the operation is the same for the whole execution) and ``k`` counts identical emails in the
execution (two identical letters to one person are both sent, and a resume recognises
both); plus ``f"/{recipient}"`` with ``one_email_per_recipient``. So a resume after rows were
added to the source sends the new ones and skips exactly those already sent. Before a batch goes out, every email of it is begun in one
write (``begin_many``: status ``pending`` under its Message-ID). An entry already ``sent``
(a resumed execution) is skipped; any other is sent again under its recorded Message-ID.
Each outcome is recorded with ``finish(key, "sent" | "failed", reply)``; those records are
queued and written in groups (``finish_many``, one transaction each): before the final dot
of its next email, a sending thread writes what is queued (or waits for the thread that is
writing), so the outcome of its previous email is on record before another can be accepted.
So a crash can leave at most one accepted-but-unrecorded email per session (as sending one
by one would), and such a repeat carries the same Message-ID.

Once per inbound message (issue 12): a document a mail Get read is keyed ``SHAPE/msg:ID#N`` in
the process's journal scope instead (:mod:`postroom.sdk._once`), so a re-read skips what was sent.

Speed (DESIGN.md "Where the anchors fall short"): a batch is sent over up to
``max_sessions`` pooled sessions at once, each taking the next document in order, when that
proves faster than one session (the first big batch tries both); each session's emails go out
chained, one round trip an email when the server offers PIPELINING (``_smtp/chain.py``), and
then the sessions take turns in this one thread (ADR 0020); without PIPELINING each session
has a thread of its own. The results still come back one per document, in
document order; the emails of one batch may reach the server in any order. See
``bench/send.py``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, cast

from ...errors import DocumentError, Interrupted
from ...sdk import Document, Failed, OnceKeys, OperationSession, RunContext
from ._dkim import aligned
from ._dsn import dsn_request, notify_of
from ._errors import redact, secrets_of
from ._groups import groups_of, member_result
from ._headers import HeaderError
from ._parts import FileParts, PartError, add_files
from ._reply_headers import letter_headers
from ._send_feed import Feed as _Feed
from ._send_feed import threaded as _threaded
from ._send_fields import OVERRIDES as _OVERRIDES
from ._send_fields import (
    FieldError,
    content_id_of,
    data_type_of,
    field_value,
    fields_of,
    group_key,
    journal_key,
)
from ._send_fields import once_group_key as _once_group_key
from ._send_fields import refused_text as _refused_text
from ._send_journal import JournalWriter, Sender, SendJournal
from ._send_plan import Email as _Email
from ._send_plan import Outcome as _Outcome
from ._send_plan import Plan as _Plan
from ._send_plan import lay_out_emails
from ._smtp import Chain, Delivery, Outgoing, PoolRegistry, SmtpPool, interleave
from ._tls import insecure_warning
from .mime import (
    AddressError,
    BodyError,
    ContentType,
    Letter,
    MailAddress,
    MessageTemplate,
    Part,
    default_file_name,
    message_id_for,
    parse_addresses,
    parse_content_type,
)
from .spec import MailConnection, MailOperation

__all__ = ["MailSendSession", "EXPOSED_ADDRESS_LIMIT", "journal_key"]

#: More addresses than this in To and Cc of one email draws a warning: every recipient sees them all.
EXPOSED_ADDRESS_LIMIT = 10

_LABELS = {"to": "To", "from_": "From", "cc": "Cc", "bcc": "Bcc", "reply_to": "Reply-To"}


class _DocumentFailed(Exception):
    """This document cannot be sent; the message says why (no other document's data)."""


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
        self._occurrences: dict[str, int] = {}
        #: The operation's own From, To, Cc, Bcc and Reply-To, parsed (see _addresses).
        self._own_addresses: dict[str, tuple[MailAddress, ...]] = {}
        self._once = OnceKeys()  # documents a mail Get read: keyed by their inbound message
        self._secrets = secrets_of(connection)  # journal keys handed out (identical emails counted)
        #: Whether parallel sessions send faster than one, once measured (see _send_batch).
        self._parallel: bool | None = None
        self.template = MessageTemplate(
            disposition=operation.disposition,
            attachment_type=parse_content_type(operation.attachment_content_type),
            body_type=parse_content_type(operation.body_content_type),
        )
        self._files = FileParts(operation.inline_images, operation.attachments)
        #: DKIM (issue 12): signs the final bytes of each email (a retry sends the same bytes)
        self._signer = connection.dkim_signer()
        self._unaligned: set[str] = set()
        self._dsn_noted = False

    def __repr__(self) -> str:
        return f"MailSendSession({self.connection.endpoint})"

    # -- engine interface ----------------------------------------------------------------------
    def execute(self, documents: Iterable[Document], shape_id: str) -> Iterator[Document | Failed]:
        """Send a batch; yield per document, in order, its result or a Failed.

        An error no later document could escape (server unreachable, login refused) is
        raised at its document, after the results of the documents before it.
        """
        documents = list(documents)
        plans = self._plans(documents, shape_id)
        if self.context.dry_run:
            for plan, document in zip(plans, documents, strict=True):
                if isinstance(plan, _Plan) and plan.result is None:
                    plan.result = self._dry_run(plan, shape_id)
                yield member_result(plan if isinstance(plan, Failed) else cast("Document | Failed", plan.result),
                                    document)
            return
        work = list({id(plan): plan for plan in plans if isinstance(plan, _Plan)}.values())
        if work and not self._stopping():
            self._send_batch(work)
        for plan, document in zip(plans, documents, strict=True):
            if isinstance(plan, Failed):
                yield member_result(plan, document)
                continue
            if plan.error is not None:
                raise plan.error
            if plan.result is None:  # a stop request: this document and the later ones were not sent
                raise Interrupted("stopped before every document was sent",
                                  fix="postroom executions resume continues the execution")
            if plan.once and isinstance(plan.result, Failed) and document is plan.document:
                self._once.failed(plan.once, document)  # a retry of it takes its key
            yield member_result(plan.result, document)

    def _plans(self, documents: list[Document], shape_id: str) -> list[_Plan | Failed]:
        """One plan a document: its email's (documents grouped by mail.group share one)."""
        indices = [self._next_index(shape_id) for _ in documents]
        plans: dict[int, _Plan | Failed] = {}
        for group in groups_of(documents):
            members = [documents[position] for position in group]
            if len(members) > 1 and self.template.disposition != "attachment":
                plan: _Plan | Failed = Failed(members[0], "mail.group puts several documents in one email as "
                                              "attachments: set the operation's disposition to attachment, or do "
                                              "not set mail.group")
            else:
                plan = self._plan(members[0], shape_id, indices[group[0]], members[1:],
                                  [indices[position] for position in group[1:]])
            plans.update(dict.fromkeys(group, plan))
        return [plans[position] for position in range(len(documents))]

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            self._pools.release(pool)

    # -- helpers -------------------------------------------------------------------------------
    def _stopping(self) -> bool:
        """Was the execution asked to stop (Ctrl-C, SIGTERM)? Then no new document is taken."""
        return self.context.stop_requested()

    def _next_index(self, shape_id: str) -> int:
        with self._lock:
            index = self._counters.get(shape_id, 0)
            self._counters[shape_id] = index + 1
            return index

    def _pool_for_send(self) -> SmtpPool:
        with self._lock:
            if self._pool is None:
                self._pool = self._pools.acquire(self.connection, self.context.shared_rate_limit)
                warning = insecure_warning(self.connection)
                if warning:
                    self.context.log.warning(warning)
            return self._pool

    def _field(self, document: Document, name: str) -> str:
        return field_value(self.operation, document, name)

    def _addresses(self, document: Document, name: str, fields: dict[str, str]) -> list[MailAddress]:
        """The addresses of field ``name`` (``fields``: :func:`fields_of` the document); the
        operation's own value is parsed once per session (it is the same for every document)."""
        text = fields[name]
        own = text is getattr(self.operation, name)
        if own and name in self._own_addresses:
            return list(self._own_addresses[name])
        try:
            parsed = parse_addresses(text)
        except AddressError as exc:
            value = document.outbound(_OVERRIDES[name])
            source = (f"document property {_OVERRIDES[name]}" if value is not None and value.strip()
                      else f"operation field {name.rstrip('_')}")
            raise _DocumentFailed(f"the {_LABELS[name]} address is not valid ({source}): {exc}") from None
        if own:
            self._own_addresses[name] = tuple(parsed)
        return parsed

    # -- one document --------------------------------------------------------------------------
    def _plan(self, document: Document, shape_id: str, index: int, members: Sequence[Document] = (),
              member_indices: Sequence[int] = ()) -> _Plan | Failed:
        """Check a document's addresses and lay out its emails (nothing is sent here); ``members``:
        the other documents of its mail.group, attached after it."""
        try:
            fields = fields_of(self.operation, document)
            senders = self._addresses(document, "from_", fields)
            if not senders:
                return Failed(document, "From address is missing")
            if len(senders) > 1:
                return Failed(document, f"the From address must be one address, not {len(senders)}")
            to = self._addresses(document, "to", fields)
            if not to:
                return Failed(document, "To address is missing")
            cc = self._addresses(document, "cc", fields)
            bcc = self._addresses(document, "bcc", fields)
            reply_to = self._addresses(document, "reply_to", fields)
            headers = letter_headers(self.operation.headers, self.operation.list_unsubscribe,
                                     self.operation.thread_replies, document)
            data_type = data_type_of(document)
            notify = notify_of(self.operation.dsn_notify, document)
        except (_DocumentFailed, HeaderError, FieldError, ValueError) as exc:
            return Failed(document, str(exc))
        sender = senders[0]
        letter = Letter(
            sender=sender,
            to=to,
            cc=cc,
            reply_to=reply_to,
            subject=fields["subject"],
            message_id="",
            data=document.data,
            body=document.outbound("mail.body") or "",
            file_name=self._file_name(document, index, data_type, fields["file_name"]),
            headers=headers,
            text_body=document.outbound("mail.text_body") or self.operation.text_body,
            data_type=data_type,
        )
        try:
            parts = [self._member_part(member, number) for member, number in zip(members, member_indices, strict=True)]
            add_files(self._files, letter, self.template, parts)
        except (PartError, FieldError) as exc:
            return Failed(document, str(exc))
        extra = [a.addr for a in (*cc, *bcc)]
        firsts = [self._once.key(shape_id, d) for d in [document, *members]]  # by inbound message, or None
        once = _once_group_key(firsts)
        base, label = once or self._journal_key(shape_id, [document, *members], fields), f"{shape_id}/{index}"
        emails = lay_out_emails(base, label, to, extra, self.operation.one_email_per_recipient, bool(once))
        exposed = len(emails[0].to) + len(cc)
        if exposed > EXPOSED_ADDRESS_LIMIT:
            self.context.log.warning(
                "document %d: one email shows %d addresses in To and Cc, so every recipient will see the "
                "others' addresses; set one_email_per_recipient: true or use bcc to keep them private",
                index, exposed,
            )
        return _Plan(document, index, sender, letter, emails, notify, once=firsts[0])

    def _member_part(self, member: Document, index: int) -> Part:
        """A grouped document as an attachment (its name and type as the first one's would be), or
        as an inline image when it has mail.content_id."""
        try:
            data_type = data_type_of(member)
            return Part(self._file_name(member, index, data_type), data_type or self.template.attachment_type,
                        member.data, content_id_of(member))
        except FieldError as exc:
            raise FieldError(f"document {index} of the mail.group: {exc}") from None

    def _journal_key(self, shape_id: str, documents: list[Document], fields: dict[str, str]) -> str:
        """:func:`group_key` with the next count of identical emails in this execution."""
        name = group_key(shape_id, self.operation, documents, fields)
        with self._lock:
            occurrence = self._occurrences.get(name, 0)
            self._occurrences[name] = occurrence + 1
        return f"{name}.{occurrence}"

    def _file_name(self, document: Document, index: int, data_type: ContentType | None,
                   value: str | None = None) -> str:
        """The attachment's name (only an attachment has one: no clock read per inline letter);
        ``value``: the document's file_name field when read already."""
        if self.template.disposition != "attachment":
            return ""
        return (self._field(document, "file_name") if value is None else value) or default_file_name(data_type or self.template.attachment_type,
                                                                       index)

    def _default_id(self, plan: _Plan, email: _Email) -> str:
        return message_id_for(self.context.execution_id, email.key, plan.sender.domain)

    def _dry_run(self, plan: _Plan, shape_id: str) -> Document | Failed:
        for email in plan.emails:
            plan.letter.to = email.to
            plan.letter.message_id = self._default_id(plan, email)
            try:
                payload = self._sign(plan, self.template.build(plan.letter))
            except BodyError as exc:
                return Failed(plan.document, str(exc))
            self.context.record_dry_run(shape_id, plan.document, "mail.send", payload)
            plan.outcome.recipients += len(email.envelope)
            plan.outcome.message_ids.append(plan.letter.message_id)
            plan.outcome.replies.append("dry run: not sent")
            plan.outcome.delivered += len(email.envelope)
        return self._result(plan.document, plan.index, plan.outcome)

    # -- a batch ---------------------------------------------------------------------------------
    def _send_batch(self, plans: list[_Plan]) -> None:
        """Journal every email of the batch, then send the documents, over parallel sessions
        when that is faster (:meth:`_width`)."""
        journal = SendJournal(self.context, {email.key for plan in plans for email in plan.emails if email.once})
        items = [(email.key, self._default_id(plan, email)) for plan in plans for email in plan.emails]
        entries = journal.begin_many(items)
        for plan in plans:
            plan.entries = [entries[email.key] for email in plan.emails]
        pool = self._pool_for_send()
        writer = JournalWriter(journal)
        try:
            width, rest = self._width(plans, pool, writer)
            if not any(plan.error for plan in plans):
                self._senders(rest, width, pool, writer)
        finally:
            writer.close()
            if pool.dsn_offered is False and not self._dsn_noted:
                self._dsn_noted = True
                self.context.log.info("the server at %s does not offer DSN: the emails went without delivery "
                                      "notice requests (dsn_notify)", self.connection.endpoint)

    def _width(self, plans: list[_Plan], pool: SmtpPool, writer: JournalWriter) -> tuple[int, list[_Plan]]:
        """How many sessions send the batch, and the documents left for them.

        The first document goes alone when no session told yet whether the server pipelines.
        When it does, the sessions take turns in this thread (ADR 0020), which costs no more
        than one session: all of them are used. Else each session needs a thread, and those
        pay off only when the time goes into waiting for the server (a distant one, or one slow
        to accept); against a server that answers at once they contend for the interpreter.
        So the first batch big enough tries both on ``PROBE`` documents each and the execution
        keeps the faster way (ADR 0010).
        """
        width, rest = min(pool.max_sessions, len(plans)), plans
        if width > 1 and self._parallel is not False and pool.pipelines is None:
            self._senders(rest[:1], 1, pool, writer)
            writer.flush()  # its outcome on record before its session's next email
            rest = rest[1:]
            if plans[0].error is not None:  # the server cannot be reached: no trial
                return width, rest
        if width > 1 and self._parallel is None and pool.pipelines:
            self._parallel = True
            self.context.log.info("the server pipelines: %d sessions take turns", width)
        if width > 1 and self._parallel is None and len(rest) >= 3 * self.PROBE:
            one = self._timed(rest[: self.PROBE], 1, pool, writer)
            many = self._timed(rest[self.PROBE : 2 * self.PROBE], width, pool, writer)
            if one and many:  # both trials ran to the end
                self._parallel = many < 0.9 * one
                self.context.log.info(
                    "sending over %d sessions took %.0f us a document, over one %.0f us: %s",
                    width, many * 1e6, one * 1e6, f"using {width}" if self._parallel else "using one",
                )
            rest = rest[2 * self.PROBE :]
        return (1 if self._parallel is False else width), rest

    #: Documents in each trial of one session against parallel ones.
    PROBE = 50

    def _timed(self, plans: list[_Plan], width: int, pool: SmtpPool, writer: JournalWriter) -> float:
        """Seconds a document took sent by ``width`` threads (0.0 when one failed for good)."""
        started = time.perf_counter()
        self._senders(plans, width, pool, writer)
        writer.flush()  # the next trial starts with every outcome on record
        if any(plan.error for plan in plans):
            return 0.0
        return (time.perf_counter() - started) / len(plans)

    def _senders(self, plans: list[_Plan], width: int, pool: SmtpPool, writer: JournalWriter) -> None:
        """Send ``plans`` in order over ``width`` sessions, each taking the next document; a
        fatal error stops them all after the emails in flight.

        When the server pipelines (as its sessions so far said), the sessions take turns in this
        one thread (:func:`._smtp.chain.interleave`): while the server works on one session's
        email, this thread builds, journals and writes another's, and one journal write often
        records the outcomes of several. Else each session has a thread of its own, since a
        transaction then waits for a reply after every command."""
        queue = iter(plans)
        stop: list[BaseException] = []  # the first failure: no new documents
        halt = threading.Event()  # no new documents either (the first thread is done or interrupted)
        interleaved = width > 1 and pool.pipelines is True

        def take() -> _Plan | None:
            if stop or halt.is_set() or self._stopping():  # a stop request: the emails in flight finish
                return None
            return next(queue, None)

        def chain() -> Chain:
            sender = Sender(writer)
            feed = _Feed(self, take, sender)
            return Chain(pool, feed.next_job, feed.done, self.context.log, sender.sync, cooperative=interleaved)

        chains = [chain() for _ in range(min(width, len(plans)))]
        if interleaved:
            interleave(chains, lambda _chain, exc: stop.append(exc), pool.sleep)
        else:
            _threaded(chains, pool, stop, halt)
        if stop:  # a document cut short without its own error shares the first one
            for plan in plans:
                if plan.result is None and plan.error is None:
                    plan.error = stop[0]

    # -- one thread's emails -----------------------------------------------------------------------
    def prepare_email(self, plan: _Plan, email: _Email, entry: Any, sender: Sender) -> Outgoing | None:
        """The email ready to go, or None when it is skipped (sent before) or cannot be built."""
        letter, outcome = plan.letter, plan.outcome
        letter.to = email.to
        smtputf8 = letter.smtputf8 or any(not addr.isascii() for addr in email.envelope)
        outcome.recipients += len(email.envelope)
        letter.message_id = entry.message_id
        if entry.status == "sent":
            self.context.log.info("%s: %s was sent by an earlier %s; skipped", email.label, entry.message_id,
                                  "execution that read the same message" if email.once else "attempt")
            outcome.message_ids.append(entry.message_id)
            outcome.replies.append(entry.reply or "already sent")
            outcome.delivered += len(email.envelope)
            return None
        if entry.status != "pending":
            self.context.log.info("%s: sending %s again (an earlier attempt ended %s)",
                                  email.label, entry.message_id, entry.status)
        try:
            message = self._sign(plan, self.template.build(letter))
        except BodyError as exc:
            sender.finish(email.key, "failed", str(exc))
            plan.failure = str(exc)  # the same for every email of this document: no point going on
            return None
        return Outgoing(plan.sender.addr, email.envelope, message, smtputf8, tag=(plan, email, entry),
                        dsn=dsn_request(plan.notify, self.operation.dsn_ret, entry.message_id))

    def _sign(self, plan: _Plan, message: bytes) -> bytes:
        """``message`` DKIM-signed when the connection signs; a From domain outside the signing
        domain draws one warning per domain (Gmail and Yahoo want them aligned)."""
        signer = self._signer
        if signer is None:
            return message
        domain = (plan.sender.domain or "").lower()
        if not aligned(domain, signer.domain) and domain not in self._unaligned:
            self._unaligned.add(domain)
            self.context.log.warning(
                "the From domain %s is not within dkim_domain %s: receivers such as Gmail and Yahoo treat "
                "the signature as not aligned; sign with the From domain", domain, signer.domain)
        return signer.sign(message)

    def record_outcome(self, job: Outgoing, sender: Sender) -> None:
        """One email's outcome: its journal record, and its document's tally."""
        plan, email, entry = cast("tuple[_Plan, _Email, Any]", job.tag)
        plan.in_flight -= 1
        if job.error is not None:
            said = redact(str(job.error), self._secrets)
            sender.finish(email.key, "failed", said)
            if isinstance(job.error, DocumentError):
                plan.failure = plan.failure or said
            else:
                plan.error = plan.error or job.error
        else:
            delivery: Delivery = job.delivery  # type: ignore[assignment]
            if self._secrets:  # server replies: never a credential echoed back (see _errors.py)
                delivery.refused = {addr: redact(text, self._secrets) for addr, text in delivery.refused.items()}
                delivery.replies = [redact(text, self._secrets) for text in delivery.replies]
            summary = delivery.reply
            if delivery.refused:
                summary += ("; " if summary else "") + "refused: " + _refused_text(delivery.refused)
            sender.finish(email.key, "sent" if delivery.accepted else "failed", summary)
            outcome = plan.outcome
            outcome.refused.update(delivery.refused)
            outcome.delivered += len(delivery.accepted)
            if delivery.accepted:
                outcome.message_ids.append(entry.message_id)
                outcome.replies.extend(delivery.replies)
        self.settle(plan)

    def settle(self, plan: _Plan) -> None:
        """The document's result, once every email of it is handed out and reported."""
        if not plan.fed_all or plan.in_flight or plan.error is not None:
            return
        plan.result = Failed(plan.document, plan.failure) if plan.failure else self._result(
            plan.document, plan.index, plan.outcome)

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


