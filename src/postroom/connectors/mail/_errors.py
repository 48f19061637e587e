"""Errors of every mail protocol (SMTP, POP3, IMAP) in one place: which kind of failure a
socket, TLS or protocol error is (:func:`classify`, one table for all three), the one
:func:`redact` every server text passes through, and the secrets of a connection.

Each protocol words the kinds in its own terms (the setting names differ: ``use_ssl`` for
SMTP, ``inbound_use_ssl`` for a reading side of its own), but which kind an exception is
gets decided here, once.

Redaction
---------
One redaction for every text that comes from a mail server or a library error.

A server may echo what it was sent: a refusal such as ``535 5.7.8 bad credentials: AUTH
PLAIN AGNsaW5pYwBzM2NyZXQ=`` carries base64 of the user name and password, and an error
may quote the command line. :func:`redact` removes each credential from such a text in
every form it can be echoed in:

* in clear (the password, the token, the user name);
* inside any base64 stream, wherever it starts: AUTH PLAIN sends ``\\0user\\0password``
  in one blob, AUTH LOGIN each value alone, XOAUTH2 ``user=...\\x01auth=Bearer token``.
  A value's bytes land at one of three offsets of a 3-byte base64 group, and at each the
  characters that depend only on the value are the same whatever surrounds it; those
  characters (the standard and URL-safe alphabets, from the UTF-8 bytes as sent) are
  replaced, so the blob cannot be decoded back to the value.

Values shorter than :data:`MIN_SECRET` characters are left alone (they would blank
ordinary words).
"""

from __future__ import annotations

import base64
import smtplib
import socket
import ssl
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Literal

from ._tls import cert_names_wrong_host, client_certificate_refused, speaks_no_tls
from .spec import MailConnection

__all__ = ["MIN_SECRET", "Kind", "classify", "redact", "reply_text", "secrets_of"]

#: The kinds of failure a connection can meet, in the order :func:`classify` tries them.
Kind = Literal["certificate-host", "certificate-untrusted", "client-certificate", "not-tls", "tls", "unknown-host", "refused",
               "timeout", "closed", "unsupported", "other"]
Rule = Callable[[BaseException, str, bool, tuple[type[BaseException], ...]], bool]


def _timed_out(exc: BaseException) -> bool:
    if isinstance(exc, TimeoutError):
        return True
    return "timed out" in str(exc) and not isinstance(exc, smtplib.SMTPResponseException)


#: (kind, test of exception, phase, implicit TLS, the protocol's "closed" errors); first match wins.
RULES: tuple[tuple[Kind, Rule], ...] = (
    ("certificate-host", lambda e, p, i, c: isinstance(e, ssl.SSLCertVerificationError) and cert_names_wrong_host(e)),
    ("certificate-untrusted", lambda e, p, i, c: isinstance(e, ssl.SSLCertVerificationError)),
    ("client-certificate", lambda e, p, i, c: isinstance(e, ssl.SSLError) and client_certificate_refused(e)),
    ("not-tls", lambda e, p, i, c: isinstance(e, ssl.SSLError) and p == "connect" and i and speaks_no_tls(e)),
    ("tls", lambda e, p, i, c: isinstance(e, ssl.SSLError)),
    ("unknown-host", lambda e, p, i, c: isinstance(e, socket.gaierror)),
    ("refused", lambda e, p, i, c: isinstance(e, ConnectionRefusedError)),
    ("timeout", lambda e, p, i, c: _timed_out(e)),
    ("closed", lambda e, p, i, c: p == "connect" and isinstance(e, c)),
    ("unsupported", lambda e, p, i, c: isinstance(e, smtplib.SMTPNotSupportedError)),
)


def classify(exc: BaseException, phase: str, *, implicit_tls: bool,
             closed: tuple[type[BaseException], ...]) -> Kind:
    """Which kind of failure ``exc`` is, met in ``phase`` ("connect", "starttls", "login"...).

    ``implicit_tls``: TLS from the first byte was asked for. ``closed``: the protocol's
    errors for "the peer closed the connection" (smtplib's own; EOF and resets for POP3/IMAP).
    """
    for kind, rule in RULES:
        if rule(exc, phase, implicit_tls, closed):
            return kind
    return "other"


def secrets_of(connection: MailConnection) -> list[str]:
    """What must never show: the credentials, and the user name (a server may echo the
    AUTH line, whose base64 holds both)."""
    values = [connection.password, connection.access_token, connection.refresh_token, connection.client_secret,
              connection.client_certificate_key, connection.tls_client_key,
              connection.user_name if connection.user_password_auth or connection.uses_xoauth2 else ""]
    return [v for v in values if v]


def reply_text(reply: bytes | str) -> str:
    """A server reply on one line, whitespace collapsed."""
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return " ".join(reply.split())



#: Shorter values are not looked for (a 1- or 2-letter value matches ordinary text).
MIN_SECRET = 3
#: A base64 core shorter than this is not replaced (too likely to occur by chance).
_MIN_CORE = 4
MASK = "***"


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` without any of ``secrets``, in clear or base64 (see the module's doc)."""
    if not text:
        return text
    for form in _forms(tuple(sorted({s for s in secrets if s and len(s) >= MIN_SECRET}))):
        if form in text:
            text = text.replace(form, MASK)
    return text


@lru_cache(maxsize=64)
def _forms(secrets: tuple[str, ...]) -> tuple[str, ...]:
    """Every form of every secret, longest first (a longer form may contain a shorter one)."""
    forms: set[str] = set()
    for secret in secrets:
        forms.add(secret)
        raw = secret.encode("utf-8")
        forms.add(base64.b64encode(raw).decode("ascii"))
        forms.update(_cores(raw))
    return tuple(sorted(forms, key=len, reverse=True))


def _cores(raw: bytes) -> set[str]:
    """The base64 characters that depend on ``raw`` alone, for each of the three offsets."""
    cores: set[str] = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw).decode("ascii")
        start = -(-8 * offset // 6)  # the first character with no bit of the filler
        end = 8 * (offset + len(raw)) // 6  # past the last character made of raw's bits only
        core = encoded[start:end]
        if len(core) >= _MIN_CORE:
            cores.add(core)
            cores.add(core.replace("+", "-").replace("/", "_"))
    return cores
