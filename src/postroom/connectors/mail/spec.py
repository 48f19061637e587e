"""The Mail connector's settings: one connection model, one operation model.

These two models are the single description of every field (DESIGN.md principle 1):
validation, the web form, the docs page and the CLI all read them. Field names follow
CONTRACT.md ("Mail connector").

``show_if`` conditions: a mapping of field name (as written in YAML) to a value or a
list of accepted values; the field shows when every entry holds.

Secret fields (``password``, tokens, client secret) accept any string: a literal, or a
``${secret:NAME}`` / ``${env:VAR}`` reference that the engine resolves before the
connector sees the settings. They are excluded from ``repr`` and validation errors
never echo input values, so a password cannot reach a log through this model.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from typing import Literal
from urllib.parse import urlsplit

from pydantic import ConfigDict, field_validator, model_validator

from ...sdk import Settings, setting
from ._headers import HeaderError, check_header_name
from .mime import AddressError, parse_addresses, parse_content_type

__all__ = ["MailConnection", "MailOperation", "InboundEndpoint"]

log = logging.getLogger("postroom.connectors.mail")

_HOST = re.compile(r"[A-Za-z0-9._:\[\]-]+\Z")

_INBOUND_PORTS = {("pop3", True): 995, ("pop3", False): 110, ("imap", True): 993, ("imap", False): 143}


@dataclass(frozen=True)
class InboundEndpoint:
    """Where a ``get`` reads mail, each value already fallen back to its outbound twin."""

    protocol: str
    host: str
    port: int
    use_ssl: bool
    use_tls: bool
    user_name: str
    password: str

    def __repr__(self) -> str:  # never show the password
        return (
            f"InboundEndpoint(protocol={self.protocol!r}, host={self.host!r}, port={self.port}, "
            f"use_ssl={self.use_ssl}, use_tls={self.use_tls}, user_name={self.user_name!r})"
        )


def _check_host(value: str, field: str) -> str:
    value = value.strip()
    if value and not _HOST.match(value):
        raise ValueError(f"{field} {value!r} is not a host name or IP address (no scheme, path or spaces)")
    return value


class MailConnection(Settings):
    """Where mail goes out (SMTP) and, for ``get``, comes in (POP3 or IMAP)."""

    model_config = ConfigDict(hide_input_in_errors=True)

    # -- server ------------------------------------------------------------------------------
    host: str = setting(
        title="Host",
        help="The mail server's host name, such as smtp.gmail.com.",
        group="Server",
        examples=["smtp.gmail.com"],
    )
    port: int | None = setting(
        None,
        title="Port",
        help="The server port. Blank picks the usual one: 465 with use_ssl, 587 with use_tls, else 25 "
        "(for reading mail: 995/110 for POP3, 993/143 for IMAP).",
        group="Server",
        ge=1,
        le=65535,
    )
    use_tls: bool = setting(
        True,
        title="Use TLS (STARTTLS)",
        help="Upgrade a plain connection to TLS with STARTTLS (port 587). Ignored when use_ssl already "
        "encrypts the session. On by default: turn it off only for a server that cannot do TLS.",
        group="Security",
    )
    use_ssl: bool = setting(
        False,
        title="Use SSL (implicit TLS)",
        help="Speak TLS from the first byte (SMTPS on port 465, POP3S 995, IMAPS 993). Gmail on 465 "
        "needs this.",
        group="Security",
    )
    timeout_seconds: float = setting(
        30.0, title="Timeout (seconds)", help="How long to wait for the server on each step.", group="Server", gt=0
    )
    trusted_ca_file: str = setting(
        "",
        title="Trusted CA file",
        help="A PEM file of CA certificates to trust in addition to the system's (and SSL_CERT_FILE's), "
        "for a server whose certificate a private CA signed.",
        group="Security",
    )
    verify_certificates: bool = setting(
        True,
        title="Verify certificates",
        help="Check the server's certificate and host name. Turning this off allows anyone on the network "
        "to read the mail and the password; Postroom logs a warning every time.",
        group="Security",
    )
    allow_insecure_auth: bool = setting(
        False,
        title="Allow login without TLS",
        help="Send the user name and password over an unencrypted connection. Only for a trusted local "
        "relay.",
        group="Security",
        show_if={"user_password_auth": True},
    )

    # -- login -------------------------------------------------------------------------------
    user_password_auth: bool = setting(
        False, title="Log in", help="Log in to the server (SMTP AUTH).", group="Login"
    )
    user_name: str = setting(
        "", title="User name", help="The account to log in as.", group="Login", show_if={"user_password_auth": True}
    )
    password: str = setting(
        "",
        title="Password",
        help="The password; for Gmail an app password. Write ${secret:NAME} to use a stored secret.",
        group="Login",
        secret=True,
        repr=False,
        show_if={"user_password_auth": True},
    )
    auth_mechanism: Literal["auto", "plain", "login", "xoauth2"] = setting(
        "auto",
        title="Login mechanism",
        help="auto picks XOAUTH2 when a token is set, else the best password mechanism the server "
        "offers (CRAM-MD5, PLAIN, LOGIN).",
        group="Login",
        show_if={"user_password_auth": True},
    )
    access_token: str = setting(
        "",
        title="OAuth 2.0 access token",
        help="A ready access token for XOAUTH2 (it expires: prefer a refresh token).",
        group="OAuth 2.0",
        secret=True,
        repr=False,
        show_if={"auth_mechanism": ["auto", "xoauth2"], "user_password_auth": True},
    )
    refresh_token: str = setting(
        "",
        title="OAuth 2.0 refresh token",
        help="Postroom exchanges it at token_url for access tokens, renewing them before they expire.",
        group="OAuth 2.0",
        secret=True,
        repr=False,
        show_if={"auth_mechanism": ["auto", "xoauth2"], "user_password_auth": True},
    )
    client_id: str = setting(
        "",
        title="OAuth 2.0 client id",
        help="The client id the refresh token was issued to.",
        group="OAuth 2.0",
        show_if={"auth_mechanism": ["auto", "xoauth2"], "user_password_auth": True},
    )
    client_secret: str = setting(
        "",
        title="OAuth 2.0 client secret",
        help="The client secret, when the provider requires one.",
        group="OAuth 2.0",
        secret=True,
        repr=False,
        show_if={"auth_mechanism": ["auto", "xoauth2"], "user_password_auth": True},
    )
    token_url: str = setting(
        "",
        title="OAuth 2.0 token URL",
        help="Where refresh tokens are exchanged, such as https://oauth2.googleapis.com/token.",
        group="OAuth 2.0",
        show_if={"auth_mechanism": ["auto", "xoauth2"], "user_password_auth": True},
    )

    # -- limits ------------------------------------------------------------------------------
    max_sessions: int = setting(
        2,
        title="Sessions",
        help="How many SMTP sessions Postroom keeps open to this server at most; sessions are reused "
        "across documents.",
        group="Limits",
        ge=1,
        le=100,
    )
    max_messages_per_minute: int = setting(
        0,
        title="Messages per minute",
        help="Send at most this many emails a minute, evenly spaced (0: no limit). Providers limit "
        "bulk sending; Gmail allows a few hundred a day on ordinary accounts.",
        group="Limits",
        ge=0,
    )
    max_retries: int = setting(
        3,
        title="Retries",
        help="How often to retry an email the server deferred (4xx) or a session that dropped.",
        group="Limits",
        ge=0,
        le=10,
    )
    retry_delay_seconds: float = setting(
        1.0,
        title="First retry delay (seconds)",
        help="The wait before the first retry; it doubles with each retry (at most 60 seconds).",
        group="Limits",
        ge=0,
    )

    # -- reading mail (issue 4) -------------------------------------------------------------
    inbound_protocol: Literal["pop3", "imap"] = setting(
        "pop3",
        title="Protocol for reading",
        help="How a get operation reads mail: POP3 (the default, as in Boomi) or IMAP.",
        group="Reading mail",
    )
    inbound_host: str = setting(
        "",
        title="Inbound host",
        help="The POP3 or IMAP server, when this connection both sends and reads. Blank: host and port "
        "are used for reading too.",
        group="Reading mail",
    )
    inbound_port: int | None = setting(
        None,
        title="Inbound port",
        help="Blank: 995 (POP3) or 993 (IMAP) with SSL, else 110 or 143.",
        group="Reading mail",
        ge=1,
        le=65535,
    )
    inbound_use_ssl: bool | None = setting(
        None, title="Inbound: use SSL", help="Blank: the value of use_ssl.", group="Reading mail"
    )
    inbound_use_tls: bool | None = setting(
        None, title="Inbound: use TLS", help="Blank: the value of use_tls.", group="Reading mail"
    )
    inbound_user_name: str | None = setting(
        None, title="Inbound user name", help="Blank: the value of user_name.", group="Reading mail"
    )
    inbound_password: str | None = setting(
        None,
        title="Inbound password",
        help="Blank: the value of password.",
        group="Reading mail",
        secret=True,
        repr=False,
    )

    # -- validation --------------------------------------------------------------------------
    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        value = _check_host(value, "host")
        if not value:
            raise ValueError("host is required, such as smtp.gmail.com")
        return value

    @field_validator("inbound_host")
    @classmethod
    def _inbound_host(cls, value: str) -> str:
        return _check_host(value, "inbound_host")

    @field_validator("token_url")
    @classmethod
    def _token_url(cls, value: str) -> str:
        if not value:
            return value
        parts = urlsplit(value)
        local = parts.hostname in ("localhost", "127.0.0.1", "::1")
        if parts.scheme != "https" and not (parts.scheme == "http" and local):
            raise ValueError("token_url must be an https:// URL (the client secret travels in the request)")
        return value

    @model_validator(mode="after")
    def _login_needs(self) -> MailConnection:
        if not self.user_password_auth:
            return self
        if not self.user_name:
            raise ValueError("user_password_auth is on but user_name is blank: set user_name")
        if self.uses_xoauth2:
            if not (self.access_token or (self.refresh_token and self.client_id and self.token_url)):
                raise ValueError(
                    "auth_mechanism xoauth2 needs access_token, or refresh_token with client_id and token_url"
                )
        elif not self.password:
            raise ValueError("user_password_auth is on but password is blank: set password (${secret:NAME})")
        if not (self.use_ssl or self.use_tls) and not self.allow_insecure_auth:
            raise ValueError(
                "logging in without TLS would send the password in clear text: set use_tls: true "
                "(STARTTLS, port 587) or use_ssl: true (port 465), or allow_insecure_auth: true for a "
                "trusted local relay"
            )
        return self

    # -- derived values ----------------------------------------------------------------------
    @property
    def uses_xoauth2(self) -> bool:
        """True when login is by OAuth 2.0 token (explicitly, or ``auto`` with a token set)."""
        if self.auth_mechanism == "xoauth2":
            return True
        return self.auth_mechanism == "auto" and bool(self.access_token or self.refresh_token)

    @property
    def smtp_port(self) -> int:
        """The port to send on: ``port``, else 465 with use_ssl, 587 with use_tls, else 25."""
        if self.port:
            return self.port
        return 465 if self.use_ssl else 587 if self.use_tls else 25

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.smtp_port}"

    def inbound(self) -> InboundEndpoint:
        """The reading side: inbound_* settings, each falling back to its outbound twin."""
        protocol = self.inbound_protocol
        use_ssl = self.use_ssl if self.inbound_use_ssl is None else self.inbound_use_ssl
        use_tls = self.use_tls if self.inbound_use_tls is None else self.inbound_use_tls
        if self.inbound_host:
            host, port = self.inbound_host, self.inbound_port
        else:
            host, port = self.host, self.inbound_port or self.port
        return InboundEndpoint(
            protocol=protocol,
            host=host,
            port=port or _INBOUND_PORTS[(protocol, use_ssl)],
            use_ssl=use_ssl,
            use_tls=use_tls,
            user_name=self.user_name if self.inbound_user_name is None else self.inbound_user_name,
            password=self.password if self.inbound_password is None else self.inbound_password,
        )


def _check_address_list(value: str, field: str) -> str:
    try:
        parse_addresses(value)
    except AddressError as exc:
        raise ValueError(f"{field}: {exc}") from None
    return value


class MailOperation(Settings):
    """What to do with a Mail connection: send each document as an email, or (issue 4) get mail."""

    action: Literal["send", "get"] = setting(
        "send", title="Action", help="send: each document becomes an email. get: read mail.", group="Action"
    )

    # -- send --------------------------------------------------------------------------------
    from_: str = setting(
        "",
        alias="from",
        title="From",
        help="The sender, such as Clinic <clinic@example.com>. mail.from_address overrides it per document.",
        group="Addresses",
        show_if={"action": "send"},
    )
    to: str = setting(
        "",
        title="To",
        help="Recipients, separated by ; or ,. Blank: they come from mail.to_address on each document.",
        group="Addresses",
        show_if={"action": "send"},
    )
    cc: str = setting(
        "",
        title="Cc",
        help="Copy recipients (everyone sees them). mail.cc_address overrides it.",
        group="Addresses",
        show_if={"action": "send"},
    )
    bcc: str = setting(
        "",
        title="Bcc",
        help="Blind copy recipients: they get the email, no header names them. mail.bcc_address overrides it.",
        group="Addresses",
        show_if={"action": "send"},
    )
    reply_to: str = setting(
        "",
        title="Reply-To",
        help="Where replies go, when not to the sender. mail.reply_to_address overrides it.",
        group="Addresses",
        show_if={"action": "send"},
    )
    subject: str = setting(
        "",
        title="Subject",
        help="The subject line. mail.subject overrides it per document.",
        group="Content",
        show_if={"action": "send"},
    )
    disposition: Literal["inline", "attachment"] = setting(
        "inline",
        title="Disposition",
        help="send: inline makes the document the body; attachment attaches it, with mail.body as the "
        "body. get: inline makes the body the document; attachment makes each attachment one.",
        group="Content",
    )
    attachment_content_type: str = setting(
        "text/plain",
        title="Document content type",
        help="The type of the document data, inline or attached: text/plain, text/html, text/xml, "
        "application/xml, application/octet-stream (application/binary), application/edifact, "
        "application/edi-x12, or any type/subtype. Text is sent as UTF-8 unless a charset is given.",
        group="Content",
        show_if={"action": "send"},
    )
    body_content_type: str = setting(
        "text/plain",
        title="Body content type",
        help="The type of mail.body when the disposition is attachment (text/plain or text/html).",
        group="Content",
        show_if={"action": "send", "disposition": "attachment"},
    )
    file_name: str = setting(
        "",
        title="Attachment file name",
        help="The attachment's name when mail.file_name is not set. Blank: a name from the time, the "
        "document number and the type, such as 20261123-101500-3.txt.",
        group="Content",
        show_if={"action": "send", "disposition": "attachment"},
    )
    headers: dict[str, str] = setting(
        {},
        title="Custom headers",
        help="Extra header lines for every email, name: value (such as X-Campaign: retirement-2026). "
        "mail.headers.NAME set on a document (Set Properties) adds or overrides one; a blank value drops it. "
        "From, To, Cc, Bcc, Subject, Date, Message-ID, MIME-Version, Reply-To, Sender, Content-*, Resent-*, "
        "Return-Path, Received, DKIM-Signature and other server headers cannot be set.",
        group="Content",
        show_if={"action": "send"},
    )
    one_email_per_recipient: bool = setting(
        False,
        title="One email per recipient",
        help="Send a separate email to each To address, so recipients never see each other. Cc and Bcc "
        "recipients get every one of those emails.",
        group="Addresses",
        show_if={"action": "send"},
    )

    # -- get (issue 4) -----------------------------------------------------------------------
    from_address: str = setting(
        "",
        title="From filter",
        help="Read only mail from this address. Blank: all mail.",
        group="Reading",
        show_if={"action": "get"},
    )
    delete_after_read: bool = setting(
        False,
        title="Delete after reading",
        help="Delete each message once the execution that read it has succeeded (POP3 and IMAP).",
        group="Reading",
        show_if={"action": "get"},
    )
    folder: str = setting(
        "INBOX", title="Folder", help="IMAP: the folder to read.", group="Reading", show_if={"action": "get"}
    )
    unread_only: bool = setting(
        True, title="Unread only", help="IMAP: read only unseen messages.", group="Reading", show_if={"action": "get"}
    )
    mark_as_read: bool = setting(
        True,
        title="Mark as read",
        help="IMAP: flag messages as seen once their documents are stored.",
        group="Reading",
        show_if={"action": "get"},
    )
    move_to_folder: str = setting(
        "",
        title="Move to folder",
        help="IMAP: move messages here once their documents are stored. Blank: leave them.",
        group="Reading",
        show_if={"action": "get"},
    )
    max_messages: int = setting(
        0,
        title="Messages per run",
        help="Read at most this many messages in one execution (0: all).",
        group="Reading",
        ge=0,
        show_if={"action": "get"},
    )
    body: Literal["text", "html", "both"] = setting(
        "text",
        title="Body",
        help="disposition inline: which body becomes the document. text: the plain-text body (the HTML one "
        "when a message has no other); html: the HTML body (else the text one); both: one document for each "
        "that the message has. Bodies are delivered as UTF-8; mail.content_type says which one a document is.",
        group="Reading",
        show_if={"action": "get", "disposition": "inline"},
    )
    subject_filter: str = setting(
        "",
        title="Subject filter",
        help="Read only mail whose subject contains this text (case-blind; IMAP searches on the server). "
        "Blank: any subject.",
        group="Reading",
        show_if={"action": "get"},
    )
    since: date | None = setting(
        None,
        title="Received since",
        help="Read only mail received on or after this date (YYYY-MM-DD; IMAP searches on the server). "
        "Blank: any date.",
        group="Reading",
        show_if={"action": "get"},
    )
    start_from: Literal["now", "all", "date"] = setting(
        "now",
        title="First run takes",
        help="What the first run on a mailbox takes. now: only mail that arrives from then on (the mail "
        "already there is left alone, and the log says how much); all: every message already there; date: "
        "the messages received on or after start_date. Later runs take what arrived since the last one.",
        group="Reading",
        show_if={"action": "get"},
    )
    start_date: date | None = setting(
        None,
        title="Start date",
        help="With start_from: date, the first run takes the mail received on or after this date (YYYY-MM-DD).",
        group="Reading",
        show_if={"action": "get", "start_from": "date"},
    )

    commit_failed_messages: bool = setting(
        False,
        title="Commit failed messages",
        help="Also delete, move or mark as read (and pass by the watermark) a message some of whose documents "
        "failed later in the process. Off (the default): such a message stays on the server as it was and "
        "the next run reads it again; the other messages are committed.",
        group="Reading",
        show_if={"action": "get"},
    )
    max_mime_depth: int = setting(
        50,
        title="Deepest MIME nesting",
        help="A message whose multiparts nest deeper than this fails alone as broken (it stays on the server).",
        group="Limits",
        ge=1,
        le=200,
        show_if={"action": "get"},
    )
    max_header_fields: int = setting(
        1000,
        title="Most header fields",
        help="A message (or one of its parts) with more header fields than this fails alone as broken.",
        group="Limits",
        ge=10,
        show_if={"action": "get"},
    )
    max_header_bytes: int = setting(
        1024 * 1024,
        title="Most header bytes",
        help="A message (or one of its parts) whose header fields take more bytes than this fails alone as "
        "broken.",
        group="Limits",
        ge=1024,
        show_if={"action": "get"},
    )

    @field_validator("from_", "to", "cc", "bcc", "reply_to", "from_address")
    @classmethod
    def _addresses(cls, value: str, info) -> str:  # noqa: ANN001 - pydantic's ValidationInfo
        field = "from" if info.field_name == "from_" else info.field_name
        return _check_address_list(value, field)

    @field_validator("from_")
    @classmethod
    def _one_sender(cls, value: str) -> str:
        if len(parse_addresses(value)) > 1:
            raise ValueError("from holds more than one address: write one sender")
        return value

    @model_validator(mode="after")
    def _start_date_needed(self) -> MailOperation:
        if self.action == "get" and self.start_from == "date" and self.start_date is None:
            raise ValueError("start_from is date but start_date is blank: set start_date (YYYY-MM-DD)")
        return self

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        seen: set[str] = set()
        for name, text in value.items():
            try:
                check_header_name(name)
            except HeaderError as exc:
                raise ValueError(f"headers: {exc}") from None
            if name.lower() in seen:
                raise ValueError(f"headers: {name} is given twice (header names compare case-blind)")
            seen.add(name.lower())
            if re.search(r"[\x00-\x1f\x7f\x85\u2028\u2029]", text):
                raise ValueError(f"headers: the value of {name} must be one line of text (it holds a line break "
                                 "or another control character)")
        return value

    @field_validator("attachment_content_type", "body_content_type")
    @classmethod
    def _content_type(cls, value: str) -> str:
        return str(parse_content_type(value))

    @field_validator("subject", "file_name", "subject_filter")
    @classmethod
    def _one_line(cls, value: str, info) -> str:  # noqa: ANN001 - pydantic's ValidationInfo
        if re.search(r"[\r\n]", value):
            raise ValueError(f"{info.field_name} must be one line (it holds a line break)")
        return value
