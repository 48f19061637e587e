"""TLS for every mail protocol (SMTP, POP3, IMAP): the client context, the warning when
verification is off, and how to recognise a server that does not speak TLS at all.

``ssl.create_default_context(cafile=...)`` would load *only* that file and skip the system
store and ``SSL_CERT_FILE``; so the default context is built first (which honours
``SSL_CERT_FILE``/``SSL_CERT_DIR`` through OpenSSL) and the trusted CA file is added to it.
"""

from __future__ import annotations

import os
import ssl

from ...errors import ConfigError
from .spec import MailConnection

__all__ = ["NOT_TLS", "cert_names_wrong_host", "cert_reason", "insecure_warning", "speaks_no_tls", "ssl_context_for"]

#: OpenSSL reasons meaning "the other side does not speak TLS here".
NOT_TLS = (
    "WRONG_VERSION_NUMBER",
    "UNEXPECTED_EOF",
    "RECORD_LAYER_FAILURE",
    "PACKET_LENGTH_TOO_LONG",
    "HTTP_REQUEST",
    "UNKNOWN_PROTOCOL",
    "EOF occurred",
)


def insecure_warning(connection: MailConnection, address: str | None = None) -> str | None:
    """The warning to log when certificate checks are off (None when they are on)."""
    if connection.verify_certificates:
        return None
    return (
        f"certificate verification is off for {address or connection.endpoint}: anyone on the network can read "
        "the mail and the password (set verify_certificates: true and trusted_ca_file instead)"
    )


def ssl_context_for(connection: MailConnection) -> ssl.SSLContext:
    """A client TLS context: verification and host-name check on unless turned off."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if connection.trusted_ca_file:
        path = os.path.expanduser(connection.trusted_ca_file)
        try:
            context.load_verify_locations(cafile=path)
        except FileNotFoundError:
            raise ConfigError(
                f"trusted_ca_file {connection.trusted_ca_file!r} does not exist",
                field="trusted_ca_file",
                fix="give the path of a PEM file of CA certificates",
            ) from None
        except (ssl.SSLError, ValueError) as exc:
            raise ConfigError(
                f"trusted_ca_file {connection.trusted_ca_file!r} holds no PEM certificate ({exc})",
                field="trusted_ca_file",
            ) from None
    if not connection.verify_certificates:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def cert_reason(exc: ssl.SSLCertVerificationError) -> str:
    """Why a certificate was refused, in OpenSSL's words."""
    return str(exc.verify_message or exc.reason or str(exc))


def cert_names_wrong_host(exc: ssl.SSLCertVerificationError) -> bool:
    """The certificate is valid but names another host."""
    reason = cert_reason(exc).lower()
    return "hostname" in reason or "ip address mismatch" in reason


def speaks_no_tls(exc: ssl.SSLError) -> bool:
    """A handshake failure that means the peer sent no TLS at all (a plain-text port)."""
    text = f"{exc.reason or ''} {exc}"
    return any(marker in text for marker in NOT_TLS)
