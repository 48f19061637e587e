"""A stand-in for the Microsoft identity platform's token endpoint (the one thing of
Microsoft 365 that cannot run here), speaking the OAuth 2.0 client-credentials grant
on 127.0.0.1: ``POST /{tenant}/oauth2/v2.0/token``.

It checks what Entra checks and answers in Entra's words (``error``, ``error_description``
with an ``AADSTS`` code, trace lines after it): the tenant, the client id, the client
secret, or the client assertion — a JWT whose RS256 signature is verified with the
registered certificate's public key, whose ``x5t#S256`` names that certificate, whose
``aud`` is this endpoint, ``iss``/``sub`` the client id, within its time range, ``jti``
never seen before — and the scope (``/.default``). A granted token is registered with the
mail servers' introspection endpoint (:class:`dovecotkit.TokenIntrospection`) for the
mailbox the application may use, so Dovecot and devmail accept it as Exchange would.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from support.dovecotkit import TokenIntrospection

__all__ = ["App", "EntraTokenServer"]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
EXCHANGE_SCOPE = "https://outlook.office365.com/.default"


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class App:
    """An app registration: its secret or certificate, and the mailbox it was given."""

    client_id: str
    mailbox: str
    secret: str | None = None
    certificate_pem: str | None = None

    @property
    def thumbprint(self) -> str:
        assert self.certificate_pem is not None
        der = x509.load_pem_x509_certificate(self.certificate_pem.encode()).public_bytes(serialization.Encoding.DER)
        return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()


class Refused(Exception):
    def __init__(self, status: int, error: str, code: int, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.code, self.description = status, error, code, description


@dataclass
class EntraTokenServer:
    """The token endpoint of some tenants. ``lifetime``: the ``expires_in`` it grants."""

    introspection: TokenIntrospection
    tenants: dict[str, dict[str, App]] = field(default_factory=dict)
    lifetime: int = 3599
    grants: list[dict[str, Any]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._seen_jti: set[str] = set()
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", 0) or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                status, payload = owner.answer(self.path, form)
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- set up ------------------------------------------------------------------------------
    def register(self, tenant: str, app: App) -> App:
        self.tenants.setdefault(tenant, {})[app.client_id] = app
        return app

    def token_url(self, tenant: str) -> str:
        return f"http://127.0.0.1:{self.port}/{tenant}/oauth2/v2.0/token"

    # -- the protocol ------------------------------------------------------------------------
    def answer(self, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        tenant = path.strip("/").split("/")[0]
        try:
            app = self._check(tenant, path, form)
        except Refused as refused:
            self.refusals.append(f"AADSTS{refused.code}")
            trace = f"\r\nTrace ID: {uuid.uuid4()}\r\nCorrelation ID: {uuid.uuid4()}\r\nTimestamp: 2026-12-04 10:00:00Z"
            return refused.status, {"error": refused.error, "error_description": f"AADSTS{refused.code}: "
                                    f"{refused.description}{trace}", "error_codes": [refused.code]}
        token = f"eyJ0eXAiOiJKV1Qi.{uuid.uuid4().hex}.{uuid.uuid4().hex}"
        self.introspection.issue(app.mailbox, token)
        with self._lock:
            self.grants.append({"tenant": tenant, "client_id": app.client_id, "token": token,
                                "by": "certificate" if "client_assertion" in form else "secret"})
        return 200, {"token_type": "Bearer", "expires_in": self.lifetime, "ext_expires_in": self.lifetime,
                     "access_token": token}

    def _check(self, tenant: str, path: str, form: dict[str, str]) -> App:
        if not path.endswith("/oauth2/v2.0/token"):
            raise Refused(404, "invalid_request", 900561, "The endpoint only accepts POST requests.")
        apps = self.tenants.get(tenant)
        if apps is None:
            raise Refused(400, "invalid_request", 90002, f"Tenant '{tenant}' not found. Check to make sure you "
                          "have the correct tenant ID and are signing into the correct cloud.")
        if form.get("grant_type") != "client_credentials":
            raise Refused(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
        client_id = form.get("client_id", "")
        app = apps.get(client_id)
        if app is None:
            raise Refused(400, "unauthorized_client", 700016, f"Application with identifier '{client_id}' was not "
                          f"found in the directory '{tenant}'.")
        if "client_assertion" in form:
            self._check_assertion(app, form, self.token_url(tenant))
        elif app.secret is None or form.get("client_secret") != app.secret:
            raise Refused(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret "
                          "being sent in the request is the client secret value, not the client secret ID.")
        scope = form.get("scope", "")
        if not scope.endswith("/.default"):
            raise Refused(400, "invalid_scope", 1002012, f"The provided value for scope {scope} is not valid. "
                          "Client credential flows must have a scope value with /.default suffixed.")
        if scope != EXCHANGE_SCOPE:
            raise Refused(400, "invalid_resource", 500011, "The resource principal named "
                          f"{scope.removesuffix('/.default')} was not found in the tenant named {tenant}.")
        return app

    def _check_assertion(self, app: App, form: dict[str, str], audience: str) -> None:
        if form.get("client_assertion_type") != ASSERTION_TYPE or app.certificate_pem is None:
            raise Refused(401, "invalid_client", 700027, "Client assertion contains an invalid signature.")
        try:
            head, body, signature = form["client_assertion"].split(".")
            header, claims = json.loads(_unb64(head)), json.loads(_unb64(body))
        except (ValueError, KeyError):
            raise Refused(400, "invalid_request", 50027, "JWT token is invalid or malformed.") from None
        if header.get("x5t#S256") != app.thumbprint or header.get("alg") != "RS256":
            raise Refused(401, "invalid_client", 700027, "The certificate with identifier used to sign the "
                          "client assertion is not registered on application.")
        public = x509.load_pem_x509_certificate(app.certificate_pem.encode()).public_key()
        assert isinstance(public, rsa.RSAPublicKey)
        try:
            public.verify(_unb64(signature), f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise Refused(401, "invalid_client", 700027, "Client assertion failed signature validation.") from None
        now = time.time()
        if claims.get("aud") != audience or claims.get("iss") != app.client_id or claims.get("sub") != app.client_id:
            raise Refused(401, "invalid_client", 700021, "Client assertion application identifier doesn't match "
                          "'client_id' parameter or the audience is not this endpoint.")
        if not (claims.get("nbf", now + 1) - 300 <= now < claims.get("exp", 0)):
            raise Refused(401, "invalid_client", 700024, "Client assertion is not within its valid time range.")
        with self._lock:
            if claims.get("jti") in self._seen_jti or not claims.get("jti"):
                raise Refused(401, "invalid_client", 700025, "Client assertion jti was already used.")
            self._seen_jti.add(claims["jti"])
