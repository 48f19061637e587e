"""The signed client assertion (a JWT, RFC 7523) an application presents instead of a
client secret, as the Microsoft identity platform's certificate credentials describe it:

* header: ``alg`` RS256, ``typ`` JWT, ``x5t#S256`` (base64url SHA-256 of the certificate's
  DER) and ``x5t`` (the same with SHA-1, which older tenants look up);
* claims: ``aud`` the token endpoint, ``iss`` and ``sub`` the client id, a fresh ``jti``,
  ``nbf``/``iat`` now and ``exp`` ten minutes on;
* signature: RSASSA-PKCS1-v1_5 with SHA-256 over ``base64url(header).base64url(claims)``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ...errors import ConfigError
from ._client_certs import check_pair, load_certificates, load_private_key

__all__ = ["ASSERTION_TYPE", "ClientAssertion", "b64url"]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: How long one assertion is good for (Microsoft suggests 5 to 10 minutes).
LIFETIME = 600


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class ClientAssertion:
    """Signs assertions for one client id with one certificate and key (checked at once)."""

    def __init__(self, client_id: str, certificate: str, key: str) -> None:
        cert = load_certificates(certificate, "client_certificate")[0]
        private = load_private_key(key, "client_certificate_key")
        if not isinstance(private, rsa.RSAPrivateKey):
            raise ConfigError("client_certificate_key is not an RSA key; Microsoft signs client assertions "
                              "with RSA (RS256)", field="client_certificate_key",
                              fix="make an RSA 2048-bit certificate and key for the app registration")
        check_pair(cert, private, "client_certificate", "client_certificate_key")
        der = cert.public_bytes(serialization.Encoding.DER)
        self.client_id = client_id
        self.thumbprint_sha256 = b64url(hashlib.sha256(der).digest())
        self.thumbprint_sha1 = b64url(hashlib.sha1(der).digest())  # noqa: S324 - the x5t header is SHA-1
        self._key = private

    def __repr__(self) -> str:
        return f"ClientAssertion(client_id={self.client_id!r}, x5t#S256={self.thumbprint_sha256!r})"

    def sign(self, audience: str, now: float) -> str:
        """A compact JWT for ``audience`` (the token endpoint), valid from ``now``."""
        header = {"alg": "RS256", "typ": "JWT", "x5t#S256": self.thumbprint_sha256, "x5t": self.thumbprint_sha1}
        issued = int(now)
        claims = {"aud": audience, "iss": self.client_id, "sub": self.client_id, "jti": str(uuid.uuid4()),
                  "nbf": issued, "iat": issued, "exp": issued + LIFETIME}
        signing_input = ".".join(b64url(json.dumps(part, separators=(",", ":")).encode())
                                 for part in (header, claims))
        signature = self._key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64url(signature)}"
