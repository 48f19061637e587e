"""SMTP and SMTPS for devmail, on aiosmtpd.

aiosmtpd does the protocol (ESMTP, STARTTLS, AUTH PLAIN/LOGIN, SMTPUTF8, SIZE); this
module adds what a test-suite needs from a development server: configured users, XOAUTH2
with tokens checked at an introspection endpoint (``_oauth``),
recipient policies that answer 5xx or a temporary 4xx on purpose, a record of every
recipient decision, and a controller that binds port 0 and reports the real port.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import fnmatch
import hmac
import logging
import re
import socket
import ssl
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from ._net import bind_listener, connect_host
from ._oauth import ERROR_CHALLENGE, introspect, parse_xoauth2
from ._store import MailStore, RecipientDecision

__all__ = ["RecipientPolicy", "SMTPOptions", "SMTPServer", "format_peer"]

log = logging.getLogger("postroom.devmail")

DEFAULT_REJECT_REPLY = "550 5.1.1 <{address}>: Recipient address rejected (devmail reject_recipients)"
DEFAULT_DEFER_REPLY = "451 4.3.0 <{address}>: Temporary failure, try again later (devmail defer_recipients, attempt {attempt} of {limit})"
NO_CLIENT_CERTIFICATE = "530 5.7.0 Client didn't present a valid SSL certificate (devmail client_ca_file)"
_REPLY = re.compile(r"^([245])\d\d( |$)")


class _LoginDataWarningFilter(logging.Filter):
    """aiosmtpd logs a deprecation warning on every successful AUTH (it sets the old
    ``login_data`` attribute itself); drop that one line, it is not ours to fix."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "login_data is deprecated" not in record.getMessage()


logging.getLogger("mail.log").addFilter(_LoginDataWarningFilter())


