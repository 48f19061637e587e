"""Issue 9, item 2: logging in and out through a real HTTP server, sessions in HttpOnly
SameSite=Strict cookies, CSRF on state-changing requests, the login rate limit, roles, and
no user yet (503 with the hint). No test here overrides ``current_principal``."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from fastapi import Depends
from sqlalchemy import create_engine, text

from logins.conftest import PASSWORDS, Web
from postroom.repository import open_repository
from postroom.services import add_user
from postroom.web._auth import Role, require

HINT = "no user yet: create the first with: postroom users add NAME --role admin --password-stdin"


def test_no_user_yet_answers_the_hint_until_one_is_added_meanwhile(web: Web) -> None:
    client = web.client()
    for method, path in (("GET", "/api/components"), ("GET", "/api/session"), ("POST", "/api/login"),
                         ("GET", "/api/users"), ("GET", "/api/nope")):
        answer = client.request(method, path, {"user_name": "anna", "password": "x"} if method == "POST" else None)
        assert (answer.status, answer.json()) == (503, {"detail": HINT}), (method, path)
    assert client.request("GET", "/api/health").status == 200
    # the CLI adds the first user through its own connection while the server runs
    other = open_repository(home=web.repo.home)
    add_user(other, "anna", "admin", PASSWORDS["anna"])
    other.close()
    client.login("anna")
    assert client.request("GET", "/api/components").json() == []


def test_login_sets_a_strict_httponly_cookie_and_answers_the_csrf_token(web: Web) -> None:
    web.add_users("anna")
    client = web.client()
    answer = client.request("POST", "/api/login", {"user_name": "anna", "password": PASSWORDS["anna"]})
    assert answer.status == 200
    body = answer.json()
    assert body["user"] == {"name": "anna", "role": "admin"} and len(body["csrf_token"]) >= 32
    cookie = answer.header("set-cookie") or ""
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert flags[0].startswith("postroom_session=") and len(flags[0]) > 40
    assert "httponly" in flags and "samesite=strict" in flags and "path=/" in flags
    assert "secure" not in flags  # plain http on 127.0.0.1; set behind https
    session = client.request("GET", "/api/session")
    assert session.status == 200 and session.json() == body
    assert client.request("GET", "/api/components").status == 200
    assert web.client().request("GET", "/api/session").status == 401  # another browser: not logged in


def test_wrong_password_and_unknown_user_get_the_same_401(web: Web) -> None:
    web.add_users("anna")
    client = web.client()
    wrong = client.request("POST", "/api/login", {"user_name": "anna", "password": "not-it"})
    unknown = client.request("POST", "/api/login", {"user_name": "nobody", "password": "not-it"})
    assert wrong.status == unknown.status == 401
    assert wrong.json() == unknown.json() == {"detail": "wrong user name or password: check both and try again"}
    assert wrong.header("set-cookie") is None and client.cookies == {}
    malformed = client.request("POST", "/api/login", {"user_name": "anna", "password": 12345})
    assert malformed.status == 422 and [e["field"] for e in malformed.json()["errors"]] == ["password"]
    assert "12345" not in malformed.text


def test_login_is_rate_limited_per_user_name(web: Web) -> None:
    web.add_users("anna")
    client = web.client()
    for _ in range(5):
        assert client.request("POST", "/api/login", {"user_name": "anna", "password": "guess"}).status == 401
    for password in ("guess", PASSWORDS["anna"]):  # even the right password waits
        limited = client.request("POST", "/api/login", {"user_name": "anna", "password": password})
        assert limited.status == 429 and "too many failed logins" in limited.json()["detail"]
        assert 1 <= int(limited.header("retry-after") or "0") <= 301
    assert client.cookies == {}
    web.clock[0] += 301  # five minutes later
    client.login("anna")


def test_logout_needs_csrf_and_ends_the_session(web: Web) -> None:
    web.add_users("anna")
    client = web.client()
    csrf = client.login("anna")
    cookie = dict(client.cookies)
    assert client.request("POST", "/api/logout").status == 403
    wrong = csrf[:-1] + ("1" if csrf.endswith("0") else "0")  # one character off (a token ends in 0 one time in 16)
    assert client.request("POST", "/api/logout", headers={"X-CSRF-Token": wrong}).status == 403
    answer = client.request("POST", "/api/logout", headers={"X-CSRF-Token": csrf})
    assert answer.status == 204 and client.cookies == {}
    replay = web.client()
    replay.cookies.update(cookie)  # the old cookie, kept by an attacker
    gone = replay.request("GET", "/api/components")
    assert gone.status == 401 and "log in again" in gone.json()["detail"]


def test_roles_viewer_cannot_post_builder_cannot_list_users(web: Web) -> None:
    @web.app.post("/api/test-only/builder-action", dependencies=[Depends(require(Role.builder))])
    def action() -> dict[str, bool]:
        return {"done": True}

    web.add_users("anna", "bert", "vera")
    viewer, builder, admin = web.client(), web.client(), web.client()
    csrf = {"vera": viewer.login("vera"), "bert": builder.login("bert"), "anna": admin.login("anna")}
    refused = viewer.request("POST", "/api/test-only/builder-action", headers={"X-CSRF-Token": csrf["vera"]})
    assert refused.status == 403 and "needs the builder role" in refused.json()["detail"]
    assert builder.request("POST", "/api/test-only/builder-action",
                           headers={"X-CSRF-Token": csrf["bert"]}).json() == {"done": True}
    assert builder.request("POST", "/api/test-only/builder-action").status == 403  # no CSRF token
    assert builder.request("GET", "/api/users").status == 403
    users = admin.request("GET", "/api/users")
    assert users.status == 200
    assert [(u["name"], u["role"]) for u in users.json()] == [("anna", "admin"), ("bert", "builder"),
                                                                ("vera", "viewer")]
    assert all(set(u) == {"name", "role", "created_at"} for u in users.json())


def test_an_idle_session_ends_and_a_deleted_user_is_logged_out(web: Web) -> None:
    web.add_users("anna", "bert")
    idle, deleted = web.client(), web.client()
    idle.login("anna")
    deleted.login("bert")
    (record,) = [s for s in _sessions(web) if s[1] == "anna"]
    web.repo.touch_session(record[0], web.repo.get_session(record[0]).last_seen_at - timedelta(hours=13))  # type: ignore[union-attr]
    assert idle.request("GET", "/api/session").status == 401
    assert web.repo.get_session(record[0]) is None
    assert deleted.request("GET", "/api/session").status == 200
    web.repo.delete_user("bert")
    assert deleted.request("GET", "/api/session").status == 401


def _sessions(web: Web) -> list[tuple[str, str]]:
    engine = create_engine(f"sqlite:///{web.repo.home / 'postroom.db'}")
    try:
        with engine.connect() as conn:
            return [(r.token_hash, r.user_name) for r in conn.execute(text("SELECT * FROM sessions"))]
    finally:
        engine.dispose()


def test_the_password_is_never_in_an_answer_a_log_or_a_row(web: Web, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    web.add_users("anna")
    client = web.client()
    csrf = client.login("anna")
    client.request("POST", "/api/login", {"user_name": "anna", "password": PASSWORDS["anna"] + "x"})
    client.request("POST", "/api/login", {"user_name": "nobody", "password": PASSWORDS["anna"]})
    for path in ("/api/session", "/api/users", "/api/components", "/api/health"):
        client.request("GET", path)
    client.request("POST", "/api/logout", headers={"X-CSRF-Token": csrf})
    for answer in client.seen:
        assert PASSWORDS["anna"] not in answer.text and PASSWORDS["anna"] not in str(answer.headers)
    assert PASSWORDS["anna"] not in caplog.text
    engine = create_engine(f"sqlite:///{web.repo.home / 'postroom.db'}")
    with engine.connect() as conn:
        (row,) = conn.execute(text("SELECT * FROM users"))
    engine.dispose()
    assert row.password_hash.startswith("$argon2id$") and PASSWORDS["anna"] not in str(tuple(row))
    assert (web.repo.home / "postroom.db").read_bytes().find(PASSWORDS["anna"].encode()) == -1


def test_the_session_cookie_is_stored_only_as_a_hash(web: Web) -> None:
    web.add_users("anna")
    client = web.client()
    client.login("anna")
    token = client.cookies["postroom_session"]
    ((token_hash, user),) = _sessions(web)
    assert user == "anna" and token not in token_hash and len(token_hash) == 64


def test_a_test_that_overrides_current_principal_needs_no_user(web: Web) -> None:
    """Other routes' tests override the seam; the first-user gate then stands aside."""
    from postroom.web._auth import Principal, current_principal

    client = web.client()
    assert client.request("GET", "/api/components").status == 503
    web.app.dependency_overrides[current_principal] = lambda: Principal("tester", Role.builder, "session")
    try:
        assert client.request("GET", "/api/components").json() == []
        assert client.request("GET", "/api/users").status == 403  # the role is still checked
    finally:
        web.app.dependency_overrides.clear()
    assert client.request("GET", "/api/components").status == 503
