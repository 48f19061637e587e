"""A local certificate authority and a server certificate for devmail.

Why a CA and not one self-signed certificate: clients then verify the server exactly as
they would verify Gmail (``ssl.create_default_context(cafile=ca.pem)`` with hostname
checking on), so tests exercise the real verification path and users learn the real
``trusted_ca_file`` setting. The certificates follow what strict verifiers ask for
(Python 3.13's ``VERIFY_X509_STRICT``, browsers): key usages, subject and authority key
identifiers, a SAN for every name, a validity shorter than 398 days for the leaf.

Files in the folder: ``ca.pem``, ``ca-key.pem``, ``server.pem`` (leaf then CA),
``server-key.pem``. Key files are created 0600. Existing files are reused while they are
valid for more than a month and cover the wanted names; otherwise the leaf (or both)
is made anew.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import ssl
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["CertificateFiles", "ensure_certificates", "server_context", "client_context"]

DEFAULT_NAMES: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")
CA_DAYS = 3650
SERVER_DAYS = 397
RENEW_BEFORE = timedelta(days=30)
_BACKDATE = timedelta(hours=1)  # tolerate a little clock skew between tools

_process_lock = threading.Lock()


@dataclass(frozen=True)
class CertificateFiles:
    """Paths of the CA and server certificate files in one folder."""

    directory: Path

    @property
    def ca_file(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def ca_key_file(self) -> Path:
        return self.directory / "ca-key.pem"

    @property
    def cert_file(self) -> Path:
        return self.directory / "server.pem"

    @property
    def key_file(self) -> Path:
        return self.directory / "server-key.pem"


@contextlib.contextmanager
def _folder_lock(directory: Path) -> Iterator[None]:
    """Serialise generation between threads and (where fcntl exists) processes,
    so parallel test workers sharing a folder never pair a leaf with the wrong CA."""
    with _process_lock:
        try:
            import fcntl
        except ImportError:  # Windows: the thread lock is all we have
            yield
            return
        with open(directory / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _write(path: Path, data: bytes, *, private: bool) -> None:
    """Write atomically; private files are created 0600 from the start, never chmod-ed later."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = os.open(tmp, flags, 0o600 if private else 0o644)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if private:
        os.chmod(tmp, 0o600)  # in case the file pre-existed with looser bits
    os.replace(tmp, path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _san_entries(names: Iterable[str]) -> list[x509.GeneralName]:
    entries: list[x509.GeneralName] = []
    for name in dict.fromkeys(names):
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return entries


def _make_ca(now: datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Postroom devmail"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"Postroom devmail local CA {now:%Y-%m-%d %H%M%S}"),
        ]
    )
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _make_leaf(
    ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate, names: list[str], now: datetime
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Postroom devmail"),
                    x509.NameAttribute(NameOID.COMMON_NAME, names[0]),
                ]
            )
        )
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(min(now + timedelta(days=SERVER_DAYS), ca_cert.not_valid_after_utc))
        .add_extension(x509.SubjectAlternativeName(_san_entries(names)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def _load_ca(
    files: CertificateFiles, now: datetime
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate] | None:
    """The CA in the folder if it is complete, usable and not about to expire."""
    try:
        cert = x509.load_pem_x509_certificate(files.ca_file.read_bytes())
        key = serialization.load_pem_private_key(files.ca_key_file.read_bytes(), password=None)
    except (OSError, ValueError):
        return None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        return None
    if cert.not_valid_after_utc - RENEW_BEFORE < now:
        return None
    return key, cert


def _leaf_is_good(
    files: CertificateFiles, ca_cert: x509.Certificate, names: list[str], now: datetime
) -> bool:
    try:
        chain = x509.load_pem_x509_certificates(files.cert_file.read_bytes())
        key = serialization.load_pem_private_key(files.key_file.read_bytes(), password=None)
    except (OSError, ValueError):
        return False
    leaf = chain[0]
    if leaf.issuer != ca_cert.subject or leaf.not_valid_after_utc - RENEW_BEFORE < now:
        return False
    try:
        leaf.verify_directly_issued_by(ca_cert)
    except Exception:  # InvalidSignature, or a key type mismatch
        return False
    if leaf.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        return False
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    have = set(_san_entries(san.get_values_for_type(x509.DNSName)))
    have |= {x509.IPAddress(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    return all(entry in have for entry in _san_entries(names))


def ensure_certificates(directory: str | os.PathLike[str], names: Iterable[str] = ()) -> CertificateFiles:
    """Make (or reuse) the CA and a server certificate for ``localhost``, ``127.0.0.1``,
    ``::1`` and ``names`` in ``directory``; return their paths."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    wanted = list(dict.fromkeys([*DEFAULT_NAMES, *(n for n in names if n and n not in ("0.0.0.0", "::"))]))
    files = CertificateFiles(folder)
    with _folder_lock(folder):
        now = datetime.now(UTC)
        loaded = _load_ca(files, now)
        if loaded is None:
            ca_key, ca_cert = _make_ca(now)
            _write(files.ca_key_file, _key_pem(ca_key), private=True)
            _write(files.ca_file, ca_cert.public_bytes(serialization.Encoding.PEM), private=False)
        else:
            ca_key, ca_cert = loaded
        if loaded is None or not _leaf_is_good(files, ca_cert, wanted, now):
            key, cert = _make_leaf(ca_key, ca_cert, wanted, now)
            _write(files.key_file, _key_pem(key), private=True)
            chain = cert.public_bytes(serialization.Encoding.PEM) + ca_cert.public_bytes(
                serialization.Encoding.PEM
            )
            _write(files.cert_file, chain, private=False)
    return files


def server_context(files: CertificateFiles, client_ca_file: str | os.PathLike[str] | None = None) -> ssl.SSLContext:
    """A TLS server context presenting the devmail certificate (TLS 1.2 or newer); with
    ``client_ca_file``, a client certificate is asked for and, when given, must be one that
    CA signed (mutual TLS; whether one is required is the protocols' check)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(files.cert_file, files.key_file)
    if client_ca_file is not None:
        context.load_verify_locations(cafile=os.fspath(client_ca_file))
        context.verify_mode = ssl.CERT_OPTIONAL
    return context


def client_context(files: CertificateFiles) -> ssl.SSLContext:
    """A client context that trusts only the devmail CA, with hostname checking on."""
    return ssl.create_default_context(cafile=str(files.ca_file))
