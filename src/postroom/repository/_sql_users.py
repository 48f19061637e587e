"""Logins in the SQL repository: users, server-side sessions and API tokens.

Only hashes are stored: an argon2 hash of each password, the SHA-256 of each session
token and API token (the services hash them; the repository never sees a clear one).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, exists, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import ConfigError
from ._records import ApiTokenRecord, SessionRecord, UserRecord
from ._schema import api_tokens, sessions, users, utcnow
from ._sql_core import SqlCore


class UserStore(SqlCore):
    """Users, their sessions, and API tokens."""

    # -- users ------------------------------------------------------------------------------------
    @staticmethod
    def _user(row: Row[Any]) -> UserRecord:
        return UserRecord(name=row.name, role=row.role, password_hash=row.password_hash, created_at=row.created_at)

    def add_user(self, user: UserRecord) -> UserRecord:
        stored = replace(user, created_at=user.created_at or utcnow())
        try:
            with self._write() as conn:
                conn.execute(users.insert().values(name=stored.name, role=stored.role,
                                                   password_hash=stored.password_hash,
                                                   created_at=stored.created_at))
        except IntegrityError:
            raise ConfigError(f"a user named {user.name!r} already exists", field="NAME",
                              fix="pick another name, or delete the old one first: postroom users delete NAME") from None
        return stored

    def get_user(self, name: str) -> UserRecord | None:
        with self._read() as conn:
            row = conn.execute(select(users).where(users.c.name == name)).first()
        return self._user(row) if row is not None else None

    def list_users(self) -> list[UserRecord]:
        with self._read() as conn:
            return [self._user(row) for row in conn.execute(select(users).order_by(users.c.name))]

    def delete_user(self, name: str) -> bool:
        with self._write() as conn:
            conn.execute(delete(sessions).where(sessions.c.user_name == name))
            return conn.execute(delete(users).where(users.c.name == name)).rowcount > 0

    def has_users(self) -> bool:
        with self._read() as conn:
            return bool(conn.execute(select(exists().select_from(users))).scalar())

    # -- sessions ---------------------------------------------------------------------------------
    def create_session(self, session: SessionRecord) -> None:
        with self._write() as conn:
            conn.execute(sessions.insert().values(token_hash=session.token_hash, user_name=session.user_name,
                                                  created_at=session.created_at,
                                                  last_seen_at=session.last_seen_at))

    def get_session(self, token_hash: str) -> SessionRecord | None:
        with self._read() as conn:
            row = conn.execute(select(sessions).where(sessions.c.token_hash == token_hash)).first()
        if row is None:
            return None
        return SessionRecord(token_hash=row.token_hash, user_name=row.user_name, created_at=row.created_at,
                             last_seen_at=row.last_seen_at)

    def touch_session(self, token_hash: str, seen_at: datetime) -> None:
        with self._write() as conn:
            conn.execute(update(sessions).where(sessions.c.token_hash == token_hash).values(last_seen_at=seen_at))

    def delete_sessions(self, token_hash: str | None = None, idle_before: datetime | None = None) -> int:
        query = delete(sessions)
        if token_hash is not None:
            query = query.where(sessions.c.token_hash == token_hash)
        if idle_before is not None:
            query = query.where(sessions.c.last_seen_at < idle_before)
        with self._write() as conn:
            return conn.execute(query).rowcount

    # -- API tokens -------------------------------------------------------------------------------
    @staticmethod
    def _token(row: Row[Any]) -> ApiTokenRecord:
        return ApiTokenRecord(name=row.name, token_hash=row.token_hash, role=row.role, created_at=row.created_at,
                              last_used_at=row.last_used_at)

    def add_api_token(self, token: ApiTokenRecord) -> ApiTokenRecord:
        stored = replace(token, created_at=token.created_at or utcnow())
        try:
            with self._write() as conn:
                conn.execute(api_tokens.insert().values(name=stored.name, token_hash=stored.token_hash,
                                                        role=stored.role, created_at=stored.created_at,
                                                        last_used_at=None))
        except IntegrityError:
            raise ConfigError(f"a token named {token.name!r} already exists", field="NAME",
                              fix="pick another name, or revoke the old one first: postroom tokens revoke NAME") from None
        return stored

    def find_api_token(self, token_hash: str) -> ApiTokenRecord | None:
        with self._read() as conn:
            row = conn.execute(select(api_tokens).where(api_tokens.c.token_hash == token_hash)).first()
        return self._token(row) if row is not None else None

    def list_api_tokens(self) -> list[ApiTokenRecord]:
        with self._read() as conn:
            return [self._token(row) for row in conn.execute(select(api_tokens).order_by(api_tokens.c.name))]

    def delete_api_token(self, name: str) -> bool:
        with self._write() as conn:
            return conn.execute(delete(api_tokens).where(api_tokens.c.name == name)).rowcount > 0

    def touch_api_token(self, name: str, used_at: datetime) -> None:
        with self._write() as conn:
            conn.execute(update(api_tokens).where(api_tokens.c.name == name).values(last_used_at=used_at))
