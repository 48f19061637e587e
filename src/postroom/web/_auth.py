"""Who is asking: the one seam every API route goes through.

Every route but ``/api/health`` and the login route depends on :func:`require` with the
least role it needs. :func:`current_principal` decides who the caller is (a session cookie,
checked against its CSRF token on state-changing methods, or an ``Authorization: Bearer``
API token) and refuses everyone else with 401 (403 for a missing CSRF token). Tests of a
route's own behaviour may override :func:`current_principal` through
``app.dependency_overrides``; the tests of logins, roles and CSRF never do.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from fastapi import Depends, HTTPException, Request

from ..services import Logins, SessionInfo

__all__ = ["SESSION_COOKIE", "STATE_CHANGING", "Principal", "Role", "current_principal", "require"]


class Role(StrEnum):
    """viewer reads; builder also edits, tests and runs; admin also manages users, secrets
    and environments."""

    viewer = "viewer"
    builder = "builder"
    admin = "admin"

    @property
    def rank(self) -> int:
        return ("viewer", "builder", "admin").index(self.value)

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


@dataclass(frozen=True)
class Principal:
    """A logged-in user (through a session) or a script (through an API token)."""

    name: str
    role: Role
    via: Literal["session", "token"]


#: the session cookie (HttpOnly, SameSite=Strict, Path=/); holds a random token whose hash the repository keeps
SESSION_COOKIE = "postroom_session"
#: methods that change state: with a session cookie they need the session's CSRF token
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
NOT_LOGGED_IN = "log in first (POST /api/login) or send an API token as 'Authorization: Bearer ...'"


def _principal(info: SessionInfo) -> Principal:
    return Principal(name=info.name, role=Role(info.role), via="token" if info.via == "token" else "session")


def current_principal(request: Request) -> Principal:
    """The caller, or 401: an ``Authorization: Bearer`` API token, else the session cookie,
    which on a state-changing method must come with its ``X-CSRF-Token`` (else 403)."""
    logins: Logins | None = getattr(request.app.state, "logins", None)
    if logins is None:
        raise HTTPException(401, NOT_LOGGED_IN)
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, value = authorization.partition(" ")
        info = logins.token(value.strip()) if scheme.lower() == "bearer" else None
        if info is None:
            raise HTTPException(401, "the API token is unknown or revoked: create one with postroom tokens create "
                                     "NAME and send it as 'Authorization: Bearer TOKEN'")
        return _principal(info)
    cookie = request.cookies.get(SESSION_COOKIE)
    info = logins.session(cookie) if cookie else None
    if info is None:
        raise HTTPException(401, NOT_LOGGED_IN if not cookie else "your session has ended: log in again")
    if request.method in STATE_CHANGING:
        sent = request.headers.get("x-csrf-token", "")
        if not hmac.compare_digest(sent.encode("utf-8"), (info.csrf_token or "").encode("utf-8")):
            raise HTTPException(403, "the X-CSRF-Token header is missing or wrong: send the csrf_token that "
                                     "POST /api/login or GET /api/session returned")
    return _principal(info)


def require(role: Role) -> Callable[..., Principal]:
    """A FastAPI dependency: the caller, if their role allows ``role``; else 403."""

    def dependency(principal: Principal = Depends(current_principal)) -> Principal:
        if not principal.role.allows(role):
            raise HTTPException(403, f"this needs the {role.value} role; {principal.name!r} is a "
                                     f"{principal.role.value} (an admin can change that with postroom users)")
        return principal

    return dependency