def format_peer(peer: Any) -> str:
    """``host:port`` for an IPv4 peer, ``[host]:port`` for IPv6, ``str()`` otherwise."""
    if isinstance(peer, tuple) and len(peer) >= 2:
        host, port = peer[0], peer[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return "" if peer is None else str(peer)


def _matches(pattern: str, address: str) -> bool:
    """Glob (``*@bad.example``) or, with a ``re:`` prefix, a full-match regex; both case-insensitive."""
    if pattern.startswith("re:"):
        return re.fullmatch(pattern[3:], address, re.IGNORECASE) is not None
    return fnmatch.fnmatchcase(address.casefold(), pattern.casefold())


@dataclass(frozen=True)
class RecipientPolicy:
    """Which recipients to refuse for good (5xx) or for the first N attempts (4xx).

    ``reject`` holds patterns; ``defer`` maps a pattern to how many RCPT attempts of a
    matching address are answered 4xx before it is accepted. Attempts are counted per
    address across connections and servers, so a client retrying in a new session sees
    the count go on, as it would with a greylisting server.
    """

    reject: tuple[str, ...] = ()
    defer: tuple[tuple[str, int], ...] = ()
    reject_reply: str = DEFAULT_REJECT_REPLY
    defer_reply: str = DEFAULT_DEFER_REPLY

    @classmethod
    def build(
        cls,
        reject: Iterable[str] = (),
        defer: Mapping[str, int] | None = None,
        reject_reply: str = DEFAULT_REJECT_REPLY,
        defer_reply: str = DEFAULT_DEFER_REPLY,
    ) -> RecipientPolicy:
        if isinstance(reject, str):
            reject = (reject,)
        if not reject_reply[:1] == "5" or not _REPLY.match(reject_reply):
            raise ValueError(f"reject_reply must be a 5xx SMTP reply, got {reject_reply!r}")
        if not defer_reply[:1] == "4" or not _REPLY.match(defer_reply):
            raise ValueError(f"defer_reply must be a 4xx SMTP reply, got {defer_reply!r}")
        pairs = tuple((str(p), int(n)) for p, n in (defer or {}).items())
        if any(n < 0 for _, n in pairs):
            raise ValueError("defer_recipients counts must be zero or more")
        return cls(tuple(reject), pairs, reject_reply, defer_reply)

    def decide(self, address: str, attempt: int) -> str | None:
        """The reply for this RCPT, or ``None`` to accept it."""
        for pattern in self.reject:
            if _matches(pattern, address):
                return self.reject_reply.format(address=address)
        for pattern, limit in self.defer:
            if _matches(pattern, address) and attempt <= limit:
                return self.defer_reply.format(address=address, attempt=attempt, limit=limit)
        return None


@dataclass(frozen=True)
class SMTPOptions:
    """Settings shared by the plain and the implicit-TLS SMTP servers."""

    users: Mapping[str, str] = field(default_factory=dict)
    policy: RecipientPolicy = field(default_factory=RecipientPolicy)
    require_starttls: bool = False
    auth_require_tls: bool = False
    auth_required: bool = False
    smtputf8: bool = True
    max_message_size: int | None = 10 * 1024 * 1024
    hostname: str = "localhost"
    timeout: float = 300.0
    oauth2_introspection_url: str | None = None
    #: AUTH and MAIL need a client certificate the TLS layer verified (see DevMail's client_ca_file).
    client_certificate_required: bool = False

    @property
    def offers_auth(self) -> bool:
        return bool(self.users) or bool(self.oauth2_introspection_url)


class _DevSMTP(SMTP):
    """aiosmtpd's SMTP, told whether its whole connection is TLS (SMTPS).

    aiosmtpd only knows about TLS that STARTTLS set up; on the implicit-TLS port the
    session must count as TLS from the start for the stored flag and for AUTH.
    """

    def __init__(self, handler: Any, *, implicit_tls: bool, **kwargs: Any) -> None:
        auth_require_tls = kwargs.pop("auth_require_tls", True)
        # Built as if TLS were required (the constructor warns about "AUTH without TLS"
        # otherwise), then relaxed on SMTPS, where every byte is already under TLS.
        super().__init__(handler, auth_require_tls=True, **kwargs)
        self._auth_require_tls = auth_require_tls and not implicit_tls
        self.implicit_tls = implicit_tls

    @property
    def is_tls(self) -> bool:
        return self.implicit_tls or self._tls_protocol is not None

    @property
    def lacks_client_certificate(self) -> bool:
        """A client certificate is required and this session presented none (or is not TLS)."""
        options: SMTPOptions = self.event_handler.options
        if not options.client_certificate_required:
            return False
        return not (self.is_tls and self.transport is not None and self.transport.get_extra_info("peercert"))

    async def smtp_AUTH(self, arg: str) -> None:  # noqa: N802 - aiosmtpd's name
        if self.lacks_client_certificate:
            await self.push(NO_CLIENT_CERTIFICATE)
            return
        await super().smtp_AUTH(arg)


class _Handler:
    """aiosmtpd hooks: EHLO advertising, MAIL/RCPT policy, storing DATA."""

    def __init__(self, store: MailStore, options: SMTPOptions, server_name: str) -> None:
        self.store = store
        self.options = options
        self.server_name = server_name

    async def handle_EHLO(
        self, server: _DevSMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if not self.options.offers_auth:
            # No users configured: AUTH would always fail, so do not offer it at all.
            responses = [r for r in responses if not r.startswith("250-AUTH")]
        return responses

    async def handle_MAIL(
        self, server: _DevSMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        if server.lacks_client_certificate:
            return NO_CLIENT_CERTIFICATE
        if not address.isascii() and not envelope.smtp_utf8:
            return "553 5.6.7 Non-ASCII sender address needs the SMTPUTF8 parameter"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(
        self, server: _DevSMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        attempt = self.store.next_attempt(address)
        if not address.isascii() and not envelope.smtp_utf8:
            reply = "553 5.6.7 Non-ASCII recipient address needs the SMTPUTF8 parameter"
        else:
            reply = self.options.policy.decide(address, attempt) or "250 2.1.5 OK"
        if reply.startswith("2"):
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(rcpt_options)
        self.store.record_decision(
            RecipientDecision(
                address=address,
                mail_from=envelope.mail_from or "",
                code=int(reply[:3]),
                reply=reply,
                attempt=attempt,
                peer=format_peer(session.peer),
                server=self.server_name,
                tls=server.is_tls,
                time=datetime.now(UTC),
            )
        )
        return reply

    async def handle_DATA(self, server: _DevSMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        auth_user = (
            session.auth_data if session.authenticated and isinstance(session.auth_data, str) else None
        )
        try:
            message = self.store.add(
                mail_from=envelope.mail_from or "",
                rcpt_tos=list(envelope.rcpt_tos),
                raw=raw,
                peer=format_peer(session.peer),
                tls=server.is_tls,
                auth_user=auth_user,
                smtp_utf8=bool(envelope.smtp_utf8),
                server=self.server_name,
            )
        except OSError as error:
            log.error("devmail: could not store a message: %s", error)
            return "451 4.3.0 Could not store the message, try again later"
        return f"250 2.0.0 OK: queued as {message.id}"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        """aiosmtpd ``authenticator``: PLAIN and LOGIN against the configured users."""
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        try:
            login = auth_data.login.decode("utf-8")
        except UnicodeDecodeError:
            return AuthResult(success=False, handled=False)
        expected = self.options.users.get(login)
        if expected is None:
            # Compare anyway, so a wrong user name costs the same time as a wrong password.
            hmac.compare_digest(auth_data.password, b"\0" * len(auth_data.password))
            return AuthResult(success=False, handled=False)
        if not hmac.compare_digest(auth_data.password, expected.encode("utf-8")):
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=login)


    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:  # noqa: N802 - aiosmtpd's name
        """XOAUTH2: the bearer token checked at the introspection endpoint (see ``_oauth``)."""
        url = self.options.oauth2_introspection_url
        if url is None:
            return AuthResult(success=False, handled=False)
        if len(args) == 1:
            blob = await server.challenge_auth("")
            if not isinstance(blob, bytes):
                return AuthResult(success=False, handled=True)
        else:
            try:
                blob = base64.b64decode(args[1].encode(), validate=True)
            except (ValueError, binascii.Error):
                await server.push("501 5.5.2 Can't decode base64")
                return AuthResult(success=False, handled=True)
        parsed = parse_xoauth2(blob)
        if parsed is None:
            await server.push("501 5.5.2 Malformed XOAUTH2 initial response")
            return AuthResult(success=False, handled=True)
        user, token = parsed
        owner = await asyncio.get_running_loop().run_in_executor(None, introspect, url, token)
        if owner is not None and owner.lower() == user.lower():
            return AuthResult(success=True, auth_data=user)
        await server.challenge_auth(ERROR_CHALLENGE)  # the client answers with an empty line
        return AuthResult(success=False, handled=False)


class _Controller(Controller):
    """aiosmtpd's threaded controller serving on a socket bound beforehand.

    The stock controller binds inside its thread and, on failure, only notices after its
    ready timeout; it also connects to ``self.port`` for its readiness check, which is
    useless for port 0. Binding first (see ``_net``) fixes both.
    """

    def __init__(self, handler: _Handler, *, implicit_tls: bool, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.implicit_tls = implicit_tls
        self.sock: socket.socket | None = None

    def factory(self) -> SMTP:
        return _DevSMTP(self.handler, implicit_tls=self.implicit_tls, **self.SMTP_kwargs)

    def _create_server(self) -> Any:
        assert self.sock is not None
        return self.loop.create_server(self._factory_invoker, sock=self.sock, ssl=self.ssl_context)


class SMTPServer:
    """One SMTP listener: plain (with STARTTLS when a TLS context is given) or implicit TLS."""

    def __init__(
        self,
        store: MailStore,
        options: SMTPOptions,
        *,
        host: str,
        port: int,
        tls_context: ssl.SSLContext | None,
        implicit_tls: bool = False,
        ready_timeout: float = 10.0,
    ) -> None:
        if implicit_tls and tls_context is None:
            raise ValueError("implicit TLS needs a TLS context")
        self.host = host
        self.requested_port = port
        self.implicit_tls = implicit_tls
        self.name = "smtps" if implicit_tls else "smtp"
        self.handler = _Handler(store, options, self.name)
        auth_kwargs: dict[str, Any] = {
            "authenticator": self.handler.authenticate,
            # On SMTPS the connection is TLS from the first byte; aiosmtpd does not know
            # that, so TLS-only AUTH must not be enforced by it there.
            "auth_require_tls": options.auth_require_tls and not implicit_tls,
            "auth_required": options.auth_required,
            "auth_exclude_mechanism": ([] if options.users else ["PLAIN", "LOGIN"])
            + ([] if options.oauth2_introspection_url else ["XOAUTH2"]),
        }
        tls_kwargs: dict[str, Any] = (
            {"ssl_context": tls_context}
            if implicit_tls
            else {
                "tls_context": tls_context,
                "require_starttls": options.require_starttls and tls_context is not None,
            }
        )
        self._controller = _Controller(
            self.handler,
            implicit_tls=implicit_tls,
            hostname=connect_host(host),
            port=port,
            ready_timeout=ready_timeout,
            server_hostname=options.hostname,
            ident="Postroom devmail ESMTP",
            enable_SMTPUTF8=options.smtputf8,
            data_size_limit=options.max_message_size,
            timeout=options.timeout,
            **auth_kwargs,
            **tls_kwargs,
        )
        self._started = False
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        """The bound port (the real one when 0 was asked for), once started."""
        return int(self._controller.port)

    def start(self) -> None:
        """Bind, start the loop thread and wait until a client gets a greeting."""
        with self._lock:
            if self._started:
                return
            sock = bind_listener(self.host, self.requested_port)
            self._controller.sock = sock
            self._controller.port = sock.getsockname()[1]
            try:
                self._controller.start()
            except BaseException:
                # A failed start may leave the loop thread running; never leak it.
                self._controller.stop(no_assert=True)
                sock.close()
                raise
            self._started = True

    def stop(self) -> None:
        """Stop the loop thread and close the listening socket; idempotent."""
        with self._lock:
            if not self._started:
                return
            self._controller.stop()
            if self._controller.sock is not None:
                self._controller.sock.close()
                self._controller.sock = None
            self._started = False
