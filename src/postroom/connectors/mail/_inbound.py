"""What reading mail over POP3 and IMAP shares: settings advice, TLS, login rules, error mapping.

The rules are the sending side's (``_smtp``; TLS in ``_tls.py``, error kinds in ``_errors.py``): implicit TLS with ``use_ssl`` (POP3S
995, IMAPS 993); STARTTLS/STLS with ``use_tls`` only, and a server that does not offer
it is an error, never a silent fall back to clear text; certificates and host names
verified unless ``verify_certificates`` is off (then a warning is logged every time);
a password is never sent in clear text unless ``allow_insecure_auth``.

Library errors are mapped here into :class:`ConnectionFailed` / :class:`AuthenticationFailed`
/ :class:`ConfigError` naming the setting to change. Which name that is depends on the
connection: ``inbound_use_ssl`` when the connection has its own inbound settings, else
``use_ssl`` (:class:`Fields`). No message contains a password or token: server texts pass
through :func:`redact` first.
"""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass

from ...errors import AuthenticationFailed, ConfigError, ConnectionFailed
from ._errors import classify, redact
from ._oauth import TokenSource
from ._tls import (
    cert_reason,
    client_certificate_advice,
    insecure_warning,
    refuses_for_certificate,
    ssl_context_for,
)
from .spec import InboundEndpoint, MailConnection

__all__ = ["Fields", "Inbound", "NotThisProtocol", "redact"]


class NotThisProtocol(ConnectionFailed):
    """The server answered with a greeting of no mail-reading protocol (an SMTP ``220``)."""

_NAMES = {"pop3": "POP3", "imap": "IMAP"}
_TLS_PORTS = {"pop3": 995, "imap": 993}
#: Login refusals that say "try again later", not "wrong password": IMAP's response codes
#: (RFC 5530) and POP3's (RFC 3206), as Dovecot gives them while its auth process is gone.
_TEMPORARY = re.compile(r"\[(UNAVAILABLE|INUSE|SYS/TEMP|IN-USE)\]", re.IGNORECASE)
_PLAIN_PORTS = {"pop3": 110, "imap": 143}


@dataclass(frozen=True)
class Fields:
    """The names of the settings that decide each inbound value (for advice in errors)."""

    host: str
    port: str
    use_ssl: str
    use_tls: str
    user_name: str
    password: str

    @classmethod
    def of(cls, conn: MailConnection) -> Fields:
        own = bool(conn.inbound_host)
        return cls(
            host="inbound_host" if own else "host",
            port="inbound_port" if own or conn.inbound_port else "port",
            use_ssl="inbound_use_ssl" if own or conn.inbound_use_ssl is not None else "use_ssl",
            use_tls="inbound_use_tls" if own or conn.inbound_use_tls is not None else "use_tls",
            user_name="inbound_user_name" if conn.inbound_user_name is not None else "user_name",
            password="inbound_password" if conn.inbound_password is not None else "password",
        )


