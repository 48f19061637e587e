"""OAuth 2.0 access tokens for XOAUTH2 login (SMTP, POP3 and IMAP alike): a fixed token, one
refreshed at ``token_url`` before it expires, or (Microsoft 365) one the application gets for
itself with the client-credentials grant, proving who it is by a client secret or by a client
assertion signed with its certificate (:mod:`._client_assertion`). Tokens are cached until
shortly before they expire. Errors name the client and the setting to change
(:mod:`._oauth_errors`), never a secret."""

from __future__ import annotations

import hashlib
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import TYPE_CHECKING

from ...errors import AuthenticationFailed, ConnectionFailed
from ._oauth_errors import client_credentials_refused, read_refusal
from .spec import MailConnection

if TYPE_CHECKING:  # the certificate's assertion (cryptography's x509) loads when a token needs it
    from ._client_assertion import ClientAssertion

__all__ = ["TokenSource"]


#: Client-credentials tokens by application (see :func:`_shared_key`): token and expiry.
_SHARED: dict[str, tuple[str, float]] = {}


def _shared_key(conn: MailConnection) -> str:
    """Who the token is for: endpoint, client, scope and credential (hashed, never kept in clear)."""
    parts = (conn.oauth2_token_url, conn.client_id, conn.scope, conn.client_secret, conn.client_certificate,
             conn.client_certificate_key)
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


class TokenSource:
    """XOAUTH2 access tokens: a fixed one, or one refreshed (refresh token or client credentials)
    shortly before it expires."""

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
        self._assertion: ClientAssertion | None = None

    def __repr__(self) -> str:
        return f"TokenSource({self._conn.oauth2_token_url or 'static'!r})"

    @property
    def refreshes(self) -> bool:
        return bool(self._conn.refresh_token) or self._conn.uses_client_credentials

    def invalidate(self) -> None:
        """Forget the current token (the server refused it); the next call refreshes."""
        with self._lock:
            self._expires = 0.0
            if self._conn.uses_client_credentials:
                _SHARED.pop(_shared_key(self._conn), None)

    def token(self) -> str:
        if not self.refreshes:
            return self._conn.access_token
        with self._lock:
            if not (self._token and self._clock() < self._expires - self.EARLY):
                self._token, self._expires = self._fresh()
            return self._token

    def _fresh(self) -> tuple[str, float]:
        """A token and its expiry: the application's cached one while it lasts (client
        credentials are the application's, shared by every session and every get), else new."""
        key = _shared_key(self._conn) if self._conn.uses_client_credentials else ""
        cached = _SHARED.get(key) if key else None
        if cached is not None and self._clock() < cached[1] - self.EARLY:
            return cached
        token, lifetime = self._refresh()
        fresh = (token, self._clock() + lifetime)
        if key:
            _SHARED[key] = fresh
        return fresh

    def refused_hint(self) -> str:
        """What to check when the mail server refused a token the endpoint issued."""
        if self._conn.uses_client_credentials:
            return ("check that the app has the Office 365 Exchange Online permission SMTP.SendAsApp, "
                    "IMAP.AccessAsApp or POP.AccessAsApp with admin consent, that its service principal is "
                    "registered in Exchange (New-ServicePrincipal) with access to this mailbox "
                    "(Add-MailboxPermission), and that user_name is the mailbox address")
        return "check the token's scope (https://mail.google.com/ for Gmail) and the refresh token"

    def _form(self) -> dict[str, str]:
        conn = self._conn
        if not conn.uses_client_credentials:
            form = {"grant_type": "refresh_token", "refresh_token": conn.refresh_token, "client_id": conn.client_id}
            if conn.client_secret:
                form["client_secret"] = conn.client_secret
            return form
        form = {"grant_type": "client_credentials", "client_id": conn.client_id, "scope": conn.scope}
        if conn.client_secret:
            form["client_secret"] = conn.client_secret
            return form
        from ._client_assertion import ASSERTION_TYPE, ClientAssertion

        if self._assertion is None:
            self._assertion = ClientAssertion(conn.client_id, conn.client_certificate, conn.client_certificate_key)
        form["client_assertion_type"] = ASSERTION_TYPE
        form["client_assertion"] = self._assertion.sign(conn.oauth2_token_url, self._clock())
        return form

    def _refresh(self) -> tuple[str, float]:
        conn = self._conn
        url = conn.oauth2_token_url
        request = urllib.request.Request(
            url,
            data=urllib.parse.urlencode(self._form()).encode(),
            headers={"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"},
            method="POST",
        )
        try:
            with self._opener(request, timeout=conn.timeout_seconds) as response:  # type: ignore[attr-defined]
                payload = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            raise self._refused(exc) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ConnectionFailed(f"cannot reach the token endpoint {url}: {reason}",
                                   field="token_url" if conn.token_url else "tenant") from None
        except ValueError:
            raise ConnectionFailed(f"the token endpoint {url} did not answer with JSON") from None
        token = payload.get("access_token") if isinstance(payload, dict) else None
        if not isinstance(token, str) or not token:
            raise AuthenticationFailed(f"the token endpoint {url} answered without an access_token")
        try:
            lifetime = float(payload.get("expires_in", 3600))
        except (TypeError, ValueError):
            lifetime = 3600.0
        return token, lifetime

    def _refused(self, exc: urllib.error.HTTPError) -> AuthenticationFailed:
        conn = self._conn
        refusal = read_refusal(exc, [v for v in (conn.client_secret, conn.refresh_token, conn.access_token) if v])
        if conn.uses_client_credentials:
            return client_credentials_refused(refusal, conn.oauth2_token_url, conn.client_id,
                                              certificate=bool(conn.client_certificate))
        return AuthenticationFailed(
            f"the token endpoint {conn.token_url} refused the refresh token of client "
            f"{conn.client_id!r}: {refusal.text()}",
            fix="issue a new refresh token; check client_id and client_secret",
        )
