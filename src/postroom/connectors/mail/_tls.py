"""TLS for every mail protocol (SMTP, POP3, IMAP): the client context (with the client
certificate of ``tls_client_certificate`` for servers that require one), the warning when
verification is off, how to recognise a server that does not speak TLS at all, and one
that refused the client certificate (or its absence).

``ssl.create_default_context(cafile=...)`` would load *only* that file and skip the system
store and ``SSL_CERT_FILE``; so the default context is built first (which honours
``SSL_CERT_FILE``/``SSL_CERT_DIR`` through OpenSSL) and the trusted CA file is added to it.

Reading the system store costs tens of milliseconds (OpenSSL 3 parses every certificate of
the bundle), so a context is built once per process for the same trust and reused by every
session after it (an ``SSLContext`` is safe to share between threads): the key is the
verification switch, the trusted CA file and the system bundle, each with its size and
modification time, and ``SSL_CERT_FILE``/``SSL_CERT_DIR``, so a changed file is read again.
A context with a client certificate (mutual TLS) is built for each caller, as before.
"""

from __future__ import annotations

import os
import ssl
import threading

from ...errors import ConfigError, ConnectionFailed
from .spec import MailConnection

__all__ = ["NOT_TLS", "cert_names_wrong_host", "cert_reason", "client_certificate_advice",
           "client_certificate_refused", "insecure_warning", "refuses_for_certificate", "speaks_no_tls", "ssl_context_for"]

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


#: Contexts built so far in this process, by :func:`_trust_key`.
_CONTEXTS: dict[tuple[object, ...], ssl.SSLContext] = {}
_CONTEXTS_LOCK = threading.Lock()


def _file_stamp(path: str | None) -> tuple[str, int, int, int] | None:
    if not path:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return path, st.st_ino, st.st_size, st.st_mtime_ns


def _trust_key(connection: MailConnection) -> tuple[object, ...] | None:
    """What the context's trust depends on (None: do not share it)."""
    if connection.tls_client_certificate:
        return None
    ca_file = None
    if connection.trusted_ca_file:
        ca_file = _file_stamp(os.path.expanduser(connection.trusted_ca_file))
        if ca_file is None:  # missing: building says so, every time
            return None
    defaults = ssl.get_default_verify_paths()
    return (connection.verify_certificates, ca_file, _file_stamp(defaults.cafile), defaults.capath,
            os.environ.get(defaults.openssl_cafile_env), os.environ.get(defaults.openssl_capath_env))


def ssl_context_for(connection: MailConnection) -> ssl.SSLContext:
    """A client TLS context: verification and host-name check on unless turned off; one
    per process for the same trust (see the module's notes)."""
    key = _trust_key(connection)
    if key is None:
        return _new_context(connection)
    with _CONTEXTS_LOCK:
        context = _CONTEXTS.get(key)
    if context is None:
        context = _new_context(connection)
        with _CONTEXTS_LOCK:
            context = _CONTEXTS.setdefault(key, context)
    return context


def _new_context(connection: MailConnection) -> ssl.SSLContext:
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
    if connection.tls_client_certificate:
        from ._client_certs import load_client_certificate  # cryptography's x509: only for mutual TLS

        load_client_certificate(context, connection.tls_client_certificate, connection.tls_client_key)
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


#: OpenSSL alerts of a server that wanted a client certificate, or did not accept ours.
CLIENT_CERT_ALERTS = (
    "CERTIFICATE_REQUIRED",
    "PEER_DID_NOT_RETURN_A_CERTIFICATE",
    "ALERT_UNKNOWN_CA",
    "ALERT_BAD_CERTIFICATE",
    "ALERT_CERTIFICATE_UNKNOWN",
    "ALERT_CERTIFICATE_EXPIRED",
    "ALERT_CERTIFICATE_REVOKED",
    "ALERT_UNSUPPORTED_CERTIFICATE",
    "ALERT_ACCESS_DENIED",
)


def client_certificate_refused(exc: ssl.SSLError) -> bool:
    """The server ended the handshake over the client certificate: none sent, or not trusted."""
    text = f"{getattr(exc, 'reason', None) or ''} {exc}".upper()
    return any(marker in text for marker in CLIENT_CERT_ALERTS)


def refuses_for_certificate(said: str) -> bool:
    """A server's refusal of a login that blames the client certificate (Dovecot's
    ``Client didn't present valid SSL certificate``, and the like)."""
    return "certificate" in said.lower()


def client_certificate_advice(connection: MailConnection, where: str, exc: BaseException | str) -> ConnectionFailed:
    """The error of a server that refused the client certificate (or its absence):
    ``exc`` the TLS error, or what the server said."""
    reason = exc if isinstance(exc, str) else getattr(exc, "reason", None) or str(exc)
    if not connection.tls_client_certificate:
        return ConnectionFailed(
            f"{where} requires a client certificate (mutual TLS) and none is set ({reason})",
            retryable=False,
            field="tls_client_certificate",
            fix="set tls_client_certificate and tls_client_key to a certificate the server's CA signed",
        )
    return ConnectionFailed(
        f"{where} refused the client certificate in tls_client_certificate ({reason})",
        retryable=False,
        field="tls_client_certificate",
        fix="use a certificate signed by a CA the server trusts, not expired, with its own key in tls_client_key",
    )
