"""The Mail connection's checks of client certificates (mTLS, and the certificate of a
client assertion) and of OAuth 2.0 client credentials (Microsoft 365), kept out of
``_connection_spec.py`` so that model stays a list of fields.

Each check raises :func:`~postroom.sdk.setting_error` at the field to change, with the fix;
no message quotes a value (a key is a secret). ``${secret:NAME}`` and ``${env:VAR}``
references are left for run time, when they are resolved.
"""

from __future__ import annotations

from typing import Protocol

from ...errors import ConfigError
from ...sdk import setting_error


class ClientCredentials(Protocol):
    """What the check reads of a mail connection (``MailConnection`` has these; named here so
    this module needs nothing of the connection's own)."""

    client_id: str
    client_secret: str
    client_certificate: str
    scope: str

    @property
    def oauth2_token_url(self) -> str: ...

__all__ = ["check_certificate_settings", "check_client_credentials"]


def _reference(value: str) -> bool:
    return value.lstrip().startswith("${")


def check_certificate_settings(cert: str, key: str, cert_field: str, key_field: str) -> None:
    """Both or neither; PEM text given in place parses, and the key is the certificate's."""
    if bool(cert.strip()) != bool(key.strip()):
        missing, given = (key_field, cert_field) if cert.strip() else (cert_field, key_field)
        raise setting_error(missing, f"{given} is set but {missing} is blank",
                            fix=f"set {missing} too (or clear {given})")
    if not cert.strip():
        return
    from ._client_certs import check_pair, is_pem, load_certificates, load_private_key  # x509: only when set

    try:
        certificate = load_certificates(cert, cert_field)[0] if is_pem(cert) and not _reference(cert) else None
        private = load_private_key(key, key_field) if is_pem(key) and not _reference(key) else None
        if certificate is not None and private is not None:
            check_pair(certificate, private, cert_field, key_field)
    except ConfigError as exc:
        raise setting_error(exc.field or cert_field, exc.message, fix=exc.fix) from None


def check_client_credentials(conn: ClientCredentials) -> None:
    """What the client-credentials grant needs: a client id, a tenant or token URL, and one
    credential (a client secret, or a certificate with its key)."""
    if not conn.client_id:
        raise setting_error("client_id", "client credentials need the application (client) ID",
                            fix="set client_id to the app registration's Application (client) ID")
    if not conn.oauth2_token_url:
        raise setting_error("tenant", "client credentials need the tenant (or a token_url)",
                            fix="set tenant to the Directory (tenant) ID or a domain such as "
                                "contoso.onmicrosoft.com")
    has_secret, has_certificate = bool(conn.client_secret), bool(conn.client_certificate)
    if has_secret and has_certificate:
        raise setting_error("client_secret", "both client_secret and client_certificate are set",
                            fix="keep one: the certificate (clear client_secret) or the secret (clear "
                                "client_certificate and client_certificate_key)")
    if not (has_secret or has_certificate):
        raise setting_error("client_secret", "client credentials need a client secret or a client certificate",
                            fix="set client_secret (${secret:NAME}), or client_certificate and "
                                "client_certificate_key")
    if not conn.scope.strip():
        raise setting_error("scope", "scope is blank", fix="set scope: https://outlook.office365.com/.default")
