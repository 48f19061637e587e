"""A scripted session through the API with a real password (a connection to a real devmail,
its test, a send through it, versions, diffs, YAML, listings, errors): the password appears
in no response body. And every route but /api/health answers 401 to a caller with no login."""

from __future__ import annotations

import copy

import pytest

from postroom.devmail.pytest_plugin import DEVMAIL_PASSWORD
from postroom.web._auth import Role, current_principal
from support.apikit import api_client

SEND: dict = {"type": "operation", "connector": "mail", "name": "Send", "id": "send",
              "settings": {"action": "send", "from": "clinic@example.com", "to": "alice@example.com",
                           "subject": "Hello", "disposition": "inline"}}
PROCESS: dict = {"type": "process", "name": "Hello", "id": "hello", "start": "start",
                 "shapes": {"start": {"type": "start", "mode": "data_passthrough", "next": "send"},
                            "send": {"type": "connector", "connection": "devmail", "operation": "send"}}}


def test_the_password_never_comes_back(home, devmail) -> None:
    with api_client(home) as api:
        settings = devmail.connection_settings("smtp")
        assert settings["password"] == DEVMAIL_PASSWORD
        body = {"type": "connection", "connector": "mail", "name": "Devmail", "id": "devmail", "settings": settings}
        assert api.post("/api/components", json={"body": body}).status_code == 201
        tested = api.post("/api/components/devmail/test").json()
        assert tested["ok"] is True, tested
        changed = copy.deepcopy(body)
        changed["settings"]["password"] = None
        changed["settings"]["port"] = devmail.smtp_port
        changed["name"] = "Devmail (local)"
        assert api.put("/api/components/devmail", json={"body": changed, "base_version": 1}).status_code == 200
        for path in ("/api/components?body=true", "/api/components/devmail", "/api/components/devmail?version=1",
                     "/api/components/devmail/versions", "/api/components/devmail/diff?from=1&to=2",
                     "/api/components/devmail/yaml", "/api/components/devmail/yaml?version=1"):
            assert api.get(path).status_code == 200, path
        api.post("/api/components", json={"body": SEND})
        api.post("/api/components", json={"body": PROCESS})
        started = api.post("/api/processes/hello/run", json={"mode": "test", "inputs": [{"text": "Hi Alice"}]})
        execution_id = started.json()["execution_id"]
        with api.client.stream("GET", f"/api/executions/{execution_id}/events") as stream:
            api.seen.append("".join(stream.iter_lines()))
        assert devmail.wait_for(1)[0].subject == "Hello"
        for path in (f"/api/executions/{execution_id}?documents=true", f"/api/executions/{execution_id}/log",
                     f"/api/executions/{execution_id}/documents", "/api/executions", "/api/executions.csv",
                     "/api/connectors"):
            assert api.get(path).status_code == 200, path
        wrong = copy.deepcopy(body)
        wrong["settings"]["password"] = "not-" + DEVMAIL_PASSWORD
        wrong["id"] = "wrong"
        api.post("/api/components", json={"body": wrong})
        failed = api.post("/api/components/wrong/test")
        assert failed.status_code in (200, 502) and "not-" + DEVMAIL_PASSWORD not in failed.text
        api.as_role(Role.admin)
        assert api.get("/api/secrets").status_code == 200
    assert len(api.seen) > 20
    for text in api.seen:
        assert DEVMAIL_PASSWORD not in text


@pytest.mark.fast
def test_every_route_needs_a_login(home) -> None:
    with api_client(home) as api:
        app = api.client.app
        app.dependency_overrides.pop(current_principal)  # type: ignore[attr-defined]
        paths = app.openapi()["paths"]  # type: ignore[attr-defined]
        assert len(paths) > 20
        for template, operations in paths.items():
            if template in ("/api/health", "/api/login"):  # open by design (the login tests check these)
                continue
            path = template.replace("{", "").replace("}", "")
            for method in operations:
                answer = api.request(method.upper(), path, json={})
                assert answer.status_code == 401, (method, template, answer.text)
