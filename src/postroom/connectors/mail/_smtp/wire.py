"""SMTP on the wire, without a socket of its own: replies, address quoting, the command
group of a transaction, dot-stuffing.

Every function here produces or reads exactly the bytes smtplib would (the tests in
tests/mail/test_mail_smtp_wire.py compare them with smtplib's, no server needed); they
exist because smtplib's general code costs more per email than the rest of a bulk send.

A reply line is refused over ``MAXLINE`` (smtplib's own limit, see :mod:`.client`), exactly
when smtplib would refuse it. Reading a reply goes through the client's ``file`` attribute.
"""

from __future__ import annotations

import re
import smtplib
import socket
from collections.abc import Callable, Iterable
from functools import lru_cache

from .client import MAXLINE

__all__ = ["commands", "dot_stuffed", "getreply", "local_hostname", "quoteaddr", "send_message"]

_LEADING_DOT = re.compile(rb"(?m)^\.")


# An address smtplib's quoteaddr (email.utils.parseaddr) gives back as it is, in <>.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\Z")


@lru_cache(maxsize=1024)
def quoteaddr(address: str) -> str:
    """What smtplib's ``mail()`` and ``rcpt()`` write for an address (``quoteaddr``), without
    parsing a plain one (a bulk send has a new one per email)."""
    if _PLAIN_ADDRESS.match(address):
        return f"<{address}>"
    return smtplib.quoteaddr(address)


def getreply(smtp: smtplib.SMTP) -> tuple[int, bytes]:
    """smtplib's ``getreply``, with a short way for the usual one-line reply.

    A pipelined email reads four replies; smtplib's general loop costs more than the
    rest of their handling. Same results and errors: a multi-line, overlong or odd
    reply goes the general way from its first line on.
    """
    file = smtp.file
    if file is None or smtp.debuglevel:
        return smtp.getreply()
    try:
        line = file.readline(MAXLINE + 1)
    except OSError as exc:
        smtp.close()
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed: " + str(exc)) from None
    if not line:
        smtp.close()
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
    if line[3:4] == b" " and line[:3].isdigit() and len(line) <= MAXLINE:
        return int(line[:3]), line[4:].strip(b" \t\r\n")
    return rest_of_reply(smtp, line)


def rest_of_reply(smtp: smtplib.SMTP, line: bytes) -> tuple[int, bytes]:
    """smtplib's reply loop (``SMTP.getreply``) from an already read first line."""
    resp = []
    while True:
        if len(line) > MAXLINE:
            smtp.close()
            raise smtplib.SMTPResponseException(500, "Line too long.")
        resp.append(line[4:].strip(b" \t\r\n"))
        try:
            code = int(line[:3])
        except ValueError:
            code = -1
            break
        if line[3:4] != b"-":
            break
        try:
            line = smtp.file.readline(MAXLINE + 1)  # type: ignore[union-attr]
        except OSError as exc:
            smtp.close()
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed: " + str(exc)) from None
        if not line:
            smtp.close()
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
    return code, b"\n".join(resp)


@lru_cache(maxsize=1)
def local_hostname() -> str:
    """The EHLO name, looked up once: socket.getfqdn() may wait on DNS each time."""
    return socket.getfqdn() or "localhost"


def commands(sender: str, recipients: Iterable[str], options: list[str], smtputf8: bool,
             rcpt_options: Callable[[str], list[str]] | None = None) -> bytes:
    """MAIL FROM, RCPT TO each recipient and DATA, as smtplib writes them one by one;
    ``rcpt_options(recipient)``: each RCPT's parameters (DSN's NOTIFY and ORCPT)."""
    tail = " " + " ".join(options) if options else ""
    lines = [f"mail FROM:{quoteaddr(sender)}{tail}\r\n"]
    for rcpt in recipients:
        extra = rcpt_options(rcpt) if rcpt_options is not None else []
        lines.append(f"rcpt TO:{quoteaddr(rcpt)}{' ' + ' '.join(extra) if extra else ''}\r\n")
    lines.append("data\r\n")
    group = "".join(lines)
    if group.count("\n") != len(lines) or group.count("\r") != len(lines):
        raise ValueError("an address holds a line break")  # smtplib's putcmd refuses these too
    return group.encode("utf-8" if smtputf8 else "ascii")


def dot_stuffed(message: bytes, then: bytes = b"") -> list[bytes]:
    """The writes that carry ``message`` after a 354: dot-stuffed (RFC 5321 4.5.2), ended with
    CRLF and the final dot, then ``then`` (the next email's commands). One write when small;
    a big message is not copied just to append a few bytes."""
    body = _LEADING_DOT.sub(b"..", message) if message[:1] == b"." or b"\n." in message else message
    if body[-2:] != b"\r\n":
        body += b"\r\n"
    if len(body) < 65536:
        return [body + b".\r\n" + then]
    return [body, b".\r\n" + then]


def send_message(smtp: smtplib.SMTP, message: bytes, then: bytes = b"") -> None:
    """Write the message, its final dot and ``then`` (see :func:`dot_stuffed`)."""
    for chunk in dot_stuffed(message, then):
        smtp.send(chunk)
