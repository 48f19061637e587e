"""SMTP sessions over stdlib :mod:`smtplib`: TLS, login, a session pool, a rate limit.

Three transport modes, chosen by the connection:

* ``use_ssl``: implicit TLS from the first byte (SMTPS, Gmail's port 465). STARTTLS is
  then never sent, even with ``use_tls`` on: the session is already encrypted, and
  Gmail's story in CONTRACT.md sets both.
* ``use_tls`` only: a plain connect, then STARTTLS; a server that does not offer it is
  an error, never a silent fall back to clear text.
* neither: clear text; a password is refused unless ``allow_insecure_auth``.

Library errors are mapped here, at the boundary, into :mod:`postroom.errors` with advice
naming the setting to change (DESIGN.md principle 7). No message built here contains a
password or token: they never enter an f-string, and server texts pass through
:func:`~._errors.redact` before they do.

Sessions live in a :class:`SmtpPool` per connection (at most ``max_sessions``), reused
across documents. A session that just finished a transaction is reused as it is; one that
idled longer than :attr:`SmtpPool.FRESH_SECONDS` or was left mid-transaction gets an RSET
first, which doubles as the liveness check. A session the server dropped is replaced
transparently, also when the drop only shows on the first command of a reuse.

When the server offers PIPELINING (RFC 2920), MAIL FROM, every RCPT TO and DATA go out in
one write and their replies are read in order, so an email costs two round trips instead
of three plus one per recipient; the commands and the message bytes are exactly those
smtplib would send one by one, and the replies map to recipients just the same. A run of
emails (:meth:`SmtpPool.send_chain`) goes further: each message and its final dot share a
write with the next email's commands, one round trip an email, as long as all goes
smoothly; anything else takes the one-email path with its retries.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache

from ...errors import AuthenticationFailed, ConfigError, ConnectionFailed, DocumentError
from ...sdk import TestReport
from ._errors import classify, redact, reply_text, secrets_of
from ._oauth import TokenSource
from ._tls import cert_reason, insecure_warning, ssl_context_for
from .spec import MailConnection

__all__ = [
    "Delivery",
    "Outgoing",
    "PoolRegistry",
    "RateLimiter",
    "SmtpPool",
    "test_connection",
]

log = logging.getLogger("postroom.connectors.mail")

_MAX_BACKOFF = 60.0


#: How long a session that ended its last transaction cleanly may idle and still be reused
#: without an RSET first (servers time idle sessions out after minutes, not seconds).
_FRESH_SECONDS = 5.0
# smtplib's dot-stuffing (RFC 5321 4.5.2): a line that starts with "." gets another.
_LEADING_DOT = re.compile(rb"(?m)^\.")


# An address smtplib's quoteaddr (email.utils.parseaddr) gives back as it is, in <>.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\Z")


@lru_cache(maxsize=1024)
def _quoteaddr(address: str) -> str:
    """What smtplib's ``mail()`` and ``rcpt()`` write for an address (``quoteaddr``), without
    parsing a plain one (a bulk send has a new one per email)."""
    if _PLAIN_ADDRESS.match(address):
        return f"<{address}>"
    return smtplib.quoteaddr(address)


def _getreply(smtp: smtplib.SMTP) -> tuple[int, bytes]:
    """smtplib's ``getreply``, with a short way for the usual one-line reply.

    A pipelined email reads four replies; smtplib's general loop costs more than the
    rest of their handling. Same results and errors: a multi-line, overlong or odd
    reply goes the general way from its first line on.
    """
    file = smtp.file
    if file is None or smtp.debuglevel:
        return smtp.getreply()
    try:
        line = file.readline(smtplib._MAXLINE + 1)
    except OSError as exc:
        smtp.close()
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed: " + str(exc)) from None
    if not line:
        smtp.close()
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
    if line[3:4] == b" " and line[:3].isdigit() and len(line) <= smtplib._MAXLINE:
        return int(line[:3]), line[4:].strip(b" \t\r\n")
    return _rest_of_reply(smtp, line)


def _rest_of_reply(smtp: smtplib.SMTP, line: bytes) -> tuple[int, bytes]:
    """smtplib's reply loop (``SMTP.getreply``) from an already read first line."""
    resp = []
    while True:
        if len(line) > smtplib._MAXLINE:
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
            line = smtp.file.readline(smtplib._MAXLINE + 1)  # type: ignore[union-attr]
        except OSError as exc:
            smtp.close()
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed: " + str(exc)) from None
        if not line:
            smtp.close()
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
    return code, b"\n".join(resp)


@lru_cache(maxsize=1)
def _local_hostname() -> str:
    """The EHLO name, looked up once: socket.getfqdn() may wait on DNS each time."""
    return socket.getfqdn() or "localhost"


def _ascii(*values: str) -> bool:
    return all(value.isascii() for value in values)


def _sasl_utf8(smtp: smtplib.SMTP, mechanism: str, user: str, password: str) -> None:
    """AUTH PLAIN (RFC 4616) or LOGIN with the values' UTF-8 bytes (smtplib sends ASCII only).

    Raises ``SMTPAuthenticationError`` when the server refuses, as ``smtplib.login`` does."""
    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode("ascii")

    if mechanism == "plain":
        code, reply = smtp.docmd("AUTH", "PLAIN " + b64(b"\0" + user.encode() + b"\0" + password.encode()))
    else:
        code, reply = smtp.docmd("AUTH", "LOGIN " + b64(user.encode()))
        if code == 334:
            code, reply = smtp.docmd(b64(password.encode()))
    if code not in (235, 503):
        raise smtplib.SMTPAuthenticationError(code, reply)


# -- sessions --------------------------------------------------------------------------------


class _Dropped(Exception):
    """The session is gone (closed, 421, timeout): reconnect and retry."""


class _Stale(_Dropped):
    """A reused session turned out dead on its first reply: nothing was sent; reconnect now."""


