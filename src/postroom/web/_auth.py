"""Who is asking: the one seam every API route goes through.

Every route but ``/api/health`` and the login route depends on :func:`require` with the
least role it needs. :func:`current_principal` decides who the caller is (a session cookie,
checked against its CSRF token on state-changing methods, or an ``Authorization: Bearer``
API token) and refuses everyone else with 401 (403 for a missing CSRF token). Tests of a
route's own behaviour may override :func:`current_principal` through
``app.dependency_overrides``; the tests of logins, roles and CSRF never do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from fastapi import Depends, HTTPException, Request

__all__ = ["Principal", "Role", "current_principal", "require"]


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


def current_principal(request: Request) -> Principal:
    """The caller, or 401. (The login work replaces this body: sessions, CSRF, tokens.)"""
    raise HTTPException(401, "log in first (POST /api/login) or send an API token as 'Authorization: Bearer ...'")


def require(role: Role) -> Callable[..., Principal]:
    """A FastAPI dependency: the caller, if their role allows ``role``; else 403."""

    def dependency(principal: Principal = Depends(current_principal)) -> Principal:
        if not principal.role.allows(role):
            raise HTTPException(403, f"this needs the {role.value} role; {principal.name!r} is a "
                                     f"{principal.role.value} (an admin can change that with postroom users)")
        return principal

    return dependency
