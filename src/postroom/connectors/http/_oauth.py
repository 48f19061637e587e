"""OAuth 2.0 access tokens from a token endpoint (client credentials or refresh token):
fetched once per connection, shared by every request, refreshed before they expire and
when the API refuses one. One refresh at a time: documents that need a token while it is
being fetched wait for it instead of asking the endpoint too."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx

from ...errors import AuthenticationFailed, ConnectionFailed
from ._secrets import Scrubber
from .spec import HttpConnection

__all__ = ["TokenSource"]


class TokenSource:
    """Access tokens for one connection, cached until shortly before they expire."""

    #: Refresh this long before expiry (at most half the token's lifetime).
    EARLY = 60.0
    #: The lifetime assumed when the endpoint gives no expires_in.
    DEFAULT_LIFETIME = 3600.0

    def __init__(self, connection: HttpConnection, client: httpx.Client, scrub: Scrubber,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._conn = connection
        self._client = client
        self._scrub = scrub
        self._lock = threading.Lock()
        self._token = ""
        self._refresh_token = connection.refresh_token
        self._renew_at = 0.0
        self.clock = clock  # what "now" is (a test may move it on)
        self.fetched = 0  # how many tokens this source obtained (the connection test reports it)
        self.lifetime = 0.0

    def token(self) -> str:
        """A valid access token: the cached one, or a new one from the token endpoint."""
        with self._lock:
            if not self._token or self.clock() >= self._renew_at:
                self._fetch()
            return self._token

    def refused(self, token: str) -> None:
        """The API refused ``token`` (401): the next :meth:`token` fetches a new one, unless
        another request already did."""
        with self._lock:
            if self._token == token:
                self._token = ""

    def _form(self) -> dict[str, str]:
        conn = self._conn
        if conn.auth == "oauth2_refresh_token":
            form = {"grant_type": "refresh_token", "refresh_token": self._refresh_token}
        else:
            form = {"grant_type": "client_credentials"}
        form["client_id"] = conn.client_id
        if conn.client_secret:
            form["client_secret"] = conn.client_secret
        if conn.scope:
            form["scope"] = conn.scope
        return form

    def _fetch(self) -> None:
        conn = self._conn
        try:
            response = self._client.post(conn.token_url, data=self._form(), headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise ConnectionFailed(self._scrub(f"cannot reach the token endpoint {conn.token_url}: "
                                               f"{type(exc).__name__}: {exc}"), field="token_url") from None
        body = _json(response)
        token = body.get("access_token")
        if response.status_code >= 400 or not isinstance(token, str) or not token:
            raise self._refusal(response, body)
        lifetime = _seconds(body.get("expires_in"), self.DEFAULT_LIFETIME)
        self._token, self.lifetime = token, lifetime
        self._renew_at = self.clock() + lifetime - min(self.EARLY, lifetime / 2)
        self._scrub.add(token)
        rotated = body.get("refresh_token")
        if isinstance(rotated, str) and rotated:  # a provider that rotates refresh tokens
            self._refresh_token = rotated
            self._scrub.add(rotated)
        self.fetched += 1

    def _refusal(self, response: httpx.Response, body: dict[str, object]) -> AuthenticationFailed:
        conn = self._conn
        reason = ": ".join(str(body[k]) for k in ("error", "error_description") if body.get(k)) or (
            f"HTTP {response.status_code}" + ("" if response.status_code >= 400 else ", no access_token"))
        grant = "refresh_token" if conn.auth == "oauth2_refresh_token" else "client_secret"
        return AuthenticationFailed(
            self._scrub(f"the token endpoint {conn.token_url} refused client {conn.client_id!r}: {reason}"),
            field="token_url", fix=f"check client_id, {grant} and scope")


def _json(response: httpx.Response) -> dict[str, object]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _seconds(value: object, default: float) -> float:
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default
    return seconds if seconds > 0 else default