class Inbound:
    """The reading side of one connection: endpoint, TLS context, login data, error mapping."""

    def __init__(self, connection: MailConnection) -> None:
        self.conn = connection
        self.endpoint: InboundEndpoint = connection.inbound()
        self.fields = Fields.of(connection)
        self.protocol = self.endpoint.protocol
        self.name = _NAMES[self.protocol]
        self._context: ssl.SSLContext | None = None
        self.xoauth2 = connection.uses_xoauth2 and bool(connection.access_token or connection.refresh_token
                                                        or connection.uses_client_credentials)
        self.tokens = TokenSource(connection) if self.xoauth2 else None
        self.secrets = [v for v in (self.endpoint.password, connection.access_token, connection.refresh_token,
                                    connection.client_secret, connection.client_certificate_key,
                                    connection.tls_client_key) if v and len(v) >= 3]

    def __repr__(self) -> str:
        return f"Inbound({self.address})"

    @property
    def address(self) -> str:
        return f"{self.name} {self.endpoint.host}:{self.endpoint.port}"

    @property
    def where(self) -> str:
        return f"{self.endpoint.host}:{self.endpoint.port}"

    def context(self) -> ssl.SSLContext:
        if self._context is None:
            self._context = ssl_context_for(self.conn)
        return self._context

    def insecure_warning(self) -> str | None:
        return insecure_warning(self.conn, self.address)

    # -- login rules ------------------------------------------------------------------------
    def check_login(self, tls: bool) -> None:
        """Refuse to log in without a user, without a password, or in clear text."""
        ep, f = self.endpoint, self.fields
        if not ep.user_name:
            raise ConfigError(f"reading mail over {self.name} needs a login, but {f.user_name} is blank",
                              field=f.user_name, fix=f"set {f.user_name} and {f.password}")
        if not self.xoauth2 and not ep.password:
            raise ConfigError(f"reading mail over {self.name} needs a password, but {f.password} is blank",
                              field=f.password, fix=f"set {f.password}: ${{secret:NAME}}")
        if not tls and not self.conn.allow_insecure_auth:
            raise ConfigError(
                f"refusing to send the password for {ep.user_name} in clear text to {self.address}",
                field=f.use_tls,
                fix=f"set {f.use_tls}: true (STARTTLS) or {f.use_ssl}: true with port {_TLS_PORTS[self.protocol]}, "
                "or allow_insecure_auth: true for a trusted local server",
            )

    def xoauth2_string(self) -> str:
        assert self.tokens is not None
        return f"user={self.endpoint.user_name}\x01auth=Bearer {self.tokens.token()}\x01\x01"

    def refused_login(self, said: str, mechanism: str) -> AuthenticationFailed | ConnectionFailed:
        """A login the server said no to: a refused password or token (not retryable), a
        refusal for want of a client certificate, or a temporary failure (a server whose auth
        process is stopping or starting), retryable."""
        said = redact(" ".join(said.split()), self.secrets)
        if refuses_for_certificate(said):
            return client_certificate_advice(self.conn, f"the {self.name} server {self.where}", said)
        if _TEMPORARY.search(said):
            return ConnectionFailed(
                f"the {self.name} server {self.where} could not check the login just now (server said: {said})",
                fix="nothing to change if it passes on the next try; otherwise check the server's authentication "
                "service", retryable=True)
        if mechanism == "xoauth2":
            return AuthenticationFailed(
                f"the {self.name} server {self.where} refused the OAuth 2.0 token for {self.endpoint.user_name} "
                f"(server said: {said})",
                fix=self.tokens.refused_hint() if self.tokens is not None else None,
            )
        return AuthenticationFailed(
            f"the {self.name} server {self.where} refused the user name or password for {self.endpoint.user_name}"
            f"; for Gmail, use an app password, not the account password (server said: {said})",
            field=self.fields.password,
        )

    # -- error mapping ------------------------------------------------------------------------
    def not_protocol(self, greeting: str) -> ConnectionFailed:
        """A greeting of another protocol: POP3 where IMAP was expected (or the reverse)
        says which to set; any other (SMTP's 220) is :class:`NotThisProtocol`."""
        greeting = redact(" ".join(greeting.split())[:120], self.secrets)
        other = "imap" if self.protocol == "pop3" else "pop3"
        looks = (greeting.startswith("* OK") and self.protocol == "pop3") or (
            greeting.startswith("+OK") and self.protocol == "imap")
        hint = (f"; it looks like {_NAMES[other]}: set inbound_protocol: {other}" if looks
                else "; check the port")
        kind = ConnectionFailed if looks else NotThisProtocol
        return kind(f"{self.where} answered {greeting!r}, which is not a {self.name} greeting{hint}",
                                field="inbound_protocol" if looks else self.fields.port, retryable=False)

    def no_starttls(self) -> ConnectionFailed:
        command = "STLS" if self.protocol == "pop3" else "STARTTLS"
        return ConnectionFailed(
            f"the {self.name} server {self.where} does not offer {command}; turn off {self.fields.use_tls} or use "
            f"port {_TLS_PORTS[self.protocol]} with {self.fields.use_ssl}: true",
            field=self.fields.use_tls, retryable=False,
        )

    def map(self, exc: BaseException, phase: str, *, connected: bool) -> Exception:
        """A library or socket error as one of ours, with the setting to change."""
        kind = classify(exc, phase, implicit_tls=self.endpoint.use_ssl,
                        closed=(EOFError, ConnectionResetError, BrokenPipeError))
        if kind == "closed" and self.endpoint.use_ssl:
            kind = "other"
        wording = getattr(self, "_" + kind.replace("-", "_"), None)
        if wording is not None:
            return wording(exc, phase, connected)
        if isinstance(exc, OSError):
            detail = exc.strerror or redact(str(exc), self.secrets) or type(exc).__name__
            return ConnectionFailed(f"the {self.name} session with {self.where} failed ({phase}): {detail}")
        detail = redact(str(exc), self.secrets) or type(exc).__name__
        return ConnectionFailed(f"the {self.name} session with {self.where} failed ({phase}): {detail}")

    def _certificate_host(self, exc: ssl.SSLCertVerificationError, phase: str, connected: bool) -> Exception:
        f = self.fields
        return ConnectionFailed(
            f"the certificate of {self.where} does not name the host {self.endpoint.host!r} ({cert_reason(exc)})",
            fix=f"set {f.host} to a name the certificate holds", field=f.host, retryable=False)

    def _certificate_untrusted(self, exc: ssl.SSLCertVerificationError, phase: str, connected: bool) -> Exception:
        return ConnectionFailed(
            f"the certificate of {self.address} is not trusted ({cert_reason(exc)})",
            fix="set trusted_ca_file to the PEM file of the CA that signed it, or point SSL_CERT_FILE at a "
            "bundle that holds it", field="trusted_ca_file", retryable=False)

    def _client_certificate(self, exc: BaseException, phase: str, connected: bool) -> Exception:
        return client_certificate_advice(self.conn, f"the {self.name} server {self.where}", exc)

    def _not_tls(self, exc: BaseException, phase: str, connected: bool) -> Exception:
        f, tls_port = self.fields, _TLS_PORTS[self.protocol]
        return ConnectionFailed(
            f"the {self.name} server at {self.where} does not speak TLS from the first byte ({f.use_ssl}); port "
            f"{self.endpoint.port} expects STARTTLS or plain {self.name}: set {f.use_ssl}: false and {f.use_tls}: "
            f"true, or use port {tls_port}", field=f.use_ssl, retryable=False)

    def _tls(self, exc: ssl.SSLError, phase: str, connected: bool) -> Exception:
        step = "after STARTTLS with" if phase == "starttls" else "with"
        # the peer closing mid-TLS (a server stopping) is a dropped connection, worth retrying;
        # any other TLS failure (versions, ciphers) will fail the same way next time
        dropped = isinstance(exc, ssl.SSLEOFError | ssl.SSLZeroReturnError)
        return ConnectionFailed(f"TLS {step} {self.address} failed: {getattr(exc, 'reason', None) or exc}", retryable=dropped)

    def _unknown_host(self, exc: OSError, phase: str, connected: bool) -> Exception:
        return ConnectionFailed(f"cannot find the host {self.endpoint.host!r}: {exc.strerror or exc}",
                                field=self.fields.host)

    def _refused(self, exc: BaseException, phase: str, connected: bool) -> Exception:
        f = self.fields
        return ConnectionFailed(
            f"{self.where} refused the connection ({self.name})",
            fix=f"check {f.host} and {f.port} ({_TLS_PORTS[self.protocol]} with {f.use_ssl}, "
            f"{_PLAIN_PORTS[self.protocol]} with {f.use_tls}) and that the server runs")

    def _timeout(self, exc: BaseException, phase: str, connected: bool) -> Exception:
        seconds = self.conn.timeout_seconds
        if phase == "connect" and connected and not self.endpoint.use_ssl:
            return ConnectionFailed(
                f"{self.where} accepted the connection but sent no {self.name} greeting within "
                f"{seconds:g} s; it probably expects TLS from the first byte (as port "
                f"{_TLS_PORTS[self.protocol]} does): set {self.fields.use_ssl}: true", field=self.fields.use_ssl)
        return ConnectionFailed(f"{self.address} did not answer within {seconds:g} s ({phase})",
                                fix="check host, port and firewalls, or raise timeout_seconds")

    def _closed(self, exc: BaseException, phase: str, connected: bool) -> Exception:
        return ConnectionFailed(
            f"{self.where} closed the connection before a {self.name} greeting; if it expects TLS from the first "
            f"byte (port {_TLS_PORTS[self.protocol]}), set {self.fields.use_ssl}: true", field=self.fields.use_ssl)
