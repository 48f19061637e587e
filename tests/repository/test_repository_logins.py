"""Logins in the repository (revision 0005), on SQLite and PostgreSQL: users, sessions and
API tokens, stored as hashes only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from postroom.errors import ConfigError
from postroom.repository import ApiTokenRecord, Repository, SessionRecord, UserRecord


def _rows(url: str, sql: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)))
    finally:
        engine.dispose()


@pytest.mark.fast_on_sqlite
def test_users_add_list_delete(repo: Repository, database_url: str) -> None:
    assert repo.has_users() is False and repo.list_users() == []
    stored = repo.add_user(UserRecord(name="zoe", role="viewer", password_hash="$argon2id$fake-z"))
    repo.add_user(UserRecord(name="anna", role="admin", password_hash="$argon2id$fake-a"))
    assert stored.created_at is not None and stored.created_at.tzinfo is not None
    assert repo.has_users() is True
    assert [(u.name, u.role) for u in repo.list_users()] == [("anna", "admin"), ("zoe", "viewer")]
    assert repo.get_user("anna").password_hash == "$argon2id$fake-a"  # type: ignore[union-attr]
    assert repo.get_user("nobody") is None
    with pytest.raises(ConfigError, match="a user named 'anna' already exists"):
        repo.add_user(UserRecord(name="anna", role="viewer", password_hash="x"))
    assert [r.role for r in _rows(database_url, "SELECT role FROM users WHERE name = 'anna'")] == ["admin"]
    assert repo.delete_user("zoe") is True and repo.delete_user("zoe") is False
    assert [u.name for u in repo.list_users()] == ["anna"]


@pytest.mark.fast_on_sqlite
def test_sessions_touch_expire_and_end_with_their_user(repo: Repository) -> None:
    repo.add_user(UserRecord(name="anna", role="admin", password_hash="h"))
    t0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    repo.create_session(SessionRecord("a" * 64, "anna", t0, t0))
    repo.create_session(SessionRecord("b" * 64, "anna", t0, t0))
    repo.create_session(SessionRecord("c" * 64, "anna", t0, t0))
    assert repo.get_session("a" * 64) == SessionRecord("a" * 64, "anna", t0, t0)
    repo.touch_session("a" * 64, t0 + timedelta(hours=2))
    assert repo.get_session("a" * 64).last_seen_at == t0 + timedelta(hours=2)  # type: ignore[union-attr]
    assert repo.delete_sessions(idle_before=t0 + timedelta(hours=1)) == 2  # b and c were idle
    assert repo.get_session("b" * 64) is None and repo.get_session("a" * 64) is not None
    assert repo.delete_sessions(token_hash="nope") == 0
    repo.create_session(SessionRecord("d" * 64, "anna", t0, t0))
    assert repo.delete_user("anna") is True
    assert repo.get_session("a" * 64) is None and repo.get_session("d" * 64) is None


@pytest.mark.fast_on_sqlite
def test_api_tokens_by_hash(repo: Repository) -> None:
    stored = repo.add_api_token(ApiTokenRecord(name="nightly", token_hash="f" * 64, role="builder"))
    assert stored.created_at is not None and stored.last_used_at is None
    found = repo.find_api_token("f" * 64)
    assert found is not None and (found.name, found.role) == ("nightly", "builder")
    assert repo.find_api_token("e" * 64) is None
    with pytest.raises(ConfigError, match="a token named 'nightly' already exists"):
        repo.add_api_token(ApiTokenRecord(name="nightly", token_hash="e" * 64, role="viewer"))
    used = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)
    repo.touch_api_token("nightly", used)
    assert [(t.name, t.last_used_at) for t in repo.list_api_tokens()] == [("nightly", used)]
    assert repo.delete_api_token("nightly") is True and repo.delete_api_token("nightly") is False
    assert repo.find_api_token("f" * 64) is None
