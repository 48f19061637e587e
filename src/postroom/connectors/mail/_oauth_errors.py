"""What a token endpoint's refusal means, in the connection's terms: the OAuth ``error`` and
Microsoft Entra's ``AADSTS`` code turned into the setting to change and the fix.

Only the ``error`` code and the first sentence of ``error_description`` are kept (Entra
appends trace and correlation ids and a timestamp); both pass through :func:`redact`, so
a provider that echoes a credential cannot put it in a message.
"""

from __future__ import annotations

import json
import re
import urllib.error
from dataclasses import dataclass

from ...errors import AuthenticationFailed
from ._errors import redact

__all__ = ["OAuthRefusal", "client_credentials_refused", "read_refusal"]

_AADSTS = re.compile(r"\bAADSTS(\d+)")
_CONSENT = ("grant the application the Office 365 Exchange Online permission SMTP.SendAsApp, IMAP.AccessAsApp "
            "or POP.AccessAsApp with admin consent")

#: AADSTS code -> (the setting to change, what to do).
_ENTRA: dict[str, tuple[str, str]] = {
    "90002": ("tenant", "set tenant to the Directory (tenant) ID shown on the app registration's overview, "
                        "or the tenant's domain such as contoso.onmicrosoft.com"),
    "900023": ("tenant", "set tenant to the Directory (tenant) ID (a GUID) or a domain such as "
                         "contoso.onmicrosoft.com"),
    "90023": ("tenant", "set tenant to the Directory (tenant) ID or the tenant's domain"),
    "700016": ("client_id", "set client_id to the Application (client) ID of an app registered in this tenant "
                            "(or check tenant)"),
    "7000112": ("client_id", "the application is disabled: enable it in Microsoft Entra ID, or use another"),
    "7000215": ("client_secret", "use the client secret's Value, not its Secret ID; or make a new secret under "
                                 "Certificates & secrets"),
    "7000222": ("client_secret", "the client secret expired: make a new one under Certificates & secrets and "
                                 "store it (postroom secrets set)"),
    "700027": ("client_certificate", "upload this certificate (the public part, .cer/.pem) to the app "
                                     "registration under Certificates & secrets, and check client_certificate_key "
                                     "is its key"),
    "700024": ("client_certificate", "the assertion's time is off: set this machine's clock right (NTP)"),
    "70011": ("scope", "set scope: https://outlook.office365.com/.default"),
    "1002012": ("scope", "set scope: https://outlook.office365.com/.default"),
    "500011": ("scope", "set scope: https://outlook.office365.com/.default, and " + _CONSENT),
    "65001": ("client_id", _CONSENT),
}

#: OAuth ``error`` -> (setting, fix) when no AADSTS code says more.
_OAUTH: dict[str, tuple[str, str]] = {
    "invalid_client": ("client_secret", "check client_id and the client secret or certificate"),
    "invalid_scope": ("scope", "set scope: https://outlook.office365.com/.default"),
    "unauthorized_client": ("client_id", "allow the client-credentials grant for this application"),
    "invalid_request": ("tenant", "check tenant (or token_url) and client_id"),
}


@dataclass(frozen=True)
class OAuthRefusal:
    """The parts of an OAuth error reply worth showing."""

    status: int
    error: str
    description: str

    @property
    def aadsts(self) -> str:
        match = _AADSTS.search(self.description)
        return match.group(1) if match else ""

    def text(self) -> str:
        parts = [p for p in (self.error, self.description) if p]
        return f"HTTP {self.status} " + (": ".join(parts) or "without an OAuth error")


def read_refusal(exc: urllib.error.HTTPError, secrets: list[str]) -> OAuthRefusal:
    """The ``error`` and the first sentence of ``error_description`` of an HTTP error reply."""
    try:
        payload = json.loads(exc.read().decode("utf-8"))
    except (ValueError, OSError):
        payload = None
    if not isinstance(payload, dict):
        return OAuthRefusal(exc.code, "", redact(str(exc.reason or ""), secrets))
    description = str(payload.get("error_description") or "").strip().splitlines()
    first = description[0] if description else ""
    return OAuthRefusal(exc.code, redact(str(payload.get("error") or ""), secrets)[:80], redact(first, secrets)[:300])


def client_credentials_refused(refusal: OAuthRefusal, token_url: str, client_id: str,
                               certificate: bool) -> AuthenticationFailed:
    """The token endpoint refused the client credentials: which setting, and the fix."""
    field, fix = _ENTRA.get(refusal.aadsts) or _OAUTH.get(refusal.error) or (
        "client_id", "check tenant, client_id and the client secret or certificate")
    if field == "client_secret" and certificate:
        field = "client_certificate"
        if refusal.aadsts not in _ENTRA:
            fix = ("upload the certificate to the app registration (Certificates & secrets) and check "
                   "client_certificate_key is its key")
    return AuthenticationFailed(
        f"the token endpoint {token_url} refused the client credentials of client {client_id!r} "
        f"({refusal.text()})",
        field=field, fix=fix,
    )