class _HookFailed(Exception):
    """The caller's ``journal_sync`` raised (its exception is the cause): not an SMTP matter."""


def _call(hook: Callable[[], None] | None) -> None:
    if hook is not None:
        try:
            hook()
        except Exception as exc:
            raise _HookFailed from exc


@dataclass
class _Session:
    smtp: smtplib.SMTP
    greeting: str = ""
    tls: str = ""
    cipher: str = ""
    login: str = ""
    #: A transaction is open (MAIL sent, no final reply to the message yet): RSET before reuse.
    dirty: bool = False
    #: Reused without an RSET: a drop on its first reply means it died while idle.
    unverified: bool = False
    #: time.monotonic() when it was last given back to the pool.
    released: float = 0.0

    def has(self, extension: str) -> bool:
        return self.smtp.has_extn(extension)

    @property
    def pipelining(self) -> bool:
        return "pipelining" in self.smtp.esmtp_features

    @property
    def size_limit(self) -> int:
        try:
            return int(self.smtp.esmtp_features.get("size", "0") or 0)
        except ValueError:
            return 0

    def close(self) -> None:
        try:
            self.smtp.quit()
        except (smtplib.SMTPException, OSError):
            pass
        try:
            self.smtp.close()
        except OSError:  # pragma: no cover - close of a dead socket
            pass

    def alive(self) -> bool:
        """RSET before a reuse: clears any transaction state and proves the peer is there."""
        try:
            code, _ = self.smtp.rset()
        except (smtplib.SMTPException, OSError):
            return False
        self.dirty = False
        return code == 250


