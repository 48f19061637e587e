"""An RSA-SHA256 DKIM-Signature header whose RSA step is done by ``cryptography`` (OpenSSL).

dkimpy computes RSA signatures with Python integers (about 5.9 ms for a 2048-bit key);
OpenSSL takes a fraction of that. Everything else is dkimpy's: parsing the message into
header fields and body (``rfc822_parse``), relaxed canonicalisation
(``CanonicalizationPolicy``), choosing and hashing the signed fields in order, From
oversigned included (``hash_headers``), and folding (``fold``). Only the hash of the
canonical header fields is signed here, with PKCS#1 v1.5, as RFC 6376 section 3.3.1 says.

The tags are those dkimpy writes (v, a, c, d, i, q, s, t, h, bh, b), b= last so that the
header hashed with an empty b= is the header sent, with the signature appended.
"""

from __future__ import annotations

import base64
import hashlib
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from dkim import fold, hash_headers, rfc822_parse
from dkim.canonicalization import CanonicalizationPolicy

__all__ = ["rsa_signature_header"]

_NAME = b"DKIM-Signature"
_RELAXED = CanonicalizationPolicy.from_c_value(b"relaxed/relaxed")
_B64_LINE = 70  # characters of the signature per folded line


def rsa_signature_header(message: bytes, selector: bytes, domain: bytes, key: rsa.RSAPrivateKey,
                         include: list[bytes]) -> bytes:
    """The ``DKIM-Signature:`` header line (CRLF-terminated, folded) signing ``message``."""
    headers, body = rfc822_parse(message)
    body_hash = base64.b64encode(hashlib.sha256(_RELAXED.canonicalize_body(body)).digest())
    tags = [(b"v", b"1"), (b"a", b"rsa-sha256"), (b"c", _RELAXED.to_c_value()), (b"d", domain),
            (b"i", b"@" + domain), (b"q", b"dns/txt"), (b"s", selector),
            (b"t", str(int(time.time())).encode("ascii")), (b"h", b" : ".join(include)), (b"bh", body_hash),
            (b"b", b"")]
    unsigned = fold(b"; ".join(name + b"=" + value for name, value in tags), namelen=len(_NAME), linesep=b"\r\n")
    digest = hashlib.sha256()
    hash_headers(digest, _RELAXED, _RELAXED.canonicalize_headers(headers), include, (_NAME, b" " + unsigned),
                 dict(tags))
    signature = base64.b64encode(key.sign(digest.digest(), padding.PKCS1v15(), Prehashed(hashes.SHA256())))
    # b= is the last tag: its value starts on a line of its own and may be folded anywhere
    # (RFC 6376 section 3.5); the rest of the header stays byte for byte what was hashed.
    chunks = [signature[i:i + _B64_LINE] for i in range(0, len(signature), _B64_LINE)]
    return _NAME + b": " + unsigned + b"".join(b"\r\n " + chunk for chunk in chunks) + b"\r\n"
