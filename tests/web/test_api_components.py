"""Components through the REST API: the same checks and messages as postroom import, new
versions, stale versions, diff, YAML as export writes it, delete refused while used, and
secrets that never come back out."""

from __future__ import annotations

import copy

import pytest

from postroom.services import export_components
from postroom.web._auth import Role
from support.apikit import MAIL_CONNECTION, MAIL_OPERATION, api_client

pytestmark = pytest.mark.fast

PROCESS = {"type": "process", "name": "Send one", "id": "send-one", "start": "start",
           "shapes": {"start": {"type": "start", "mode": "no_data", "next": "send"},
                      "send": {"type": "connector", "connection": "gmail-mail-connection",
                               "operation": "gmail-mail-send"}}}

PASSWORD = "pw-Zq81-never-shown"


def test_create_get_update_versions_diff_yaml(home, tmp_path) -> None:
    with api_client(home) as api:
        body = copy.deepcopy(MAIL_CONNECTION)
        body["settings"]["password"] = PASSWORD
        created = api.post("/api/components", json={"body": body})
        assert created.status_code == 201, created.text
        item = created.json()
        assert item["id"] == "gmail-mail-connection" and item["version"] == 1
        assert item["body"]["settings"]["password"] == "${secret:gmail-mail-connection.password}"
        assert item["secrets"]["password"] == "set" and item["secrets"]["client_secret"] == "not set"
        assert api.repo.get_secret("gmail-mail-connection.password") == PASSWORD

        again = api.post("/api/components", json={"body": body})
        assert again.status_code == 409 and "exists already" in again.json()["detail"]

        changed = copy.deepcopy(MAIL_CONNECTION)
        changed["settings"]["port"] = 2587
        changed["settings"]["password"] = None  # the form never holds it: kept
        updated = api.put("/api/components/gmail-mail-connection", json={"body": changed, "base_version": 1})
        assert updated.status_code == 200, updated.text
        assert updated.json()["version"] == 2 and updated.json()["secrets"]["password"] == "set"
        assert updated.json()["body"]["settings"]["password"].startswith("${secret:")
        retyped = api.put("/api/components/gmail-mail-connection", json={"body": {**changed, "type": "operation"}})
        assert retyped.status_code == 422 and retyped.json()["errors"][0]["field"] == "type"
        stale = api.put("/api/components/gmail-mail-connection", json={"body": changed, "base_version": 1})
        assert stale.status_code == 409 and "latest is version 2" in stale.json()["detail"]

        versions = api.get("/api/components/gmail-mail-connection/versions").json()
        assert [v["version"] for v in versions] == [2, 1]
        diff = api.get("/api/components/gmail-mail-connection/diff?from=1&to=2").json()["diff"]
        assert "-  port: 2465" in diff and "+  port: 2587" in diff
        assert api.get("/api/components?q=GMAIL").json()[0]["connector"] == "mail"
        assert api.get("/api/components?type=process").json() == []
        assert api.get("/api/components/gmail-mail-connection?version=1").json()["body"]["settings"]["port"] == 2465

        yaml_text = api.get("/api/components/gmail-mail-connection/yaml").text
        [exported] = export_components(api.repo, tmp_path)  # what postroom export runs
    assert exported == tmp_path / "Tutorials" / "Dr Smith" / "gmail-mail-connection.yaml"
    assert yaml_text == exported.read_text() and "port: 2587" in yaml_text
    assert PASSWORD not in "".join(api.seen)


def test_errors_name_the_field_like_import(home) -> None:
    with api_client(home) as api:
        bad = copy.deepcopy(MAIL_CONNECTION)
        bad["settings"]["port"] = "many"
        bad["settings"]["hots"] = "x"
        answer = api.post("/api/components", json={"body": bad})
        assert answer.status_code == 422
        fields = {e["field"]: e for e in answer.json()["errors"]}
        assert {"settings.port", "settings.hots"} <= set(fields)
        assert "use one of" in fields["settings.hots"]["fix"]
        assert fields["settings.port"]["fix"] == "write a whole number, such as 587"
        process = copy.deepcopy(PROCESS)
        process["shapes"]["start"]["next"] = "nowhere"
        answer = api.post("/api/components", json={"body": process})
        assert answer.status_code == 422
        assert answer.json()["errors"][0]["field"] == "shapes.start.next"
        assert "nowhere" in answer.json()["errors"][0]["message"] and answer.json()["errors"][0]["fix"]
        assert api.get("/api/components").json() == []  # nothing saved
        wrong = api.post("/api/components", json={"nobody": 1})
        assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "body"


def test_delete_refused_while_used(home) -> None:
    with api_client(home) as api:
        for body in (MAIL_CONNECTION, MAIL_OPERATION, PROCESS):
            assert api.post("/api/components", json={"body": body}).status_code == 201
        refused = api.delete("/api/components/gmail-mail-send")
        assert refused.status_code == 409
        assert refused.json()["used_by"] == [{"id": "send-one", "type": "process", "name": "Send one"}]
        assert api.delete("/api/components/send-one").status_code == 204
        assert api.delete("/api/components/gmail-mail-send").status_code == 204
        assert api.get("/api/components/gmail-mail-send").status_code == 404


def test_a_viewer_cannot_write(home) -> None:
    with api_client(home) as api:
        api.as_role(Role.viewer)
        refused = api.post("/api/components", json={"body": MAIL_CONNECTION})
        assert refused.status_code == 403 and "builder" in refused.json()["detail"]
        assert api.get("/api/components").status_code == 200
        assert api.get("/api/secrets").status_code == 403  # secrets are the admin's


def test_secrets_admin(home) -> None:
    with api_client(home) as api:
        body = copy.deepcopy(MAIL_CONNECTION)
        body["settings"]["password"] = "${secret:clinic-pw}"
        api.post("/api/components", json={"body": body})
        assert api.get("/api/components/gmail-mail-connection").json()["secrets"]["password"] == "not set"
        api.as_role(Role.admin)
        assert api.put("/api/secrets/clinic-pw", json={"value": PASSWORD}).status_code == 204
        assert api.get("/api/components/gmail-mail-connection").json()["secrets"]["password"] == "set"
        listed = api.get("/api/secrets").json()
        assert [(s["name"], s["used_by"]) for s in listed] == [("clinic-pw", ["gmail-mail-connection"])]
        assert api.delete("/api/secrets/clinic-pw").status_code == 409
        assert PASSWORD not in "".join(api.seen)
