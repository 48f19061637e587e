"""The Mail connection's settings (see :mod:`.spec`, which re-exports them): where and
how to reach the SMTP server and the POP3/IMAP server, with the login and the limits."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from pydantic import ConfigDict, ValidationInfo, field_validator, model_validator

from ...sdk import Settings, setting, setting_error
from ._client_credentials_spec import check_certificate_settings, check_client_credentials
from ._dkim import DkimSigner, load_key

__all__ = ["InboundEndpoint", "MailConnection"]

_HOST = re.compile(r"[A-Za-z0-9._:\[\]-]+\Z")
_DNS_NAME = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_-]*)(\.[A-Za-z0-9_-]+)*\Z")

#: The scope of Exchange Online's SMTP, IMAP and POP for an application's own token.
DEFAULT_SCOPE = "https://outlook.office365.com/.default"
MICROSOFT_TOKEN_URL = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
_TENANT = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]*\Z")

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
        title="Use TLS?",
        help="Upgrade a plain connection to TLS with STARTTLS (port 587). Ignored when use_ssl already "
        "encrypts the session. On by default: turn it off only for a server that cannot do TLS.",
        group="Security",
    )
    use_ssl: bool = setting(
        False,
        title="Use SSL?",
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
    tls_client_certificate: str = setting(
        "",
        title="Client Certificate",
        help="A certificate Postroom presents to the server on every TLS connection (SMTP, POP3, IMAP), "
        "for a server that requires client certificates (mutual TLS): the PEM text (any chain certificates "
        "after it) or the path of a PEM file. Blank: none.",
        group="Security", advanced=True,
    )
    tls_client_key: str = setting(
        "",
        title="Client Certificate Key",
        help="The client certificate's private key in PEM (unencrypted), as ${secret:NAME}, or the path of "
        "its PEM file.",
        group="Security", advanced=True,
        secret=True,
        repr=False,
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
        False, title="User/Password Authorization?", help="Log in to the server (SMTP AUTH).", group="Login"
    )
    user_name: str = setting(
        "", title="User Name", help="The account to log in as.", group="Login", show_if={"user_password_auth": True}
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
        "offers (CRAM-MD5, PLAIN, LOGIN). Choose xoauth2 to fill in the OAuth 2.0 fields.",
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
        show_if={"auth_mechanism": "xoauth2", "user_password_auth": True},
    )
    refresh_token: str = setting(
        "",
        title="OAuth 2.0 refresh token",
        help="Postroom exchanges it at token_url for access tokens, renewing them before they expire.",
        group="OAuth 2.0",
        secret=True,
        repr=False,
        show_if={"auth_mechanism": "xoauth2", "user_password_auth": True},
    )
    oauth2_grant_type: Literal["refresh_token", "client_credentials"] = setting(
        "refresh_token",
        title="Grant Type",
        help="refresh_token: exchange refresh_token for access tokens (Gmail, a signed-in user). "
        "client_credentials: the application signs in as itself with a client secret or certificate "
        "(Microsoft 365 / Exchange Online, no user present).",
        group="OAuth 2.0",
        show_if={"auth_mechanism": "xoauth2", "user_password_auth": True},
        enum_titles=("Refresh Token", "Client Credentials (Microsoft 365)"),
    )
    tenant: str = setting(
        "",
        title="Tenant (Directory) ID",
        help="The Microsoft Entra tenant: the Directory (tenant) ID GUID from the app registration's "
        "overview, or a domain such as contoso.onmicrosoft.com. Sets the token URL to "
        "https://login.microsoftonline.com/TENANT/oauth2/v2.0/token.",
        group="OAuth 2.0",
        examples=["contoso.onmicrosoft.com"],
        show_if={"auth_mechanism": "xoauth2", "user_password_auth": True, "oauth2_grant_type": "client_credentials"},
    )
    client_id: str = setting(
        "",
        title="Client ID",
        help="The application (client) ID: the app registration's for client credentials, or the one the "
        "refresh token was issued to.",
        group="OAuth 2.0",
        show_if={"auth_mechanism": "xoauth2", "user_password_auth": True},
    )
    client_secret: str = setting(
        "",
        title="Client Secret",
        help="The client secret's Value (not its Secret ID), as ${secret:NAME}. For client credentials give "
        "either this or a client certificate.",
        group="OAuth 2.0",
        secret=True,
        repr=False,
        show_if={"auth_mechanism": "xoauth2", "user_password_auth": True},
    )
    client_certificate: str = setting(
        "",
        title="Client Assertion Certificate",
        help="Sign in with a certificate instead of a client secret: the certificate uploaded to the app "
        "registration (Certificates & secrets), in PEM or the path of a PEM file.",
        group="OAuth 2.0",
        show_if={"auth_mechanism": "xoauth2", "user_password_auth": True, "oauth2_grant_type": "client_credentials"},
    )
    client_certificate_key: str = setting(
        "",
        title="Client Assertion Private Key",
        help="The private key of client_certificate (RSA, PEM, unencrypted), as ${secret:NAME}; Postroom signs "
        "each token request with it (RS256).",
        group="OAuth 2.0",
        secret=True,
        repr=False,
        show_if={"auth_mechanism": "xoauth2", "user_password_auth": True, "oauth2_grant_type": "client_credentials"},
    )
    scope: str = setting(
        DEFAULT_SCOPE,
        title="Scope",
        help="What the client-credentials token is for: https://outlook.office365.com/.default for Exchange "
        "Online SMTP, IMAP and POP.",
        group="OAuth 2.0",
        show_if={"auth_mechanism": "xoauth2", "user_password_auth": True, "oauth2_grant_type": "client_credentials"},
    )
    token_url: str = setting(
        "",
        title="Token URL",
        help="Where tokens are requested, such as https://oauth2.googleapis.com/token. Blank with a tenant: "
        "Microsoft's endpoint for that tenant.",
        group="OAuth 2.0",
        show_if={"auth_mechanism": "xoauth2", "user_password_auth": True},
    )

    # -- limits ------------------------------------------------------------------------------
    max_sessions: int = setting(
        2,
        title="Sessions",
        help="How many SMTP sessions Postroom keeps open to this server at most; sessions are reused "
        "across documents.",
        group="Limits", advanced=True,
        ge=1,
        le=100,
    )
    max_messages_per_minute: int = setting(
        0,
        title="Messages per minute",
        help="Send at most this many emails a minute, evenly spaced (0: no limit). Providers limit "
        "bulk sending; Gmail allows a few hundred a day on ordinary accounts.",
        group="Limits", advanced=True,
        ge=0,
    )
    max_retries: int = setting(
        3,
        title="Retries",
        help="How often to retry an email the server deferred (4xx) or a session that dropped.",
        group="Limits", advanced=True,
        ge=0,
        le=10,
    )
    retry_delay_seconds: float = setting(
        1.0,
        title="First retry delay (seconds)",
        help="The wait before the first retry; it doubles with each retry (at most 60 seconds).",
        group="Limits", advanced=True,
        ge=0,
    )

    # -- reading mail (issue 4) -------------------------------------------------------------
    inbound_protocol: Literal["pop3", "imap"] = setting(
        "pop3",
        title="Protocol for reading",
        help="How a get operation reads mail: POP3 (the default, as in Boomi) or IMAP.",
        group="Reading mail", advanced=True,
    )
    inbound_host: str = setting(
        "",
        title="Inbound host",
        help="The POP3 or IMAP server, when this connection both sends and reads. Blank: host and port "
        "are used for reading too.",
        group="Reading mail", advanced=True,
    )
    inbound_port: int | None = setting(
        None,
        title="Inbound port",
        help="Blank: 995 (POP3) or 993 (IMAP) with SSL, else 110 or 143.",
        group="Reading mail", advanced=True,
        ge=1,
        le=65535,
    )
    inbound_use_ssl: bool | None = setting(
        None, title="Inbound: use SSL", help="Blank: the value of use_ssl.", group="Reading mail", advanced=True
    )
    inbound_use_tls: bool | None = setting(
        None, title="Inbound: use TLS", help="Blank: the value of use_tls.", group="Reading mail", advanced=True
    )
    inbound_user_name: str | None = setting(
        None, title="Inbound user name", help="Blank: the value of user_name.", group="Reading mail", advanced=True
    )
    inbound_password: str | None = setting(
        None,
        title="Inbound password",
        help="Blank: the value of password.",
        group="Reading mail", advanced=True,
        secret=True,
        repr=False,
    )

    # -- DKIM signing (issue 12) --------------------------------------------------------------
    dkim_domain: str = setting(
        "",
        title="DKIM domain",
        help="Sign every sent email with DKIM for this domain (d=), such as clinic.example; it should be "
        "the From address's domain (Gmail and Yahoo check that they align). Blank: no signing (many relays "
        "sign for you).",
        group="DKIM signing", advanced=True,
    )
    dkim_selector: str = setting(
        "",
        title="DKIM selector",
        help="The selector (s=): the public key is published as SELECTOR._domainkey.DOMAIN.",
        group="DKIM signing", advanced=True,
    )
    dkim_algorithm: Literal["rsa-sha256", "ed25519-sha256"] = setting(
        "rsa-sha256",
        title="DKIM algorithm",
        help="rsa-sha256 (every receiver checks it) or ed25519-sha256 (RFC 8463; sign with both keys on "
        "two connections if you need both).",
        group="DKIM signing", advanced=True,
    )
    dkim_private_key: str = setting(
        "",
        title="DKIM private key",
        help="The private key in PEM (RSA, 2048 bits; or Ed25519, also raw base64). Write "
        "${secret:NAME} to use a stored secret; postroom mail dkim-record prints the DNS record to publish.",
        group="DKIM signing", advanced=True,
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

    @field_validator("tenant")
    @classmethod
    def _tenant(cls, value: str) -> str:
        value = value.strip()
        if value.lower() in ("common", "organizations", "consumers"):
            raise ValueError(f"tenant {value!r} names no single directory, and client credentials need one: "
                             "give the Directory (tenant) ID or a domain such as contoso.onmicrosoft.com")
        if value and not _TENANT.match(value):
            raise ValueError("tenant must be the Directory (tenant) ID (a GUID) or a domain such as "
                             "contoso.onmicrosoft.com, without https:// or slashes")
        return value

    @model_validator(mode="after")
    def _certificates(self) -> MailConnection:
        pairs = (("tls_client_certificate", "tls_client_key"), ("client_certificate", "client_certificate_key"))
        for cert_field, key_field in pairs:
            check_certificate_settings(getattr(self, cert_field), getattr(self, key_field), cert_field, key_field)
        return self

    @field_validator("dkim_domain", "dkim_selector")
    @classmethod
    def _dkim_name(cls, value: str, info: ValidationInfo) -> str:
        value = value.strip().rstrip(".")
        if value and not _DNS_NAME.match(value):
            raise ValueError(f"{info.field_name} {value!r} is not a DNS name (letters, digits, '-' and dots)")
        return value

    @field_validator("dkim_private_key")
    @classmethod
    def _dkim_key(cls, value: str, info: ValidationInfo) -> str:
        if value.strip():
            load_key(value, info.data.get("dkim_algorithm", "rsa-sha256"))  # DkimKeyError is a ValueError
        return value

    @model_validator(mode="after")
    def _dkim_needs(self) -> MailConnection:
        given = {name: bool(getattr(self, name)) for name in ("dkim_domain", "dkim_selector", "dkim_private_key")}
        if any(given.values()) and not all(given.values()):
            missing = ", ".join(name for name, ok in given.items() if not ok)
            raise ValueError(f"DKIM signing needs dkim_domain, dkim_selector and dkim_private_key: set {missing} "
                             "(or clear the others to send unsigned)")
        return self

    @model_validator(mode="after")
    def _login_needs(self) -> MailConnection:
        if not self.user_password_auth:
            return self
        if not self.user_name:
            raise setting_error("user_name", "user_password_auth is on but user_name is blank",
                                fix="set user_name (the login, often the mail address)")
        if self.uses_client_credentials:
            check_client_credentials(self)
        elif self.uses_xoauth2:
            if not (self.access_token or (self.refresh_token and self.client_id and self.token_url)):
                raise setting_error("access_token", "auth_mechanism xoauth2 needs access_token, "
                                    "or refresh_token with client_id and token_url",
                                    fix="set access_token, or refresh_token, client_id and token_url "
                                        "(or oauth2_grant_type: client_credentials for Microsoft 365)")
        elif not self.password:
            raise setting_error("password", "user_password_auth is on but password is blank",
                                fix="set password (${secret:NAME})")
        if not (self.use_ssl or self.use_tls) and not self.allow_insecure_auth:
            raise setting_error(
                "use_tls", "logging in without TLS would send the password in clear text",
                fix="set use_tls: true (STARTTLS, port 587) or use_ssl: true (port 465), or "
                    "allow_insecure_auth: true for a trusted local relay")
        return self

    # -- derived values ----------------------------------------------------------------------
    @property
    def uses_xoauth2(self) -> bool:
        """True when login is by OAuth 2.0 token (explicitly, or ``auto`` with a token set)."""
        if self.auth_mechanism == "xoauth2":
            return True
        return self.auth_mechanism == "auto" and bool(self.access_token or self.refresh_token
                                                      or self.oauth2_grant_type == "client_credentials")

    @property
    def uses_client_credentials(self) -> bool:
        """True when XOAUTH2 tokens come from the client-credentials grant (Microsoft 365)."""
        return self.uses_xoauth2 and self.oauth2_grant_type == "client_credentials"

    @property
    def oauth2_token_url(self) -> str:
        """token_url, else Microsoft's token endpoint of ``tenant`` (blank without either)."""
        if self.token_url or not self.tenant:
            return self.token_url
        return MICROSOFT_TOKEN_URL.format(tenant=self.tenant)

    @property
    def smtp_port(self) -> int:
        """The port to send on: ``port``, else 465 with use_ssl, 587 with use_tls, else 25."""
        if self.port:
            return self.port
        return 465 if self.use_ssl else 587 if self.use_tls else 25

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.smtp_port}"

    def dkim_signer(self) -> DkimSigner | None:
        """The signer of every sent email, or None when DKIM is off (the key checked here)."""
        if not self.dkim_domain:
            return None
        return DkimSigner(self.dkim_domain, self.dkim_selector, load_key(self.dkim_private_key, self.dkim_algorithm))

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
