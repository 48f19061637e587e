"""API tokens over HTTP: ``Authorization: Bearer`` with the token's own role, no CSRF token
and no cookie, and 401 once revoked or when malformed."""

from __future__ import annotations

from logins.conftest import Web
from postroom.services import create_api_token, revoke_api_token


def test_a_bearer_token_acts_with_its_own_role_until_revoked(web: Web) -> None:
    web.add_users("vera")
    _, viewer_token = create_api_token(web.repo, "dashboard", "viewer")
    _, admin_token = create_api_token(web.repo, "provisioning", "admin")
    client = web.client()
    as_viewer = {"Authorization": f"Bearer {viewer_token}"}
    session = client.request("GET", "/api/session", headers=as_viewer)
    assert session.status == 200
    assert session.json() == {"user": {"name": "dashboard", "role": "viewer"}, "csrf_token": None}
    assert client.request("GET", "/api/components", headers=as_viewer).status == 200
    assert client.request("GET", "/api/users", headers=as_viewer).status == 403
    users = client.request("GET", "/api/users", headers={"Authorization": f"Bearer {admin_token}"})
    assert users.status == 200 and [u["name"] for u in users.json()] == ["vera"]
    # state-changing requests with a token need no CSRF token (a script has no cookie to forge)
    assert client.request("POST", "/api/logout", headers=as_viewer).status == 204
    assert client.cookies == {}
    revoke_api_token(web.repo, "dashboard")
    revoked = client.request("GET", "/api/components", headers=as_viewer)
    assert revoked.status == 401 and "unknown or revoked" in revoked.json()["detail"]
    for bad in (f"Bearer {viewer_token[:-2]}", "Bearer ", f"Basic {admin_token}", "Bearer prt_"):
        assert client.request("GET", "/api/components", headers={"Authorization": bad}).status == 401, bad
