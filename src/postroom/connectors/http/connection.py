"""The connection test: obtain a token (OAuth 2.0), then GET the base URL and report the
status, the HTTP version and the TLS session (version, cipher, the server's certificate)."""

from __future__ import annotations

from typing import Any

import httpx

from ...errors import AuthenticationFailed, ConnectionFailed
from ...sdk import TestReport
from ._pool import Pool
from .spec import HttpConnection

__all__ = ["test_connection"]


def test_connection(connection: HttpConnection) -> TestReport:
    pool = Pool(connection)
    try:
        facts: list[tuple[str, str]] = [("url", connection.base_url), ("auth", connection.auth)]
        if pool.tokens is not None:
            pool.tokens.token()
            facts.append(("token", f"obtained from {connection.token_url}, valid {pool.tokens.lifetime:.0f} s"))
        try:
            with pool.client.stream("GET", connection.base_url, auth=pool.auth) as response:
                facts += _tls_facts(response)
                response.read()
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            certificate = "certificate" in str(exc).lower()
            raise ConnectionFailed(pool.scrub(f"cannot connect to {connection.base_url}: {exc}"), field="base_url",
                                   fix="add the server's CA to trusted_ca_file" if certificate
                                   else "check base_url and that the server is up") from None
        except httpx.HTTPError as exc:
            raise ConnectionFailed(pool.scrub(f"GET {connection.base_url} failed: {type(exc).__name__}: {exc}"),
                                   field="base_url") from None
        status = response.status_code
        facts[2:2] = [("status", f"{status} {response.reason_phrase}".strip()), ("http", response.http_version)]
        if status in (401, 403):
            raise AuthenticationFailed(
                f"GET {connection.base_url} answered HTTP {status}: the server refused the credentials "
                f"(auth {connection.auth})", field="auth", fix="check the credentials and the auth setting")
        ok = status < 500
        return TestReport(ok=ok, facts=facts, message=f"GET {connection.base_url} answered HTTP {status}"
                          + ("" if ok else ": the server has a problem"))
    finally:
        pool.close()


def _tls_facts(response: httpx.Response) -> list[tuple[str, str]]:
    stream = response.extensions.get("network_stream")
    ssl_object: Any = stream.get_extra_info("ssl_object") if stream is not None else None
    if ssl_object is None or not hasattr(ssl_object, "cipher"):  # an ssl socket or its C object
        return [("tls", "none (http)")]
    facts = [("tls", str(ssl_object.version())), ("cipher", str((ssl_object.cipher() or ("",))[0]))]
    cert = ssl_object.getpeercert() or {}
    subject = _name(cert.get("subject", ()))
    issuer = _name(cert.get("issuer", ()))
    if subject:
        facts.append(("certificate", f"{subject}, issued by {issuer}, valid until {cert.get('notAfter', '?')}"))
    return facts


def _name(parts: Any) -> str:
    return ", ".join(f"{key}={value}" for rdn in parts for key, value in rdn)