class _Tracking:
    """smtplib client that remembers whether the TCP (and TLS) connect itself succeeded.

    ``connect`` opens the socket and then reads the greeting; on a timeout smtplib
    closes the socket and reports "Connection unexpectedly closed", the same words for
    a port nobody answers on and for a TLS port that waits for a ClientHello. The flag
    tells the two apart, so the advice can say "turn on use_ssl" only when it applies.
    It also sets ``_host``, smtplib's TLS server name (SNI and host-name check), which
    only its constructor sets otherwise.
    """

    tcp_connected = False

    def __init__(self, server_name: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[call-arg]
        self._host = server_name

    def _get_socket(self, host, port, timeout):  # noqa: ANN001, ANN202 - smtplib's signature
        sock = super()._get_socket(host, port, timeout)  # type: ignore[misc]
        self.tcp_connected = True
        return sock


class _SMTP(_Tracking, smtplib.SMTP):
    pass


class _SMTPS(_Tracking, smtplib.SMTP_SSL):
    pass


class _Opener:
    """Connects, secures and logs in, mapping every library error to ours."""

    def __init__(self, connection: MailConnection, tokens: TokenSource | None) -> None:
        self.conn = connection
        self.tokens = tokens
        self._context: ssl.SSLContext | None = None
        self._secrets = secrets_of(connection)

    def context(self) -> ssl.SSLContext:
        if self._context is None:
            self._context = ssl_context_for(self.conn)
        return self._context

    def open(self) -> _Session:
        conn = self.conn
        host, port, timeout = conn.host, conn.smtp_port, conn.timeout_seconds
        smtp: _SMTP | _SMTPS
        if conn.use_ssl:
            smtp = _SMTPS(host, local_hostname=_local_hostname(), timeout=timeout, context=self.context())
        else:
            smtp = _SMTP(host, local_hostname=_local_hostname(), timeout=timeout)
        session = _Session(smtp)
        phase = "connect"
        try:
            code, banner = smtp.connect(host, port)
            session.greeting = redact(f"{code} {reply_text(banner)}", self._secrets)
            if code != 220:
                raise ConnectionFailed(f"the server at {conn.endpoint} refused the session: {session.greeting}")
            phase = "ehlo"
            smtp.ehlo_or_helo_if_needed()
            if conn.use_ssl:
                session.tls = "implicit"
            elif conn.use_tls:
                if not smtp.has_extn("starttls"):
                    raise ConnectionFailed(
                        f"the server at {conn.endpoint} does not offer STARTTLS; turn off use_tls or use "
                        "port 465 with use_ssl",
                        field="use_tls",
                        retryable=False,
                    )
                phase = "starttls"
                code, reply = smtp.starttls(context=self.context())
                smtp.ehlo()
                session.tls = "STARTTLS"
            if session.tls:
                sock = smtp.sock
                if isinstance(sock, ssl.SSLSocket):
                    session.tls = f"{sock.version()} ({session.tls})"
                    cipher = sock.cipher()
                    session.cipher = cipher[0] if cipher else ""
            if conn.user_password_auth:
                phase = "login"
                self._login(session)
            return session
        except (AuthenticationFailed, ConnectionFailed, ConfigError):
            session.close()
            raise
        except Exception as exc:
            session.close()
            raise self._map(exc, phase, connected=smtp.tcp_connected) from None

    # login -----------------------------------------------------------------------------------
    def _login(self, session: _Session) -> None:
        conn, smtp = self.conn, session.smtp
        if not session.tls and not conn.allow_insecure_auth:
            raise ConfigError(
                f"refusing to send the password for {conn.user_name} in clear text to {conn.endpoint}",
                field="use_tls",
                fix="set use_tls: true (STARTTLS) or use_ssl: true, or allow_insecure_auth: true for a "
                "trusted local relay",
            )
        if not smtp.has_extn("auth"):
            hint = "" if session.tls else "; it may offer AUTH only over TLS: set use_tls: true"
            raise AuthenticationFailed(
                f"the server at {conn.endpoint} does not offer login (SMTP AUTH){hint}",
                fix="turn off user_password_auth if the server accepts mail without login",
            )
        offered = smtp.esmtp_features.get("auth", "").upper().split()
        mechanism = conn.auth_mechanism
        if conn.uses_xoauth2:
            mechanism = "xoauth2"
        if mechanism != "auto" and mechanism.upper() not in offered:
            raise AuthenticationFailed(
                f"the server at {conn.endpoint} does not offer AUTH {mechanism.upper()} "
                f"(it offers {' '.join(offered) or 'nothing'})",
                field="auth_mechanism",
                fix="set auth_mechanism: auto",
            )
        try:
            if mechanism == "xoauth2":
                self._xoauth2(smtp)
            elif mechanism == "auto" and _ascii(conn.user_name, conn.password):
                smtp.login(conn.user_name, conn.password)
            else:
                mechanism = self._utf8_mechanism(mechanism, offered)
                _sasl_utf8(smtp, mechanism, conn.user_name, conn.password)
        except smtplib.SMTPAuthenticationError as exc:
            raise self._refused(exc.smtp_code, exc.smtp_error, mechanism) from None
        except UnicodeError:
            raise AuthenticationFailed(
                f"the user name for {conn.endpoint} has characters that {mechanism.upper()} login cannot carry",
                field="user_name",
                fix="use the account's ASCII address as user_name",
            ) from None
        except smtplib.SMTPException as exc:
            if isinstance(exc, smtplib.SMTPServerDisconnected):
                raise
            raise AuthenticationFailed(
                f"login to {conn.endpoint} as {conn.user_name} failed: "
                f"{redact(str(exc), self._secrets)}"
            ) from None
        finally:
            smtp.password = ""  # smtplib keeps it on the object otherwise
        session.login = f"{conn.user_name} ({mechanism if mechanism != 'auto' else 'password'})"

    def _utf8_mechanism(self, mechanism: str, offered: list[str]) -> str:
        """PLAIN or LOGIN, which carry UTF-8 (RFC 4616); auto picks the one the server offers."""
        if mechanism in ("plain", "login"):
            return mechanism
        for choice in ("plain", "login"):
            if choice.upper() in offered:
                return choice
        raise AuthenticationFailed(
            f"the user name or password for {self.conn.endpoint} has non-ASCII characters, which only AUTH PLAIN "
            f"or LOGIN can carry, and the server offers neither (it offers {' '.join(offered) or 'nothing'})",
            field="password",
            fix="use an ASCII password (an app password), or a server that offers AUTH PLAIN over TLS",
        )

    def _xoauth2(self, smtp: smtplib.SMTP) -> None:
        assert self.tokens is not None
        for attempt in (1, 2):
            token = self.tokens.token()
            initial = f"user={self.conn.user_name}\x01auth=Bearer {token}\x01\x01"
            # On failure the server sends a 334 challenge (JSON error); an empty reply ends it.
            try:
                smtp.auth("XOAUTH2", lambda challenge=None, first=initial: first if challenge is None else "")
                return
            except smtplib.SMTPAuthenticationError:
                if attempt == 2 or not self.tokens.refreshes:
                    raise
                self.tokens.invalidate()  # a revoked or expired token: refresh once and retry

    def _refused(self, code: int, reply: bytes | str, mechanism: str) -> AuthenticationFailed:
        conn = self.conn
        said = redact(f"{code} {reply_text(reply)}", self._secrets)
        if mechanism == "xoauth2":
            return AuthenticationFailed(
                f"the server refused the OAuth 2.0 token for {conn.user_name} (server said: {said})",
                fix="check the token's scope (https://mail.google.com/ for Gmail) and the refresh token",
            )
        return AuthenticationFailed(
            f"the server refused the user name or password for {conn.user_name}; for Gmail, use an app "
            f"password (Google Account > Security > 2-Step Verification > App passwords), not the "
            f"account password (server said: {said})",
            field="password",
        )

    # error mapping ---------------------------------------------------------------------------
    def _map(self, exc: BaseException, phase: str, *, connected: bool) -> Exception:
        kind = classify(exc, phase, implicit_tls=self.conn.use_ssl,
                        closed=(smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError))
        if kind == "other":
            if isinstance(exc, smtplib.SMTPException | OSError):
                detail = getattr(exc, "strerror", None) or redact(str(exc), self._secrets) or type(exc).__name__
                return ConnectionFailed(f"SMTP session with {self.conn.endpoint} failed ({phase}): {detail}")
            return exc if isinstance(exc, Exception) else ConnectionFailed(str(exc))
        return _WORDING[kind](self.conn, exc, phase, connected, self._secrets)


def _cert_host(conn: MailConnection, exc: BaseException, phase: str, connected: bool, secrets: list[str]
               ) -> ConnectionFailed:
    return ConnectionFailed(
        f"the certificate of {conn.endpoint} does not name the host {conn.host!r} ({cert_reason(exc)})",  # type: ignore[arg-type]
        fix="set host to a name the certificate holds, or add it to trusted_ca_file's CA "
        "only if the server is really yours",
        field="host",
        retryable=False,
    )


def _cert_untrusted(conn: MailConnection, exc: BaseException, phase: str, connected: bool, secrets: list[str]
                    ) -> ConnectionFailed:
    return ConnectionFailed(
        f"the certificate of {conn.endpoint} is not trusted ({cert_reason(exc)})",  # type: ignore[arg-type]
        fix="set trusted_ca_file to the PEM file of the CA that signed it, or point SSL_CERT_FILE "
        "at a bundle that holds it",
        field="trusted_ca_file",
        retryable=False,
    )


def _not_tls(conn: MailConnection, exc: BaseException, phase: str, connected: bool, secrets: list[str]
             ) -> ConnectionFailed:
    return ConnectionFailed(
        f"the server at {conn.endpoint} does not speak TLS from the first byte (use_ssl); port {conn.smtp_port} "
        f"expects STARTTLS or plain SMTP: set use_ssl: false and use_tls: true, or use port 465",
        field="use_ssl",
        retryable=False,
    )


def _tls_failed(conn: MailConnection, exc: BaseException, phase: str, connected: bool, secrets: list[str]
                ) -> ConnectionFailed:
    step = "after STARTTLS" if phase == "starttls" else "with"
    return ConnectionFailed(f"TLS {step} {conn.endpoint} failed: {getattr(exc, 'reason', None) or exc}",
                            retryable=False)


def _unknown_host(conn: MailConnection, exc: BaseException, phase: str, connected: bool, secrets: list[str]
                  ) -> ConnectionFailed:
    return ConnectionFailed(f"cannot find the host {conn.host!r}: {getattr(exc, 'strerror', None) or exc}",
                            field="host")


def _refused(conn: MailConnection, exc: BaseException, phase: str, connected: bool, secrets: list[str]
             ) -> ConnectionFailed:
    return ConnectionFailed(
        f"{conn.endpoint} refused the connection",
        fix="check host and port (465 with use_ssl, 587 with use_tls, 25 for plain relays) "
        "and that the server runs",
    )


def _timeout(conn: MailConnection, exc: BaseException, phase: str, connected: bool, secrets: list[str]
             ) -> ConnectionFailed:
    if phase == "connect" and connected and not conn.use_ssl:
        return ConnectionFailed(
            f"{conn.endpoint} accepted the connection but sent no SMTP greeting within "
            f"{conn.timeout_seconds:g} s; it probably expects TLS from the first byte (as port 465 "
            "does): turn on use_ssl (use_ssl: true)",
            field="use_ssl",
        )
    return ConnectionFailed(
        f"{conn.endpoint} did not answer within {conn.timeout_seconds:g} s ({phase})",
        fix="check host, port and firewalls, or raise timeout_seconds",
    )


def _closed(conn: MailConnection, exc: BaseException, phase: str, connected: bool, secrets: list[str]
            ) -> ConnectionFailed:
    advice = " If it expects TLS from the first byte (port 465), set use_ssl: true." if not conn.use_ssl else ""
    return ConnectionFailed(
        f"{conn.endpoint} closed the connection or answered something that is not SMTP "
        f"({redact(str(exc), secrets)}).{advice}",
        field="use_ssl" if advice else None,
    )


def _unsupported(conn: MailConnection, exc: BaseException, phase: str, connected: bool, secrets: list[str]
                 ) -> ConnectionFailed:
    return ConnectionFailed(f"{conn.endpoint}: {exc}", retryable=False)


#: How SMTP words each kind of failure (:func:`postroom.connectors.mail._errors.classify`).
_WORDING: dict[str, Callable[[MailConnection, BaseException, str, bool, list[str]], ConnectionFailed]] = {
    "certificate-host": _cert_host, "certificate-untrusted": _cert_untrusted, "not-tls": _not_tls,
    "tls": _tls_failed, "unknown-host": _unknown_host, "refused": _refused, "timeout": _timeout,
    "closed": _closed, "unsupported": _unsupported,
}


# -- rate limit ------------------------------------------------------------------------------


class RateLimiter:
    """A token bucket of capacity one: at most ``per_minute`` emails a minute, evenly spaced.

    Each caller reserves the next slot under the lock and sleeps outside it, so threads
    queue fairly and the lock is never held while waiting. 0 means no limit.
    """

    def __init__(
        self,
        per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.per_second = per_minute / 60.0
        self._clock = clock
        self._sleep = sleep
        self._tokens = 1.0
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait for a slot; return how long that took (for logs and tests)."""
        if self.per_second <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            self._tokens = min(1.0, self._tokens + (now - self._last) * self.per_second)
            self._last = now
            self._tokens -= 1.0
            wait = -self._tokens / self.per_second if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait


# -- delivery --------------------------------------------------------------------------------


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


def _is_temporary(code: int) -> bool:
    return 400 <= code < 500


@dataclass
class Outgoing:
    """One email for :meth:`SmtpPool.send_chain`: in, what to send; out, what came of it."""

    sender: str
    recipients: list[str]
    message: bytes
    smtputf8: bool = False
    tag: object = None  # the caller's
    delivery: Delivery | None = None
    error: BaseException | None = None


@dataclass
class _GroupReplies:
    mail: tuple[int, bytes]
    rcpts: list[tuple[int, bytes]]
    data: tuple[int, bytes]

    @property
    def smooth(self) -> bool:
        """Sender and every recipient accepted, DATA ready: the chain may go on."""
        return self.mail[0] == 250 and self.data[0] == 354 and all(code in (250, 251) for code, _ in self.rcpts)


class _ChainBroken(Exception):
    """The session failed mid-chain: ``jobs`` go again the standard way, then ``following``."""

    def __init__(self, jobs: list[Outgoing], following: Outgoing | None) -> None:
        super().__init__("SMTP session lost")
        self.jobs = jobs
        self.following = following


class SmtpPool:
    """At most ``max_sessions`` sessions to one server, reused across documents and threads.

    A pool may serve several executions at once (see :class:`PoolRegistry`), so it keeps
    no logger of its own: each call names the execution's log.
    """

    #: A clean session idle for less than this is reused without an RSET first.
    FRESH_SECONDS = _FRESH_SECONDS

    def __init__(
        self,
        connection: MailConnection,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.connection = connection
        self._sleep = sleep
        self._slots = threading.BoundedSemaphore(connection.max_sessions)
        self._idle: list[_Session] = []
        self._lock = threading.Lock()
        self._closed = False
        tokens = TokenSource(connection) if connection.user_password_auth and connection.uses_xoauth2 else None
        self._opener = _Opener(connection, tokens)
        self.limiter = RateLimiter(connection.max_messages_per_minute, sleep=sleep)
        #: Sessions opened so far (tests read it to prove reuse).
        self.opened = 0
        #: Transactions sent pipelined (tests read it to prove PIPELINING was used).
        self.pipelined = 0

    def __repr__(self) -> str:
        return f"SmtpPool({self.connection.endpoint}, max_sessions={self.connection.max_sessions})"

    @property
    def max_sessions(self) -> int:
        return self.connection.max_sessions

    @contextmanager
    def lease(self, logger: logging.Logger | None = None) -> Iterator[_Session]:
        """A live session for one transaction; a session that failed is closed, not returned.

        A session that ended its last transaction cleanly less than ``FRESH_SECONDS`` ago
        is handed out as it is (``unverified``); any other idle one is checked with RSET.
        """
        self._slots.acquire()
        session: _Session | None = None
        healthy = False
        try:
            while True:
                with self._lock:
                    if self._closed:
                        raise ConnectionFailed(f"the session pool for {self.connection.endpoint} is closed")
                    session = self._idle.pop() if self._idle else None
                if session is None:
                    break
                if not session.dirty and time.monotonic() - session.released < self.FRESH_SECONDS:
                    session.unverified = True
                    break
                if session.alive():
                    session.unverified = False
                    break
                (logger or log).debug(
                    "SMTP session to %s was dropped by the server; reconnecting", self.connection.endpoint
                )
                session.close()
                session = None
            if session is None:
                session = self._opener.open()
                self.opened += 1
            try:
                yield session
            except DocumentError:
                healthy = True  # the message was refused before MAIL: the session is fine
                raise
            healthy = True
        finally:
            if session is not None:
                session.released = time.monotonic()
                with self._lock:
                    keep = healthy and not self._closed
                    if keep:
                        self._idle.append(session)
                if not keep:
                    session.close()
            self._slots.release()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for session in idle:
            session.close()

    # one email -------------------------------------------------------------------------------
    def send(
        self,
        sender: str,
        recipients: list[str],
        message: bytes,
        *,
        smtputf8: bool = False,
        logger: logging.Logger | None = None,
        journal_sync: Callable[[], None] | None = None,
        after: tuple[Delivery, dict[str, str]] | None = None,
    ) -> Delivery:
        """Deliver one message to its recipients, retrying what the server deferred.

        A 4xx (on MAIL, a RCPT or DATA) or a dropped session is retried with exponential
        backoff up to ``max_retries`` times, only for the recipients not yet served; a
        5xx refuses that recipient for good. A failure to reconnect after the retries
        raises :class:`ConnectionFailed`; a message the server can never take (too
        large, needs SMTPUTF8) raises :class:`DocumentError`.

        ``journal_sync`` is called before the final dot of each attempt, the one moment
        after which the server may have taken the message: the Send operation makes sure
        there that its journal holds the outcome of its previous email. When pipelining,
        it is also called right after the commands are written, so that journal write
        overlaps the server's work instead of waiting for it. ``after``: the delivery and the
        deferred recipients of a first attempt made elsewhere (:meth:`send_chain`); the
        retries go on from there as if this call had made it.
        """
        conn = self.connection
        delivery = Delivery()
        pending = list(dict.fromkeys(recipients))
        deferred: dict[str, str] = {}
        attempt = 0
        stale_retried = False
        tried = False
        if after is not None:
            delivery, deferred = after
            pending, tried = list(deferred), True
        while pending:
            if tried:  # the first attempt was made elsewhere: on to its retry
                tried = False
            else:
                delivery.attempts += 1
                try:
                    with self.lease(logger) as session:
                        self.limiter.acquire()
                        deferred = self._transaction(
                            session, sender, pending, message, smtputf8, delivery, journal_sync
                        )
                except _HookFailed as exc:
                    raise exc.__cause__ from None  # type: ignore[misc]
                except _Stale as exc:
                    if not stale_retried:
                        # The server closed the idle session; nothing of this email reached it.
                        stale_retried = True
                        (logger or log).debug("SMTP session to %s had been closed by the server (%s); "
                                              "reconnecting", conn.endpoint, str(exc)[:3])
                        continue
                    deferred = dict.fromkeys(pending, str(exc))
                    if attempt >= conn.max_retries:
                        raise ConnectionFailed(
                            f"the SMTP session with {conn.endpoint} kept dropping ({exc}); gave up after "
                            f"{attempt + 1} attempts"
                        ) from None
                except _Dropped as exc:
                    deferred = dict.fromkeys(pending, str(exc))
                    if attempt >= conn.max_retries:
                        raise ConnectionFailed(
                            f"the SMTP session with {conn.endpoint} kept dropping ({exc}); gave up after "
                            f"{attempt + 1} attempts"
                        ) from None
                except ConnectionFailed as exc:
                    # Reconnecting failed: worth retrying only for what may pass (refused, timeout).
                    if not exc.retryable or attempt >= conn.max_retries:
                        raise
                    deferred = dict.fromkeys(pending, exc.message)
            pending = list(deferred)
            if pending and attempt < conn.max_retries:
                attempt += 1
                delay = min(_MAX_BACKOFF, conn.retry_delay_seconds * 2 ** (attempt - 1))
                reason = next(iter(deferred.values()))
                # The reply code only: servers echo the recipient's address in the text.
                reason = reason[:3] if reason[:3].isdigit() else reason
                (logger or log).info(
                    "the server deferred %d recipient(s) (%s); retry %d of %d in %.1f s",
                    len(pending), reason, attempt, conn.max_retries, delay,
                )
                self._sleep(delay)
            elif pending:
                delivery.refused.update(deferred)
                break
        return delivery

    def _transaction(
        self,
        session: _Session,
        sender: str,
        recipients: list[str],
        message: bytes,
        smtputf8: bool,
        delivery: Delivery,
        journal_sync: Callable[[], None] | None = None,
    ) -> dict[str, str]:
        """One MAIL/RCPT/DATA transaction; returns the recipients deferred (4xx) with the reply."""
        options: list[str] = []
        if smtputf8:
            if not session.has("smtputf8"):
                raise DocumentError(
                    f"the server at {self.connection.endpoint} does not offer SMTPUTF8, which an address "
                    "with a non-ASCII local part needs"
                )
            options.append("SMTPUTF8")
            if session.has("8bitmime"):
                options.append("BODY=8BITMIME")
        limit = session.size_limit
        if limit and len(message) > limit:
            raise DocumentError(
                f"the message is {len(message)} bytes, over the {limit} bytes the server at "
                f"{self.connection.endpoint} accepts (SIZE)"
            )
        if session.has("size"):
            options.append(f"SIZE={len(message)}")
        try:
            if session.pipelining:
                return self._pipelined(session, sender, recipients, message, options, smtputf8, delivery,
                                       journal_sync)
            return self._one_by_one(session, sender, recipients, message, options, delivery, journal_sync)
        except smtplib.SMTPNotSupportedError as exc:
            raise DocumentError(f"{self.connection.endpoint}: {exc}") from None
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            if session.unverified:
                raise _Stale(f"connection lost: {exc or type(exc).__name__}") from None
            raise _Dropped(f"connection lost: {exc or type(exc).__name__}") from None

    def _one_by_one(
        self,
        session: _Session,
        sender: str,
        recipients: list[str],
        message: bytes,
        options: list[str],
        delivery: Delivery,
        journal_sync: Callable[[], None] | None,
    ) -> dict[str, str]:
        """The transaction with a reply awaited after each command (no PIPELINING)."""
        smtp = session.smtp
        session.dirty = True
        code, reply = smtp.mail(sender, options)
        self._check_dropped(code, reply, session)
        if code != 250:
            text = f"{code} {reply_text(reply)}"
            if _is_temporary(code):
                return dict.fromkeys(recipients, text)
            delivery.refused.update(dict.fromkeys(recipients, f"sender refused: {text}"))
            return {}
        accepted: list[str] = []
        deferred: dict[str, str] = {}
        for rcpt in recipients:
            code, reply = smtp.rcpt(rcpt)
            self._check_dropped(code, reply, session)
            self._sort_recipient(rcpt, code, reply, accepted, deferred, delivery)
        if not accepted:
            return deferred
        _call(journal_sync)
        try:
            code, reply = smtp.data(message)
            session.dirty = False
        except smtplib.SMTPDataError as exc:  # DATA itself refused (no 354)
            code, reply = exc.smtp_code, exc.smtp_error
        self._check_dropped(code, reply, session)
        self._data_outcome(code, reply, accepted, deferred, delivery)
        return deferred

    def _pipelined(
        self,
        session: _Session,
        sender: str,
        recipients: list[str],
        message: bytes,
        options: list[str],
        smtputf8: bool,
        delivery: Delivery,
        journal_sync: Callable[[], None] | None,
    ) -> dict[str, str]:
        """The transaction with MAIL, every RCPT and DATA in one write (RFC 2920).

        Every reply of the group is read, in order, whatever the earlier ones said (the
        session would fall out of step otherwise). When DATA got 354 although no
        recipient was accepted, a lone dot ends the empty message (RFC 2920 3.1).
        """
        session.dirty = True
        session.smtp.send(self._group(sender, recipients, options, smtputf8))
        self.pipelined += 1
        _call(journal_sync)  # while the server answers (it must be done before the dot anyway)
        replies = self._group_replies(session, recipients)
        return self._after_group(session, recipients, message, replies, delivery, journal_sync)

    @staticmethod
    def _group(sender: str, recipients: list[str], options: list[str], smtputf8: bool) -> bytes:
        """MAIL FROM, RCPT TO each recipient and DATA, as smtplib writes them one by one."""
        tail = " " + " ".join(options) if options else ""
        commands = [f"mail FROM:{_quoteaddr(sender)}{tail}\r\n"]
        commands.extend(f"rcpt TO:{_quoteaddr(rcpt)}\r\n" for rcpt in recipients)
        commands.append("data\r\n")
        group = "".join(commands)
        if group.count("\n") != len(commands) or group.count("\r") != len(commands):
            raise ValueError("an address holds a line break")  # smtplib's putcmd refuses these too
        return group.encode("utf-8" if smtputf8 else "ascii")

    def _group_replies(self, session: _Session, recipients: list[str]) -> _GroupReplies:
        smtp = session.smtp
        mail = _getreply(smtp)
        self._check_dropped(*mail, session)  # the session answered: no longer stale
        rcpts = []
        for _ in recipients:
            reply = _getreply(smtp)
            self._check_dropped(*reply, session)
            rcpts.append(reply)
        data = _getreply(smtp)
        self._check_dropped(*data, session)
        return _GroupReplies(mail, rcpts, data)

    def _after_group(
        self,
        session: _Session,
        recipients: list[str],
        message: bytes,
        replies: _GroupReplies,
        delivery: Delivery,
        journal_sync: Callable[[], None] | None,
    ) -> dict[str, str]:
        """The rest of a pipelined transaction once the group's replies are in."""
        (mail_code, mail_reply), (data_code, data_reply) = replies.mail, replies.data
        if mail_code != 250:
            if data_code == 354:
                self._end_empty_message(session)
            text = f"{mail_code} {reply_text(mail_reply)}"
            if _is_temporary(mail_code):
                return dict.fromkeys(recipients, text)
            delivery.refused.update(dict.fromkeys(recipients, f"sender refused: {text}"))
            return {}
        accepted: list[str] = []
        deferred: dict[str, str] = {}
        for rcpt, (code, reply) in zip(recipients, replies.rcpts, strict=True):
            self._sort_recipient(rcpt, code, reply, accepted, deferred, delivery)
        if not accepted:
            if data_code == 354:
                self._end_empty_message(session)
            return deferred
        if data_code != 354:  # DATA itself refused
            self._data_outcome(data_code, data_reply, accepted, deferred, delivery)
            return deferred
        _call(journal_sync)
        self._send_message(session.smtp, message)
        code, reply = _getreply(session.smtp)
        session.dirty = False
        self._check_dropped(code, reply, session)
        self._data_outcome(code, reply, accepted, deferred, delivery)
        return deferred

    @staticmethod
    def _send_message(smtp: smtplib.SMTP, message: bytes, then: bytes = b"") -> None:
        """The message dot-stuffed, the final dot, and ``then`` (the next email's commands)."""
        body = _LEADING_DOT.sub(b"..", message)
        if body[-2:] != b"\r\n":
            body += b"\r\n"
        if len(body) < 65536:
            smtp.send(body + b".\r\n" + then)
        else:  # no copy of a big message just to append a few bytes
            smtp.send(body)
            smtp.send(b".\r\n" + then)

    # many emails -----------------------------------------------------------------------------
    def send_chain(
        self,
        next_job: Callable[[], Outgoing | None],
        done: Callable[[Outgoing], None],
        *,
        logger: logging.Logger | None = None,
        journal_sync: Callable[[], None] | None = None,
    ) -> None:
        """Send the emails ``next_job`` hands out, in order; ``done(job)`` once each is final.

        When the server offers PIPELINING, an email's message and final dot go out in one
        write with the next email's MAIL, RCPT and DATA (RFC 2920 lets message content open
        a group), so each email costs one round trip instead of two. The chain goes on
        while every recipient is accepted; anything else (a refusal, a deferral with its
        retries, a dropped session, a server without PIPELINING, a message the server
        cannot take) goes the way of :meth:`send` for that email, with the same outcome.
        ``job.delivery`` or ``job.error`` holds the outcome; a :class:`DocumentError` is
        the email's own, any other error is reported to ``done`` and then raised.
        ``journal_sync`` runs before every final dot, as in :meth:`send`.
        """
        job = next_job()
        while job is not None:
            detours: list[tuple[Outgoing, Delivery, dict[str, str]]] = []
            single: list[Outgoing] = []
            following: Outgoing | None = None
            try:
                with self.lease(logger) as session:
                    options = self._chain_options(session, job)
                    if options is None:
                        single.append(job)
                    else:
                        following = self._run_chain(session, job, options, next_job, done, journal_sync, detours)
            except _ChainBroken as broken:
                single.extend(broken.jobs)
                following = broken.following
            except _HookFailed as failed:
                for pending in failed.jobs:  # type: ignore[attr-defined]
                    pending.error = failed.__cause__
                    done(pending)
                raise failed.__cause__ from None  # type: ignore[misc]
            except ConnectionFailed:
                if following is not None or detours:
                    raise  # pragma: no cover - only the lease itself raises this, before any job
                single.append(job)  # no session to be had now: send() retries with backoff
            leftovers: list[tuple[Outgoing, tuple[Delivery, dict[str, str]] | None]] = [
                (pending, (delivery, deferred)) for pending, delivery, deferred in detours
            ] + [(pending, None) for pending in single]
            for index, (pending, after) in enumerate(leftovers):
                try:
                    self._single(pending, done, logger, journal_sync, after=after)
                except Exception as exc:  # fatal: the emails not sent yet share the error
                    for rest in [r for r, _ in leftovers[index + 1 :]] + ([following] if following else []):
                        rest.error = exc
                        done(rest)
                    raise
            job = following if following is not None else next_job()

    def _single(
        self,
        job: Outgoing,
        done: Callable[[Outgoing], None],
        logger: logging.Logger | None,
        journal_sync: Callable[[], None] | None,
        after: tuple[Delivery, dict[str, str]] | None = None,
    ) -> None:
        try:
            job.delivery = self.send(job.sender, job.recipients, job.message, smtputf8=job.smtputf8,
                                     logger=logger, journal_sync=journal_sync, after=after)
        except DocumentError as exc:
            job.error = exc
        except Exception as exc:
            job.error = exc
            done(job)
            raise
        done(job)

    def _chain_options(self, session: _Session, job: Outgoing) -> list[str] | None:
        """MAIL's options for ``job`` when it can go pipelined as it is; None otherwise."""
        if not session.pipelining:
            return None
        options: list[str] = []
        if job.smtputf8:
            if not session.has("smtputf8"):
                return None  # send() says why
            options.append("SMTPUTF8")
            if session.has("8bitmime"):
                options.append("BODY=8BITMIME")
        limit = session.size_limit
        if limit and len(job.message) > limit:
            return None
        if session.has("size"):
            options.append(f"SIZE={len(job.message)}")
        return options

    def _run_chain(
        self,
        session: _Session,
        job: Outgoing,
        options: list[str],
        next_job: Callable[[], Outgoing | None],
        done: Callable[[Outgoing], None],
        journal_sync: Callable[[], None] | None,
        detours: list[tuple[Outgoing, Delivery, dict[str, str]]],
    ) -> Outgoing | None:
        """Send ``job`` and those after it over ``session`` while all goes smoothly; return
        the next job not yet started (None when ``next_job`` ran out)."""
        smtp = session.smtp
        current: Outgoing | None = job
        following: Outgoing | None = None
        try:
            self.limiter.acquire()
            session.dirty = True
            smtp.send(self._group(job.sender, job.recipients, options, job.smtputf8))
            self.pipelined += 1
            _call(journal_sync)  # while the server answers
            while current is not None:
                replies = self._group_replies(session, current.recipients)
                if not replies.smooth:
                    delivery = Delivery(attempts=1)
                    deferred = self._after_group(session, current.recipients, current.message, replies, delivery,
                                                 journal_sync)
                    self._outcome(current, delivery, deferred, done, detours)
                    return None  # a fresh lease (with RSET when needed) for what comes next
                following = next_job()
                then = b""
                if following is not None:
                    next_options = self._chain_options(session, following)
                    if next_options is not None:
                        then = self._group(following.sender, following.recipients, next_options, following.smtputf8)
                _call(journal_sync)
                if then:
                    self.limiter.acquire()
                self._send_message(smtp, current.message, then)
                code, reply = _getreply(smtp)
                self._check_dropped(code, reply, session)
                session.dirty = bool(then)
                delivery = Delivery(attempts=1)
                deferred: dict[str, str] = {}
                self._data_outcome(code, reply, list(current.recipients), deferred, delivery)
                self._outcome(current, delivery, deferred, done, detours)
                current = None
                if not then:
                    return following
                self.pipelined += 1
                current, following = following, None
            return None
        except _HookFailed as exc:
            exc.jobs = [j for j in (current, following) if j is not None]  # type: ignore[attr-defined]
            raise
        except (smtplib.SMTPServerDisconnected, OSError, _Dropped) as exc:
            # What was in flight goes again the standard way: an email whose final dot was
            # sent may have been taken (a repeat then carries the same Message-ID, as with
            # send()); one whose commands were sent was not.
            raise _ChainBroken([j for j in (current,) if j is not None], following) from exc
        except Exception as exc:  # anything else is fatal for the emails in flight too
            fatal = _HookFailed()
            fatal.jobs = [j for j in (current, following) if j is not None]  # type: ignore[attr-defined]
            raise fatal from exc

    @staticmethod
    def _outcome(
        job: Outgoing,
        delivery: Delivery,
        deferred: dict[str, str],
        done: Callable[[Outgoing], None],
        detours: list[tuple[Outgoing, Delivery, dict[str, str]]],
    ) -> None:
        if deferred:
            detours.append((job, delivery, deferred))  # retried by send(), after this lease
        else:
            job.delivery = delivery
            done(job)

    def _end_empty_message(self, session: _Session) -> None:
        """A 354 with nothing to send: a lone dot ends the message; its reply is not an outcome."""
        session.smtp.send(b".\r\n")
        code, reply = _getreply(session.smtp)
        self._check_dropped(code, reply, session)

    @staticmethod
    def _sort_recipient(
        rcpt: str, code: int, reply: bytes | str, accepted: list[str], deferred: dict[str, str], delivery: Delivery
    ) -> None:
        if code in (250, 251):
            accepted.append(rcpt)
            return
        text = f"{code} {reply_text(reply)}"
        if _is_temporary(code):
            deferred[rcpt] = text
        else:
            delivery.refused[rcpt] = text

    @staticmethod
    def _data_outcome(
        code: int, reply: bytes | str, accepted: list[str], deferred: dict[str, str], delivery: Delivery
    ) -> None:
        text = f"{code} {reply_text(reply)}"
        if code == 250:
            delivery.accepted.extend(accepted)
            delivery.replies.append(text)
        elif _is_temporary(code):
            deferred.update(dict.fromkeys(accepted, text))
        else:
            delivery.refused.update(dict.fromkeys(accepted, text))

    @staticmethod
    def _check_dropped(code: int, reply: bytes | str, session: _Session | None = None) -> None:
        if code == 421 or code == -1:
            if session is not None and session.unverified:
                raise _Stale(f"{code} {reply_text(reply)}")
            raise _Dropped(f"{code} {reply_text(reply)}")
        if session is not None:
            session.unverified = False


# -- pools shared per connection -------------------------------------------------------------


class PoolRegistry:
    """One pool per connection settings, shared by every session that uses them.

    Two send shapes (or two executions) on one connection then share its
    ``max_sessions`` and its rate limit; the last user to release a pool closes it.
    """

    def __init__(self) -> None:
        self._pools: dict[str, tuple[SmtpPool, int]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(connection: MailConnection) -> str:
        # A digest, so the registry never holds the settings (and password) as a key.
        return hashlib.sha256(connection.model_dump_json().encode()).hexdigest()

    def acquire(self, connection: MailConnection) -> SmtpPool:
        key = self._key(connection)
        with self._lock:
            pool, users = self._pools.get(key, (None, 0))
            if pool is None:
                pool = SmtpPool(connection)
            self._pools[key] = (pool, users + 1)
            return pool

    def release(self, pool: SmtpPool) -> None:
        key = self._key(pool.connection)
        with self._lock:
            current, users = self._pools.get(key, (None, 0))
            if current is not pool:
                pool.close()
                return
            if users <= 1:
                del self._pools[key]
            else:
                self._pools[key] = (pool, users - 1)
                return
        pool.close()


# -- connection test -------------------------------------------------------------------------


def test_connection(connection: MailConnection, logger: logging.Logger | None = None) -> TestReport:
    """Connect, secure and log in as a send would; report what the server offers."""
    warning = insecure_warning(connection)
    if warning:
        (logger or log).warning(warning)
    tokens = TokenSource(connection) if connection.user_password_auth and connection.uses_xoauth2 else None
    session = _Opener(connection, tokens).open()
    try:
        smtp = session.smtp
        features = smtp.esmtp_features

        def offered(name: str) -> str:
            return "yes" if name in features else "no"

        size = session.size_limit
        facts = [
            ("server", connection.endpoint),
            ("greeting", session.greeting),
            ("TLS", session.tls or "none (clear text)"),
            ("cipher", session.cipher or "-"),
            ("AUTH mechanisms", features.get("auth", "").strip() or "none offered"),
            ("SIZE", f"{size} bytes" if size else "no limit announced"),
            ("SMTPUTF8", offered("smtputf8")),
            ("PIPELINING", offered("pipelining")),
            ("8BITMIME", offered("8bitmime")),
            ("login", f"ok as {session.login}" if session.login else "not configured (user_password_auth: false)"),
        ]
        if isinstance(smtp.sock, ssl.SSLSocket):
            cert = smtp.sock.getpeercert() or {}
            subject = dict(item[0] for item in cert.get("subject", ()) if item)
            if subject:
                facts.insert(4, ("certificate", f"{subject.get('commonName', '?')} (valid until {cert.get('notAfter', '?')})"))
        message = f"connected to {connection.endpoint}"
        if session.login:
            message += f" and logged in as {connection.user_name}"
        return TestReport(ok=True, facts=facts, message=message)
    finally:
        session.close()
