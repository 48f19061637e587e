"""Client certificates and their private keys, for TLS (mTLS) and for the signed client
assertion of OAuth 2.0 client credentials (Microsoft 365).

A setting holds either the PEM text itself (a key usually comes from the secret store as
``${secret:NAME}``) or the path of a PEM file. Errors name the setting and the fix; they
never quote the value (a key is a secret, and a path or PEM text says nothing useful).

Python's ``ssl`` loads a certificate chain only from files, so :func:`load_client_certificate`
hands the PEM to OpenSSL through anonymous in-memory files (``memfd``, Linux), or through
files in a private temporary folder removed at once where memfd is missing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import ssl
import tempfile
from collections.abc import Iterator
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ...errors import ConfigError

__all__ = ["PrivateKey", "describe_certificate", "is_pem", "load_certificates", "load_client_certificate", "load_private_key",
           "read_pem"]

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

_PEM_MARK = "-----BEGIN "


def is_pem(value: str) -> bool:
    """True when ``value`` is PEM text, not a file path."""
    return _PEM_MARK in value


def read_pem(value: str, field: str) -> bytes:
    """The PEM bytes of a setting: the text itself, or the file it names."""
    if is_pem(value):
        return value.strip().encode("ascii", "replace") + b"\n"
    path = Path(os.path.expanduser(value.strip()))
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{field}: cannot read the file it names ({exc.strerror or type(exc).__name__})",
                          field=field, fix=f"set {field} to the PEM text or the path of a readable PEM file") from None
    if _PEM_MARK.encode() not in data:
        raise ConfigError(f"{field}: the file it names holds no PEM block (-----BEGIN ...)", field=field,
                          fix=f"convert it to PEM (openssl x509 -inform der) or paste the PEM text into {field}")
    return data


def load_certificates(value: str, field: str) -> list[x509.Certificate]:
    """The certificate (first) and any chain certificates after it."""
    data = read_pem(value, field)
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        certificates = []
    if not certificates:
        raise ConfigError(f"{field} holds no PEM certificate (-----BEGIN CERTIFICATE-----)", field=field,
                          fix=f"set {field} to the certificate in PEM, or the path of its .pem/.crt file")
    return certificates


def describe_certificate(value: str, field: str) -> str:
    """The certificate's subject and expiry, for ``connections test``."""
    certificate = load_certificates(value, field)[0]
    subject = certificate.subject.rfc4514_string() or "(no subject)"
    return f"{subject} (valid until {certificate.not_valid_after_utc:%Y-%m-%d %H:%M} UTC)"


def load_private_key(value: str, field: str) -> PrivateKey:
    """An unencrypted RSA or EC private key in PEM."""
    data = read_pem(value, field)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise ConfigError(f"{field} is an encrypted private key", field=field,
                          fix="store it unencrypted in the secret store (openssl pkey -in KEY.pem -out "
                              "PLAIN.pem), as ${secret:NAME}") from None
    except ValueError:
        raise ConfigError(f"{field} is not a PEM private key (-----BEGIN PRIVATE KEY-----)", field=field,
                          fix=f"set {field} to the private key in PEM, as ${{secret:NAME}}") from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ConfigError(f"{field} is neither an RSA nor an EC key", field=field,
                          fix="use an RSA (2048 bits or more) or EC P-256 key")
    return key


def check_pair(certificate: x509.Certificate, key: PrivateKey, cert_field: str, key_field: str) -> None:
    """The key is the certificate's own."""
    der = serialization.Encoding.DER
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    if certificate.public_key().public_bytes(der, spki) != key.public_key().public_bytes(der, spki):
        raise ConfigError(f"{key_field} is not the private key of the certificate in {cert_field}",
                          field=key_field, fix=f"give the key that was made with the certificate in {cert_field}")


def load_client_certificate(context: ssl.SSLContext, cert_value: str, key_value: str,
                            cert_field: str = "tls_client_certificate", key_field: str = "tls_client_key") -> None:
    """Present this certificate (and its chain) with this key on every TLS connection."""
    certificates = load_certificates(cert_value, cert_field)
    key = load_private_key(key_value, key_field)
    check_pair(certificates[0], key, cert_field, key_field)
    chain = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    with _pem_files(chain, key_pem) as (cert_path, key_path):
        try:
            context.load_cert_chain(cert_path, key_path)
        except ssl.SSLError as exc:
            raise ConfigError(f"{cert_field}: OpenSSL cannot use this certificate and key ({exc.reason or exc})",
                              field=cert_field) from None


@contextlib.contextmanager
def _pem_files(chain: bytes, key: bytes) -> Iterator[tuple[str, str]]:
    """Two paths OpenSSL can read the chain and the key from, gone on exit."""
    if hasattr(os, "memfd_create"):
        fds = [os.memfd_create("postroom-cert"), os.memfd_create("postroom-key")]
        try:
            for fd, data in zip(fds, (chain, key), strict=True):
                os.write(fd, data)
            yield f"/proc/self/fd/{fds[0]}", f"/proc/self/fd/{fds[1]}"
        finally:
            for fd in fds:
                os.close(fd)
        return
    folder = tempfile.mkdtemp(prefix="postroom-tls-")  # mode 0700
    try:
        paths = [os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")]
        for path, data in zip(paths, (chain, key), strict=True):
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as handle:
                handle.write(data)
        yield paths[0], paths[1]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
