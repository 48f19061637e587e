"""XOAUTH2 for devmail's SMTP: the bearer token a client presents is checked at an OAuth 2.0
token introspection endpoint (RFC 7662), the way Dovecot's ``oauth2`` passdb checks it, so
tests can log in with tokens a real (or test) authorization server issued.

The endpoint is asked with ``POST token=...`` and must answer JSON with ``active`` and
``username``; the login succeeds when the token is active and its username is the ``user=``
of the XOAUTH2 string (case-insensitive). A failed check answers as Gmail and Exchange do:
a ``334`` challenge carrying a base64 JSON error, then ``535`` after the client's empty reply.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request

__all__ = ["ERROR_CHALLENGE", "introspect", "parse_xoauth2"]

log = logging.getLogger("postroom.devmail")

ERROR_CHALLENGE = json.dumps({"status": "401", "schemes": "bearer", "scope": "devmail"})


def parse_xoauth2(blob: bytes) -> tuple[str, str] | None:
    """(user, token) of ``user=U\\x01auth=Bearer T\\x01\\x01``, or None when malformed."""
    try:
        text = blob.decode("utf-8")
    except UnicodeDecodeError:
        return None
    fields = dict(part.split("=", 1) for part in text.split("\x01") if "=" in part)
    user, auth = fields.get("user", ""), fields.get("auth", "")
    scheme, _, token = auth.partition(" ")
    if not user or scheme.lower() != "bearer" or not token.strip():
        return None
    return user, token.strip()


def introspect(url: str, token: str, timeout: float = 10.0) -> str | None:
    """The username an active token belongs to, or None (inactive, unknown, endpoint down)."""
    request = urllib.request.Request(
        url, data=urllib.parse.urlencode({"token": token}).encode(), method="POST",
        headers={"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - the configured URL
            payload = json.loads(response.read().decode("utf-8"))
    except (urllib.error.URLError, OSError, ValueError) as error:
        log.warning("devmail: token introspection at %s failed: %s", url, getattr(error, "reason", error))
        return None
    if not isinstance(payload, dict) or payload.get("active") is not True:
        return None
    user = payload.get("username")
    return user if isinstance(user, str) and user else None
