"""Logins for the web app and the API: users, sessions, API tokens and the login rate limit.

Only hashes are stored: argon2 for passwords (verified against a dummy hash when the user
does not exist, so both refusals take comparable time), SHA-256 for session and API tokens
(random 32-byte values: a fast hash is enough, and a lookup by hash needs no scan). The CSRF
token of a session is derived from its cookie token (HMAC), so it is never stored either.

Nothing is cached: each login and each request reads the users, sessions and tokens from
the repository, so a user added or deleted with the CLI counts at once in a running serve.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..errors import ConfigError, NotFound
from ..repository import ApiTokenRecord, Repository, SessionRecord, UserRecord

__all__ = [
    "ROLES",
    "SESSION_IDLE",
    "TOKEN_PREFIX",
    "LoginRefused",
    "Logins",
    "LoginLimiter",
    "SessionInfo",
    "add_user",
    "check_role",
    "create_api_token",
    "delete_user",
    "hash_password",
    "revoke_api_token",
    "verify_password",
]

#: the roles, least first: viewer reads; builder also edits, tests and runs; admin also
#: manages users, secrets and environments
ROLES = ("viewer", "builder", "admin")
#: a session unused this long has ended
SESSION_IDLE = timedelta(hours=12)
#: every API token starts with this, so a leaked one is easy to recognise (and to grep for)
TOKEN_PREFIX = "prt_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,199}$")
_TOUCH_EVERY = timedelta(seconds=60)  # write last_seen_at at most this often
_MAX_KEYS = 10_000  # the rate limit prunes expired counts beyond this many names and addresses


def _now() -> datetime:
    return datetime.now(UTC)


# -- passwords -------------------------------------------------------------------------------------
_HASHER_LOCK = threading.Lock()
_DUMMY: list[str] = []


def _hasher():  # noqa: ANN202 - argon2 is imported on first use (the CLI imports lazily)
    from argon2 import PasswordHasher

    return PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (salted; the parameters are in the hash)."""
    return str(_hasher().hash(password))


