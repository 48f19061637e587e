"""DKIM signing (RFC 6376, RFC 8463) of the final bytes of a sent email, with dkimpy.

The key is read once (:func:`load_key`): an RSA key in PEM (PKCS#1 ``BEGIN RSA PRIVATE
KEY`` or PKCS#8 ``BEGIN PRIVATE KEY``) of at least 1024 bits, or an Ed25519 key in PEM
(PKCS#8) or raw (the base64 of its 32 bytes, as ``dknewkey`` writes it). A key that does
not fit raises :class:`DkimKeyError`, whose message never holds the key.

:class:`DkimSigner` signs with relaxed/relaxed canonicalisation the headers RFC 6376
section 5.4 recommends, those present, and From once more than present (oversigned), so
no From can be added after signing. The signature header is put in front of the message;
the bytes after it are the message as built, unchanged. Ed25519 is signed by dkimpy; RSA
by dkimpy's canonicalisation and header hashing with the RSA step in ``cryptography``
(:mod:`._dkim_rsa`: about 0.5 ms instead of dkimpy's pure-Python 5.9 ms).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # cryptography's key modules load when a key is read, not with the connector
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

__all__ = ["aligned", "DkimKey", "DkimKeyError", "DkimSigner", "KEY_FIX", "SIGNED_HEADERS", "load_key", "txt_record"]

#: The headers signed when present (RFC 6376 section 5.4.1), From again to oversign it.
SIGNED_HEADERS = (
    "From", "Reply-To", "Subject", "Date", "To", "Cc", "Message-ID", "In-Reply-To", "References",
    "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "List-Unsubscribe", "List-Unsubscribe-Post",
)

KEY_FIX = ("set dkim_private_key to an RSA key in PEM (PKCS#1 'BEGIN RSA PRIVATE KEY' or PKCS#8 "
           "'BEGIN PRIVATE KEY', at least 1024 bits; openssl genrsa 2048 makes one) or, with dkim_algorithm "
           "ed25519-sha256, an Ed25519 key in PEM or raw (base64 of its 32 bytes)")

_MIN_RSA_BITS = 1024


class DkimKeyError(ValueError):
    """The DKIM private key cannot be used; the message says why and how to fix it (never the key)."""


@dataclass(frozen=True, repr=False)
class DkimKey:
    """A checked private key: what dkimpy signs with and the public key to publish."""

    algorithm: str  # "rsa-sha256" | "ed25519-sha256"
    private: bytes  # PKCS#1 PEM (RSA) or the base64 of the 32-byte seed (Ed25519)
    public: str  # base64, as the TXT record's p= tag

    def __repr__(self) -> str:  # never the private key
        return f"DkimKey({self.algorithm}, p={self.public[:12]}...)"

    @property
    def key_type(self) -> str:
        return "rsa" if self.algorithm == "rsa-sha256" else "ed25519"


def load_key(text: str, algorithm: str = "rsa-sha256") -> DkimKey:
    """The key in ``text`` for ``algorithm``, or :class:`DkimKeyError` naming the fix."""
    data = text.strip().encode("ascii", "replace")
    if not data:
        raise DkimKeyError(f"dkim_private_key is blank: {KEY_FIX}")
    if algorithm == "ed25519-sha256":
        return _ed25519_key(data)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise DkimKeyError(f"dkim_private_key is not an unencrypted PEM private key: {KEY_FIX}") from None
    if isinstance(key, ed25519.Ed25519PrivateKey):
        raise DkimKeyError("dkim_private_key is an Ed25519 key: set dkim_algorithm: ed25519-sha256")
    if not isinstance(key, rsa.RSAPrivateKey):
        raise DkimKeyError(f"dkim_private_key is neither an RSA nor an Ed25519 key: {KEY_FIX}")
    if key.key_size < _MIN_RSA_BITS:
        raise DkimKeyError(f"dkim_private_key is an RSA key of {key.key_size} bits; receivers ignore DKIM "
                           f"keys under {_MIN_RSA_BITS} bits: make a 2048-bit key (openssl genrsa 2048)")
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return DkimKey("rsa-sha256", private, base64.b64encode(public).decode("ascii"))


def _ed25519_key(data: bytes) -> DkimKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key: ed25519.Ed25519PrivateKey
    if data.startswith(b"-----BEGIN"):
        try:
            loaded = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            raise DkimKeyError(f"dkim_private_key is not an unencrypted PEM private key: {KEY_FIX}") from None
        if not isinstance(loaded, ed25519.Ed25519PrivateKey):
            raise DkimKeyError("dkim_private_key is not an Ed25519 key, but dkim_algorithm is ed25519-sha256: "
                               "set dkim_algorithm: rsa-sha256 for an RSA key")
        key = loaded
    else:
        try:
            seed = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            seed = b""
        if len(seed) != 32:
            raise DkimKeyError(f"dkim_private_key is not an Ed25519 key (PEM, or base64 of 32 bytes): {KEY_FIX}")
        key = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return DkimKey("ed25519-sha256", base64.b64encode(raw), base64.b64encode(public).decode("ascii"))


def aligned(from_domain: str, dkim_domain: str) -> bool:
    """Does a signature for ``dkim_domain`` align with ``from_domain`` (relaxed, DMARC-style)?"""
    from_domain, dkim_domain = from_domain.lower().rstrip("."), dkim_domain.lower().rstrip(".")
    return from_domain == dkim_domain or from_domain.endswith("." + dkim_domain)


def txt_record(selector: str, domain: str, key: DkimKey) -> tuple[str, str]:
    """(name, value) of the DNS TXT record that publishes ``key``."""
    return f"{selector}._domainkey.{domain}", f"v=DKIM1; k={key.key_type}; p={key.public}"


class DkimSigner:
    """Signs whole messages (CRLF bytes) for one domain and selector."""

    def __init__(self, domain: str, selector: str, key: DkimKey) -> None:
        self.domain = domain
        self.selector = selector
        self.key = key
        self._rsa: rsa.RSAPrivateKey | None = None
        if key.algorithm == "rsa-sha256":  # loaded (and checked by OpenSSL) once, not per message
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric import rsa

            loaded = serialization.load_pem_private_key(key.private, password=None)
            if not isinstance(loaded, rsa.RSAPrivateKey):  # load_key accepts only RSA for rsa-sha256
                raise DkimKeyError(f"dkim_private_key is not an RSA key: {KEY_FIX}")
            self._rsa = loaded

    def __repr__(self) -> str:
        return f"DkimSigner({self.selector}._domainkey.{self.domain}, {self.key.algorithm})"

    def sign(self, message: bytes) -> bytes:
        """``message`` with a DKIM-Signature header in front."""
        head = message.split(b"\r\n\r\n", 1)[0]
        present = {line.split(b":", 1)[0].strip().lower() for line in head.split(b"\r\n")
                   if line and line[:1] not in (b" ", b"\t")}
        include = [name.lower().encode("ascii") for name in SIGNED_HEADERS if name.lower().encode() in present]
        include.append(b"from")  # oversigned: a second From added later breaks the signature
        if self._rsa is not None:
            from ._dkim_rsa import rsa_signature_header  # here: it loads dkimpy and dnspython

            return rsa_signature_header(message, self.selector.encode("ascii"), self.domain.encode("ascii"),
                                        self._rsa, include) + message
        import dkim  # here, not at the top: dkimpy loads dnspython, which a run without DKIM never needs

        signature = dkim.sign(
            message,
            self.selector.encode("ascii"),
            self.domain.encode("ascii"),
            self.key.private,
            canonicalize=(b"relaxed", b"relaxed"),
            signature_algorithm=self.key.algorithm.encode("ascii"),
            include_headers=include,
            linesep=b"\r\n",
        )
        return signature + message
