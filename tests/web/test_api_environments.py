"""Environments through the REST API: a component of type environment is checked when saved,
``POST /api/processes/{id}/run`` with ``environment`` applies its extensions (the letter goes
to the environment's folder with its process property) and the execution view shows it; an
unknown environment is refused (422) naming the known ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from postroom.web._auth import Role
from support.apikit import api_client


def _components(base: Path) -> list[dict[str, Any]]:
    return [
        {"type": "connection", "connector": "disk", "name": "Folder", "id": "folder",
         "settings": {"directory": str(base / "dev")}},
        {"type": "operation", "connector": "disk", "name": "Write", "id": "write",
         "settings": {"action": "send", "write_option": "overwrite"}},
        {"type": "environment", "name": "Production", "id": "production",
         "extensions": {"connections": {"folder": {"directory": str(base / "prod")}},
                        "process_properties": {"sender": "records@clinic.example"}}},
        {"type": "process", "name": "Letter", "id": "letter", "start": "start", "shapes": {
            "start": {"type": "start", "next": "text"},
            "text": {"type": "message", "text": "Sent by {1}", "parameters": [{"process_property": "sender"}],
                     "next": "name"},
            "name": {"type": "set_properties", "properties": [{"property": "disk.file_name",
                                                               "value": ["letter.txt"]}], "next": "write"},
            "write": {"type": "connector", "connection": "folder", "operation": "write"}}},
    ]


def _create(api, body: dict[str, Any]) -> Any:  # noqa: ANN001
    """POST a component; an environment as an admin (admins manage environments), then back to builder."""
    if body["type"] == "environment":
        api.as_role(Role.admin)
    try:
        return api.post("/api/components", json={"body": body})
    finally:
        api.as_role(Role.builder)


def _finished(api, execution_id: str) -> dict[str, Any]:  # noqa: ANN001
    with api.client.stream("GET", f"/api/executions/{execution_id}/events") as response:
        for _line in response.iter_lines():
            pass
    return api.get(f"/api/executions/{execution_id}").json()


@pytest.mark.fast
def test_a_run_from_the_api_applies_the_environment(home, tmp_path) -> None:
    with api_client(home) as api:
        for body in _components(tmp_path):
            created = _create(api, body)
            assert created.status_code == 201, created.text
        answer = api.post("/api/processes/letter/run", json={"mode": "normal", "environment": "production"})
        assert answer.status_code == 202, answer.text
        detail = _finished(api, answer.json()["execution_id"])
        assert detail["status"] == "complete" and detail["environment"] == "production"
        assert (tmp_path / "prod" / "letter.txt").read_text() == "Sent by records@clinic.example"
        assert not (tmp_path / "dev").exists()
        listed = api.get("/api/executions").json()
        assert [e["environment"] for e in (listed["items"] if isinstance(listed, dict) else listed)] == [
            "production"]

        plain = api.post("/api/processes/letter/run", json={"mode": "normal"})
        assert _finished(api, plain.json()["execution_id"])["environment"] is None
        assert (tmp_path / "dev" / "letter.txt").read_text() == "Sent by "

        unknown = api.post("/api/processes/letter/run", json={"mode": "normal", "environment": "staging"})
        assert unknown.status_code == 422, unknown.text
        assert "no environment 'staging'" in unknown.json()["detail"]
        assert "environments: production" in unknown.json()["detail"]


@pytest.mark.fast
def test_saving_an_environment_checks_what_it_extends(home, tmp_path) -> None:
    with api_client(home) as api:
        for body in _components(tmp_path)[:2]:
            assert api.post("/api/components", json={"body": body}).status_code == 201
        api.as_role(Role.admin)
        bad_setting = {"type": "environment", "name": "E", "id": "e",
                       "extensions": {"connections": {"folder": {"dir": "/tmp/x"}}}}
        answer = api.post("/api/components", json={"body": bad_setting})
        assert answer.status_code == 422, answer.text
        error = answer.json()["errors"][0]
        assert error["field"] == "extensions.connections.folder.dir"
        assert error["message"] == "disk connections have no setting 'dir'"
        assert "directory" in error["fix"]
        unknown = {"type": "environment", "name": "E", "id": "e",
                   "extensions": {"operations": {"nope": {"action": "send"}}}}
        answer = api.post("/api/components", json={"body": unknown})
        assert answer.status_code == 422
        assert answer.json()["errors"][0]["message"] == "operation 'nope' named under extensions.operations does not exist"
        assert api.get("/api/components/e").status_code == 404


@pytest.mark.fast
def test_deployments_through_the_api(home, tmp_path) -> None:
    with api_client(home) as api:
        for body in _components(tmp_path):
            assert _create(api, body).status_code == 201
        process = _components(tmp_path)[3]
        process["shapes"]["text"]["text"] = "Version two, sent by {1}"
        assert api.put("/api/components/letter", json={"body": process}).status_code == 200
        assert api.get("/api/deployments").json() == []
        refused = api.post("/api/deployments", json={"process_id": "letter", "environment": "production"})
        assert refused.status_code == 403  # builders run; admins deploy

        api.as_role(Role.admin)
        deployed = api.post("/api/deployments", json={"process_id": "letter", "environment": "production",
                                                      "version": 1})
        assert deployed.status_code == 201, deployed.text
        assert (deployed.json()["process_version"], deployed.json()["deployed_by"]) == (1, "tester")
        answer = api.post("/api/processes/letter/run", json={"mode": "normal", "environment": "production"})
        detail = _finished(api, answer.json()["execution_id"])
        assert detail["process_version"] == 1
        assert (tmp_path / "prod" / "letter.txt").read_text() == "Sent by records@clinic.example"

        assert api.post("/api/deployments", json={"process_id": "letter", "environment": "production"}).json()[
            "process_version"] == 2
        answer = api.post("/api/processes/letter/run", json={"mode": "normal", "environment": "production"})
        assert _finished(api, answer.json()["execution_id"])["process_version"] == 2
        assert (tmp_path / "prod" / "letter.txt").read_text() == "Version two, sent by records@clinic.example"
        back = api.post("/api/deployments/rollback", json={"process_id": "letter", "environment": "production"})
        assert back.status_code == 201 and back.json()["process_version"] == 1
        assert [(d["process_version"], d["action"]) for d in api.get("/api/deployments?history=true").json()] == [
            (1, "rollback"), (2, "deploy"), (1, "deploy")]
        api.as_role(Role.viewer)
        assert [d["process_version"] for d in api.get("/api/deployments").json()] == [1]

        api.as_role(Role.admin)
        unknown = api.post("/api/deployments", json={"process_id": "letter", "environment": "production",
                                                     "version": 9})
        assert unknown.status_code == 404 and "versions: 1, 2" in unknown.text


@pytest.mark.fast
def test_only_an_admin_creates_changes_or_deletes_an_environment(home, tmp_path) -> None:
    """CONTRACT.md: admins manage environments; a builder edits everything else."""
    with api_client(home) as api:
        components = _components(tmp_path)
        for body in components[:2]:
            assert api.post("/api/components", json={"body": body}).status_code == 201
        environment = components[2]
        refused = api.post("/api/components", json={"body": environment})
        assert refused.status_code == 403, refused.text
        assert "a environment component needs the admin role" not in refused.text
        assert "an environment component needs the admin role" in refused.text
        assert api.get("/api/components/production").status_code == 404

        assert _create(api, environment).status_code == 201
        changed = {**environment, "extensions": {"process_properties": {"sender": "other@clinic.example"}}}
        assert api.put("/api/components/production", json={"body": changed}).status_code == 403
        assert api.delete("/api/components/production").status_code == 403
        # a builder may not turn its own component into an environment either
        assert api.put("/api/components/folder", json={"body": {**environment, "id": "folder"}}).status_code == 403
        assert api.get("/api/components/production").json()["version"] == 1

        api.as_role(Role.admin)
        assert api.put("/api/components/production", json={"body": changed}).status_code == 200
        assert api.delete("/api/components/production").status_code == 204
