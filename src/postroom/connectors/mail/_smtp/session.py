"""An SMTP session: connect (plain, STARTTLS or implicit TLS), log in (PLAIN/LOGIN in UTF-8,
XOAUTH2 with a refreshing token), and every library error mapped to a Postroom error.

Three transport modes, chosen by the connection:

* ``use_ssl``: implicit TLS from the first byte (SMTPS, Gmail's port 465). STARTTLS is
  then never sent, even with ``use_tls`` on: the session is already encrypted, and
  Gmail's story in CONTRACT.md sets both.
* ``use_tls`` only: a plain connect, then STARTTLS; a server that does not offer it is
  an error, never a silent fall back to clear text.
* neither: clear text; a password is refused unless ``allow_insecure_auth``.

Which kind of failure an error is comes from :func:`postroom.connectors.mail._errors.classify`
(shared with POP3 and IMAP); :data:`_WORDING` says it in SMTP's settings. No message built
here contains a password or token: server texts pass through ``redact`` first.
"""

from __future__ import annotations

import base64
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ....errors import AuthenticationFailed, ConfigError, ConnectionFailed
from .._errors import classify, redact, reply_text, secrets_of
from .._tls import cert_reason, client_certificate_advice, refuses_for_certificate, ssl_context_for
from ..spec import MailConnection
from .client import SMTP, SMTPS
from .wire import local_hostname

if TYPE_CHECKING:
    from .._oauth import TokenSource

__all__ = ["Opener", "Session"]


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


@dataclass
class Session:
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


class Opener:
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

    def open(self) -> Session:
        conn = self.conn
        host, port, timeout = conn.host, conn.smtp_port, conn.timeout_seconds
        smtp: SMTP | SMTPS
        if conn.use_ssl:
            smtp = SMTPS(host, local_hostname=local_hostname(), timeout=timeout, context=self.context())
        else:
            smtp = SMTP(host, local_hostname=local_hostname(), timeout=timeout)
        session = Session(smtp)
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
    def _login(self, session: Session) -> None:
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
        mechanism: str = conn.auth_mechanism
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

    def _refused(self, code: int, reply: bytes | str, mechanism: str) -> AuthenticationFailed | ConnectionFailed:
        conn = self.conn
        said = redact(f"{code} {reply_text(reply)}", self._secrets)
        if refuses_for_certificate(said):
            return client_certificate_advice(conn, f"the SMTP server at {conn.endpoint}", said)
        if mechanism == "xoauth2":
            return AuthenticationFailed(
                f"the server refused the OAuth 2.0 token for {conn.user_name} (server said: {said})",
                fix=self.tokens.refused_hint() if self.tokens is not None else None,
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


def _client_cert(conn: MailConnection, exc: BaseException, phase: str, connected: bool, secrets: list[str]
                 ) -> ConnectionFailed:
    return client_certificate_advice(conn, f"the SMTP server at {conn.endpoint}", exc)


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
    "certificate-host": _cert_host, "certificate-untrusted": _cert_untrusted, "client-certificate": _client_cert,
    "not-tls": _not_tls,
    "tls": _tls_failed, "unknown-host": _unknown_host, "refused": _refused, "timeout": _timeout,
    "closed": _closed, "unsupported": _unsupported,
}