def verify_password(password_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(_hasher().verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def _dummy_hash() -> str:
    """A hash to verify against when the user does not exist (same work as a real check)."""
    with _HASHER_LOCK:
        if not _DUMMY:
            _DUMMY.append(hash_password(secrets.token_hex(16)))
        return _DUMMY[0]


# -- users ---------------------------------------------------------------------------------------
def check_role(role: str) -> str:
    if role not in ROLES:
        raise ConfigError(f"unknown role {role!r}", field="--role", fix=f"use one of: {', '.join(ROLES)}")
    return role


def _check_name(name: str, what: str) -> str:
    if not _NAME.match(name):
        raise ConfigError(f"the {what} name {name!r} is not allowed", field="NAME",
                          fix="use 1 to 200 letters, digits and . _ @ - (starting with a letter or digit)")
    return name


def add_user(repo: Repository, name: str, role: str, password: str) -> UserRecord:
    """Store a new user with an argon2 hash of ``password``; ConfigError (exit 2) for a bad
    name, an unknown role, an empty password or a name already taken."""
    _check_name(name, "user")
    check_role(role)
    if not password:
        raise ConfigError("the password is empty", field="password", fix="type a password (twice) or pipe one "
                                                                           "in with --password-stdin")
    if repo.get_user(name) is not None:
        raise ConfigError(f"a user named {name!r} already exists", field="NAME",
                          fix="pick another name, or delete the old one first: postroom users delete NAME")
    return repo.add_user(UserRecord(name=name, role=role, password_hash=hash_password(password)))


def delete_user(repo: Repository, name: str) -> None:
    """Remove the user (their sessions end at once)."""
    if not repo.delete_user(name):
        raise NotFound(f"no user named {name!r}", fix="see: postroom users list")


# -- API tokens ------------------------------------------------------------------------------------
def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_api_token(repo: Repository, name: str, role: str) -> tuple[ApiTokenRecord, str]:
    """A new token with its own role; returns the record and the token (shown once, never stored)."""
    _check_name(name, "token")
    check_role(role)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return repo.add_api_token(ApiTokenRecord(name=name, token_hash=_token_hash(token), role=role)), token


def revoke_api_token(repo: Repository, name: str) -> None:
    if not repo.delete_api_token(name):
        raise NotFound(f"no API token named {name!r}", fix="see: postroom tokens list")


# -- the login rate limit --------------------------------------------------------------------------
class LoginLimiter:
    """At most ``limit`` failed logins per user name and per client address within
    ``window`` seconds. A success clears only what that address did, so it never resets
    the count of another address guessing the same user's password."""

    def __init__(self, limit: int = 5, window: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self._clock = limit, window, clock
        self._failures: dict[str, deque[tuple[float, str]]] = {}
        self._next_prune = float("-inf")
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[tuple[float, str]]:
        entries = self._failures.setdefault(key, deque())
        while entries and entries[0][0] <= now - self.window:
            entries.popleft()
        return entries

    def retry_after(self, user_name: str, address: str) -> int | None:
        """Seconds to wait when either count is used up, else None."""
        now = self._clock()
        with self._lock:
            waits = [entries[0][0] + self.window - now
                     for entries in (self._recent("user:" + user_name, now), self._recent("addr:" + address, now))
                     if len(entries) >= self.limit]
        return max(1, int(max(waits)) + 1) if waits else None

    def failed(self, user_name: str, address: str) -> None:
        now = self._clock()
        with self._lock:
            if len(self._failures) > _MAX_KEYS and now >= self._next_prune:  # forget expired counts
                self._failures = {k: v for k, v in self._failures.items() if self._recent(k, now)}
                self._next_prune = now + self.window / 10  # at most ten scans a window
            self._recent("user:" + user_name, now).append((now, address))
            self._recent("addr:" + address, now).append((now, address))

    def succeeded(self, user_name: str, address: str) -> None:
        with self._lock:
            self._failures.pop("addr:" + address, None)
            entries = self._failures.get("user:" + user_name)
            if entries:
                self._failures["user:" + user_name] = deque(e for e in entries if e[1] != address)


# -- sessions --------------------------------------------------------------------------------------
class LoginRefused(Exception):
    """A login refused: wrong name or password (``retry_after`` None), or too many attempts."""

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message, self.retry_after = message, retry_after


@dataclass(frozen=True)
class SessionInfo:
    """Who a session (or an API token) belongs to; ``csrf_token`` is None for a token."""

    name: str
    role: str
    csrf_token: str | None
    via: str


WRONG_LOGIN = "wrong user name or password: check both and try again"


class Logins:
    """Logging in and out, and telling who a session cookie or API token belongs to."""

    def __init__(self, repo: Repository, *, idle: timedelta = SESSION_IDLE, limiter: LoginLimiter | None = None) -> None:
        self.repo, self.idle = repo, idle
        self.limiter = limiter or LoginLimiter()

    @staticmethod
    def csrf_for(session_token: str) -> str:
        """The session's CSRF token, derived from its cookie token (never stored)."""
        return hmac.new(session_token.encode("utf-8"), b"postroom-csrf", hashlib.sha256).hexdigest()

    def has_users(self) -> bool:
        return self.repo.has_users()

    def users(self) -> list[dict[str, str | None]]:
        """Every user as ``{"name", "role", "created_at"}`` (never a hash)."""
        return [{"name": u.name, "role": u.role, "created_at": u.created_at.isoformat() if u.created_at else None}
                for u in self.repo.list_users()]

    def login(self, user_name: str, password: str, address: str) -> tuple[SessionInfo, str]:
        """A new session for the user: its info and the cookie's token; else LoginRefused."""
        wait = self.limiter.retry_after(user_name, address)
        if wait is not None:
            raise LoginRefused(f"too many failed logins: wait {wait} seconds and try again", retry_after=wait)
        user = self.repo.get_user(user_name)
        ok = verify_password(user.password_hash if user else _dummy_hash(), password)
        if user is None or not ok:
            self.limiter.failed(user_name, address)
            raise LoginRefused(WRONG_LOGIN)
        self.limiter.succeeded(user_name, address)
        token = secrets.token_urlsafe(32)
        now = _now()
        self.repo.create_session(SessionRecord(token_hash=_token_hash(token), user_name=user.name,
                                               created_at=now, last_seen_at=now))
        return SessionInfo(user.name, user.role, self.csrf_for(token), "session"), token

    def session(self, token: str) -> SessionInfo | None:
        """Who the session cookie's token belongs to; None when unknown, ended or idle too long."""
        token_hash = _token_hash(token)
        found = self.repo.get_session(token_hash)
        if found is None:
            return None
        now = _now()
        user = self.repo.get_user(found.user_name)
        if user is None or found.last_seen_at < now - self.idle:
            self.repo.delete_sessions(token_hash=token_hash)
            return None
        if found.last_seen_at < now - _TOUCH_EVERY:
            self.repo.touch_session(token_hash, now)
        return SessionInfo(user.name, user.role, self.csrf_for(token), "session")

    def logout(self, token: str) -> None:
        self.repo.delete_sessions(token_hash=_token_hash(token))

    def token(self, token: str) -> SessionInfo | None:
        """Who an API token belongs to (its own name and role); None when unknown or revoked."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        found = self.repo.find_api_token(_token_hash(token))
        if found is None:
            return None
        now = _now()
        if found.last_used_at is None or found.last_used_at < now - _TOUCH_EVERY:
            self.repo.touch_api_token(found.name, now)
        return SessionInfo(found.name, found.role, None, "token")

    def purge(self) -> int:
        """End the sessions idle too long; how many went."""
        return self.repo.delete_sessions(idle_before=_now() - self.idle)
