"""``/api/schedules``: the list (any role), enable and disable (builder), and the errors
(no such schedule, not a schedule, a viewer)."""

from __future__ import annotations

from pathlib import Path

from postroom.services import import_paths
from postroom.web._auth import Role
from support.apikit import api_client

COMPONENTS = """\
type: process
name: Hello
id: hello
start: start
shapes:
  start: {type: start, mode: no_data, next: stop}
  stop: {type: stop}
---
type: schedule
id: nightly
name: Nightly hello
process: hello
cron: "@daily"
timezone: America/New_York
catch_up: none
"""


def test_list_disable_enable_and_errors(home: Path, tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(COMPONENTS)
    with api_client(home) as api:
        import_paths(api.repo, [tmp_path / "c.yaml"])
        api.as_role(Role.viewer)
        [row] = api.get("/api/schedules").json()
        assert {k: row[k] for k in ("id", "name", "process", "cron", "timezone", "enabled", "catch_up", "version",
                                    "last_status")} == {
            "id": "nightly", "name": "Nightly hello", "process": "hello", "cron": "@daily",
            "timezone": "America/New_York", "enabled": True, "catch_up": "none", "version": 1, "last_status": None}
        assert row["next_due_at"].endswith(("T05:00:00Z", "T04:00:00Z", "T05:00:00+00:00", "T04:00:00+00:00"))
        refused = api.post("/api/schedules/nightly/disable")
        assert refused.status_code == 403 and "builder" in refused.json()["detail"]
        assert api.repo.get_component("nightly").version == 1  # nothing changed

        api.as_role(Role.builder)
        off = api.post("/api/schedules/nightly/disable")
        assert off.status_code == 200 and off.json()["enabled"] is False and off.json()["next_due_at"] is None
        assert api.post("/api/schedules/nightly/disable").json()["version"] == 2  # already off: no new version
        on = api.post("/api/schedules/nightly/enable")
        assert on.status_code == 200 and on.json()["enabled"] is True and on.json()["version"] == 3
        assert api.repo.get_component("nightly").body["enabled"] is True

        missing = api.post("/api/schedules/nope/enable")
        assert missing.status_code == 404 and "no schedule with id 'nope'" in missing.json()["detail"]
        wrong = api.post("/api/schedules/hello/enable")
        assert wrong.status_code == 422 and "'hello' is a process, not a schedule" in wrong.json()["detail"]


def test_a_schedule_saved_through_the_components_api_is_checked_as_on_import(home: Path) -> None:
    body = {"type": "schedule", "id": "api-made", "process": "nothing-here", "cron": "0 2 * * *"}
    with api_client(home) as api:
        answer = api.post("/api/components", json={"body": body})
        assert answer.status_code == 422, answer.text
        assert "process: process 'nothing-here' does not exist" in answer.json()["detail"]
        assert [e["field"] for e in answer.json()["errors"]] == ["process"]
        bad_zone = api.post("/api/components", json={"body": {**body, "timezone": "Europe/Pariss"}})
        assert bad_zone.status_code == 422 and "did you mean Europe/Paris?" in bad_zone.json()["detail"]
        assert api.get("/api/schedules").json() == []
