"""Issue 9: every API route needs a login or a token, except /api/health and /api/login; every
state-changing route refuses a session without its CSRF token. The routes are walked from the
app itself (its OpenAPI route list), so a route added later is checked with no change here."""

from __future__ import annotations

import re

from fastapi.routing import APIRoute

from logins.conftest import Web
from postroom.web._auth import STATE_CHANGING

OPEN = {("GET", "/api/health"), ("POST", "/api/login")}


def _routes(web: Web) -> list[tuple[str, str]]:
    found = sorted({(method, re.sub(r"\{[^}]+\}", "x", route.path))
                    for route in web.app.routes if isinstance(route, APIRoute)
                    for method in route.methods})
    assert len(found) >= 9, found  # the read routes and the login routes at least
    assert set(found) >= OPEN and {path for _, path in found} == {p for _, p in found if p.startswith("/api")}
    return found


def test_every_route_but_health_and_login_answers_401_without_credentials(web: Web) -> None:
    web.add_users("anna")
    client = web.client()
    for method, path in _routes(web):
        answer = client.request(method, path, {} if method in STATE_CHANGING else None)
        if (method, path) in OPEN:
            assert answer.status != 401, (method, path, answer)
        else:
            assert answer.status == 401, (method, path, answer)
            assert "log in first" in answer.json()["detail"]
        bad_token = client.request(method, path, headers={"Authorization": "Bearer prt_forged"})
        assert bad_token.status == (401 if (method, path) not in OPEN else bad_token.status), (method, path)


def test_every_state_changing_route_refuses_a_session_without_csrf(web: Web) -> None:
    web.add_users("anna")
    client = web.client()
    client.login("anna")
    changing = [(m, p) for m, p in _routes(web) if m in STATE_CHANGING and (m, p) not in OPEN]
    assert ("POST", "/api/logout") in changing
    for method, path in changing:
        for headers in ({}, {"X-CSRF-Token": "forged"}):
            answer = client.request(method, path, {}, headers=headers)
            assert answer.status == 403, (method, path, headers, answer)
            assert "X-CSRF-Token" in answer.json()["detail"]
    assert client.request("GET", "/api/session").status == 200  # still logged in: nothing was done
