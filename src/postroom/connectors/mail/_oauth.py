"""OAuth 2.0 access tokens for XOAUTH2 login (SMTP, POP3 and IMAP alike): a fixed token, or
one refreshed at ``token_url`` before it expires. Errors name the client, never a secret."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable

from ...errors import AuthenticationFailed, ConnectionFailed
from .spec import MailConnection

__all__ = ["TokenSource"]


class TokenSource:
    """XOAUTH2 access tokens: a fixed one, or refreshed at ``token_url`` before expiry."""

    #: Refresh this long before the provider's expiry, so a token never dies mid-session.
    EARLY = 60.0

    def __init__(
        self,
        connection: MailConnection,
        *,
        opener: Callable[..., object] = urllib.request.urlopen,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._conn = connection
        self._opener = opener
        self._clock = clock
        self._token = ""
        self._expires = 0.0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TokenSource({self._conn.token_url or 'static'!r})"

    @property
    def refreshes(self) -> bool:
        return bool(self._conn.refresh_token)

    def invalidate(self) -> None:
        """Forget the current token (the server refused it); the next call refreshes."""
        with self._lock:
            self._expires = 0.0

    def token(self) -> str:
        if not self.refreshes:
            return self._conn.access_token
        with self._lock:
            if self._token and self._clock() < self._expires - self.EARLY:
                return self._token
            self._token, lifetime = self._refresh()
            self._expires = self._clock() + lifetime
            return self._token

    def _refresh(self) -> tuple[str, float]:
        conn = self._conn
        form = {"grant_type": "refresh_token", "refresh_token": conn.refresh_token, "client_id": conn.client_id}
        if conn.client_secret:
            form["client_secret"] = conn.client_secret
        request = urllib.request.Request(
            conn.token_url,
            data=urllib.parse.urlencode(form).encode(),
            headers={"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"},
            method="POST",
        )
        try:
            with self._opener(request, timeout=conn.timeout_seconds) as response:  # type: ignore[attr-defined]
                payload = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            detail = _oauth_error(exc)
            raise AuthenticationFailed(
                f"the token endpoint {conn.token_url} refused the refresh token of client "
                f"{conn.client_id!r}: HTTP {exc.code} {detail}",
                fix="issue a new refresh token; check client_id and client_secret",
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ConnectionFailed(f"cannot reach the token endpoint {conn.token_url}: {reason}") from None
        except ValueError:
            raise ConnectionFailed(f"the token endpoint {conn.token_url} did not answer with JSON") from None
        token = payload.get("access_token")
        if not isinstance(token, str) or not token:
            raise AuthenticationFailed(f"the token endpoint {conn.token_url} answered without an access_token")
        try:
            lifetime = float(payload.get("expires_in", 3600))
        except (TypeError, ValueError):
            lifetime = 3600.0
        return token, lifetime


def _oauth_error(exc: urllib.error.HTTPError) -> str:
    """The ``error``/``error_description`` of an OAuth error reply, nothing else of it."""
    try:
        payload = json.loads(exc.read().decode("utf-8"))
    except (ValueError, OSError):
        return str(exc.reason)
    if not isinstance(payload, dict):
        return str(exc.reason)
    parts = [str(payload.get(k)) for k in ("error", "error_description") if payload.get(k)]
    return ": ".join(parts) or str(exc.reason)
