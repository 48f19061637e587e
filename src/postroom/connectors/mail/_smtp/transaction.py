"""One MAIL/RCPT/DATA transaction and what its replies mean.

:class:`Replies` is the one classifier of a transaction's replies, used alike by the
one-by-one path (a reply awaited after each command), the pipelined path (RFC 2920: MAIL,
every RCPT and DATA in one write, their replies read in order) and the chain of
:class:`postroom.connectors.mail._smtp.chain.Chain`: a 250 or 251 accepts a
recipient, a 4xx defers it (retried), anything else refuses it for good; 421 (or a reply
that is not one) means the session dropped.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field

from ....errors import DocumentError
from .._errors import reply_text
from .dsn import DsnRequest
from .session import Session
from .wire import getreply, send_message

__all__ = ["Delivery", "Dropped", "GroupReplies", "HookFailed", "Outgoing", "Replies", "Stale", "after_group",
           "call_hook", "check_dropped", "dsn_offered", "end_empty_message", "group_replies", "mail_options", "one_by_one",
           "rcpt_options"]


class Dropped(Exception):
    """The session is gone (closed, 421, timeout): reconnect and retry."""


class Stale(Dropped):
    """A reused session turned out dead on its first reply: nothing was sent; reconnect now."""


class HookFailed(Exception):
    """The caller's ``journal_sync`` raised (its exception is the cause): not an SMTP matter.

    ``jobs``: the emails in flight when it happened (a chain reports them as failed)."""

    def __init__(self, jobs: list[Outgoing] | None = None) -> None:
        super().__init__()
        self.jobs: list[Outgoing] = jobs or []


def call_hook(hook: Callable[[], None] | None) -> None:
    if hook is not None:
        try:
            hook()
        except Exception as exc:
            raise HookFailed from exc


@dataclass
class Delivery:
    """The server's answer for one email, per recipient.

    ``accepted``: recipients the server took the message for. ``refused``: recipient ->
    reply, for recipients refused for good (5xx) or still deferred (4xx) when retries ran
    out. ``replies``: the final DATA replies, one per transaction that delivered.
    """

    accepted: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    replies: list[str] = field(default_factory=list)
    attempts: int = 0

    @property
    def reply(self) -> str:
        return "; ".join(self.replies)


@dataclass
class Outgoing:
    """One email for :class:`.chain.Chain`: in, what to send; out, what came of it."""

    sender: str
    recipients: list[str]
    message: bytes
    smtputf8: bool = False
    tag: object = None  # the caller's
    dsn: DsnRequest | None = None  # RFC 3461 parameters, sent when the server offers DSN
    delivery: Delivery | None = None
    error: BaseException | None = None


def is_temporary(code: int) -> bool:
    return 400 <= code < 500


class Replies:
    """Sorts the replies of one transaction into ``delivery`` (the one classifier).

    ``deferred`` collects the recipients to try again (4xx) with the reply, ``accepted``
    those the server took so far (their fate is decided by the reply to the message).
    """

    __slots__ = ("accepted", "deferred", "delivery", "recipients")

    def __init__(self, recipients: list[str], delivery: Delivery) -> None:
        self.recipients = recipients
        self.delivery = delivery
        self.accepted: list[str] = []
        self.deferred: dict[str, str] = {}

    def mail(self, code: int, reply: bytes | str) -> bool:
        """The reply to MAIL FROM: True when the sender was accepted; else every recipient
        is deferred (4xx) or refused (5xx) with it."""
        if code == 250:
            return True
        text = f"{code} {reply_text(reply)}"
        if is_temporary(code):
            self.deferred = dict.fromkeys(self.recipients, text)
        else:
            self.delivery.refused.update(dict.fromkeys(self.recipients, f"sender refused: {text}"))
        return False

    def rcpt(self, rcpt: str, code: int, reply: bytes | str) -> None:
        if code in (250, 251):
            self.accepted.append(rcpt)
            return
        text = f"{code} {reply_text(reply)}"
        if is_temporary(code):
            self.deferred[rcpt] = text
        else:
            self.delivery.refused[rcpt] = text

    def data(self, code: int, reply: bytes | str) -> None:
        """The reply to the message (or to DATA when that was refused): decides the accepted."""
        text = f"{code} {reply_text(reply)}"
        if code == 250:
            self.delivery.accepted.extend(self.accepted)
            self.delivery.replies.append(text)
        elif is_temporary(code):
            self.deferred.update(dict.fromkeys(self.accepted, text))
        else:
            self.delivery.refused.update(dict.fromkeys(self.accepted, text))


def check_dropped(code: int, reply: bytes | str, session: Session | None = None) -> None:
    """Raise :class:`Dropped` (:class:`Stale` on a reused session's first reply) for 421 or a
    reply that is not one; else the session has proved alive."""
    if code == 421 or code == -1:
        if session is not None and session.unverified:
            raise Stale(f"{code} {reply_text(reply)}")
        raise Dropped(f"{code} {reply_text(reply)}")
    if session is not None:
        session.unverified = False


def dsn_offered(session: Session, dsn: DsnRequest | None) -> DsnRequest | None:
    """``dsn`` when the server offers DSN (RFC 3461), else None: the parameters would be refused."""
    return dsn if dsn is not None and session.has("dsn") else None


def rcpt_options(session: Session, dsn: DsnRequest | None) -> Callable[[str], list[str]] | None:
    """Each RCPT's parameters (NOTIFY, ORCPT) when DSN is asked for and offered."""
    offered = dsn_offered(session, dsn)
    return offered.rcpt_options if offered is not None else None


def mail_options(session: Session, endpoint: str, size: int, smtputf8: bool,
                 dsn: DsnRequest | None = None) -> list[str]:
    """MAIL FROM's options for a message of ``size`` bytes (with RET and ENVID when ``dsn`` is
    asked for and the server offers DSN); :class:`DocumentError` when the server can never
    take it (too large, or it needs SMTPUTF8 the server lacks)."""
    options: list[str] = []
    if smtputf8:
        if not session.has("smtputf8"):
            raise DocumentError(
                f"the server at {endpoint} does not offer SMTPUTF8, which an address with a non-ASCII local part needs"
            )
        options.append("SMTPUTF8")
        if session.has("8bitmime"):
            options.append("BODY=8BITMIME")
    limit = session.size_limit
    if limit and size > limit:
        raise DocumentError(
            f"the message is {size} bytes, over the {limit} bytes the server at {endpoint} accepts (SIZE); "
            "nothing was sent: make it smaller (fewer or smaller attachments or inline images) or send it "
            "through a server that takes larger messages"
        )
    if session.has("size"):
        options.append(f"SIZE={size}")
    offered = dsn_offered(session, dsn)
    if offered is not None:
        options.extend(offered.mail_options())
    return options


def one_by_one(
    session: Session,
    sender: str,
    recipients: list[str],
    message: bytes,
    options: list[str],
    delivery: Delivery,
    journal_sync: Callable[[], None] | None,
    per_rcpt: Callable[[str], list[str]] | None = None,
) -> dict[str, str]:
    """The transaction with a reply awaited after each command (no PIPELINING); returns
    the recipients deferred (4xx) with the reply. ``per_rcpt``: each RCPT's parameters."""
    smtp = session.smtp
    replies = Replies(recipients, delivery)
    code: int
    reply: bytes | str
    session.dirty = True
    code, reply = smtp.mail(sender, options)
    check_dropped(code, reply, session)
    if not replies.mail(code, reply):
        return replies.deferred
    for rcpt in recipients:
        code, reply = smtp.rcpt(rcpt, per_rcpt(rcpt) if per_rcpt is not None else [])
        check_dropped(code, reply, session)
        replies.rcpt(rcpt, code, reply)
    if not replies.accepted:
        return replies.deferred
    call_hook(journal_sync)
    try:
        code, reply = smtp.data(message)
        session.dirty = False
    except smtplib.SMTPDataError as exc:  # DATA itself refused (no 354)
        code, reply = exc.smtp_code, exc.smtp_error
    check_dropped(code, reply, session)
    replies.data(code, reply)
    return replies.deferred


@dataclass
class GroupReplies:
    """The replies to a pipelined group: MAIL, each RCPT, DATA."""

    mail: tuple[int, bytes]
    rcpts: list[tuple[int, bytes]]
    data: tuple[int, bytes]

    @property
    def smooth(self) -> bool:
        """Sender and every recipient accepted, DATA ready: the chain may go on."""
        return self.mail[0] == 250 and self.data[0] == 354 and all(code in (250, 251) for code, _ in self.rcpts)


def group_replies(session: Session, recipients: list[str]) -> GroupReplies:
    """Read every reply of a group, in order, whatever the earlier ones said (the session
    would fall out of step otherwise)."""
    smtp = session.smtp
    mail = getreply(smtp)
    check_dropped(*mail, session)  # the session answered: no longer stale
    rcpts = []
    for _ in recipients:
        reply = getreply(smtp)
        check_dropped(*reply, session)
        rcpts.append(reply)
    data = getreply(smtp)
    check_dropped(*data, session)
    return GroupReplies(mail, rcpts, data)


def after_group(
    session: Session,
    recipients: list[str],
    message: bytes,
    group: GroupReplies,
    delivery: Delivery,
    journal_sync: Callable[[], None] | None,
) -> dict[str, str]:
    """The rest of a pipelined transaction once the group's replies are in. When DATA got
    354 although no recipient was accepted, a lone dot ends the empty message (RFC 2920 3.1)."""
    replies = Replies(recipients, delivery)
    data_code, data_reply = group.data
    if group.mail[0] != 250:
        if data_code == 354:
            end_empty_message(session)
        replies.mail(*group.mail)
        return replies.deferred
    for rcpt, (code, reply) in zip(recipients, group.rcpts, strict=True):
        replies.rcpt(rcpt, code, reply)
    if not replies.accepted:
        if data_code == 354:
            end_empty_message(session)
        return replies.deferred
    if data_code != 354:  # DATA itself refused
        replies.data(data_code, data_reply)
        return replies.deferred
    call_hook(journal_sync)
    send_message(session.smtp, message)
    code, reply = getreply(session.smtp)
    session.dirty = False
    check_dropped(code, reply, session)
    replies.data(code, reply)
    return replies.deferred


def end_empty_message(session: Session) -> None:
    """A 354 with nothing to send: a lone dot ends the message; its reply is not an outcome."""
    session.smtp.send(b".\r\n")
    code, reply = getreply(session.smtp)
    check_dropped(code, reply, session)
