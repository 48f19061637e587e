"""Runs through the REST API: 202 with the execution id at once (the row exists), progress as
server-sent events to the end, per-shape counts of a decision, process reporting (filters,
CSV, detail, log, documents per shape) and the re-run of failed documents."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from postroom.web._auth import Role
from support.apikit import Api, api_client

PROCESS: dict[str, Any] = {
    "type": "process", "name": "Still a patient", "id": "patients", "start": "start",
    "shapes": {
        "start": {"type": "start", "mode": "data_passthrough", "next": "split"},
        "split": {"type": "data_process", "label": "One per patient",
                  "steps": [{"type": "split", "profile_type": "flat_file", "by": "line", "headers": "retain"}],
                  "next": "decide"},
        "decide": {"type": "decision", "first": {"profile_element": "status"}, "comparison": "equals",
                   "second": "patient", "true": "yes", "false": "no"},
        "yes": {"type": "stop"},
        "no": {"type": "exception", "message": "{1} is not a patient", "parameters": [{"profile_element": "name"}]},
    }}

CSV_TEXT = "name,status\nAlice,patient\nBob,former\nZoe,patient\n"


def _events(api: Api, execution_id: str) -> list[tuple[str, dict[str, Any]]]:
    found = []
    with api.client.stream("GET", f"/api/executions/{execution_id}/events") as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        event = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line[len("event: "):]
            elif line.startswith("data: "):
                found.append((event, json.loads(line[len("data: "):])))
    return found


def _start(api: Api, mode: str = "test") -> str:
    answer = api.post("/api/processes/patients/run", json={"mode": mode, "inputs": [
        {"name": "patients.csv", "text": CSV_TEXT}]})
    assert answer.status_code == 202, answer.text
    execution_id = answer.json()["execution_id"]
    assert api.repo.get_execution(execution_id) is not None  # the row exists before the answer
    return execution_id


@pytest.mark.fast
def test_run_streams_shape_events_to_the_end(home) -> None:
    with api_client(home) as api:
        assert api.post("/api/components", json={"body": PROCESS}).status_code == 201
        execution_id = _start(api)
        events = _events(api, execution_id)
        final_shapes = {}
        for kind, data in events:
            if kind == "shape":
                final_shapes[data["shape"]] = data
        assert events[-1][0] == "execution"
        assert events[-1][1] == {"status": "complete_with_errors", "documents_in": 1, "documents_out": 2,
                                 "documents_failed": 1}
        counts = {s: (d["status"], d["documents_in"], d["documents_out"], d["documents_failed"])
                  for s, d in final_shapes.items()}
        assert counts == {"start": ("passed", 1, 1, 0), "split": ("passed", 1, 3, 0),
                          "decide": ("passed", 3, 3, 0), "yes": ("passed", 2, 0, 0), "no": ("failed", 1, 0, 1)}
        # connecting after the end replays the final state
        replay = _events(api, execution_id)
        assert replay[-1] == events[-1] and {d["shape"] for k, d in replay if k == "shape"} == set(counts)

        detail = api.get(f"/api/executions/{execution_id}").json()
        assert detail["trigger"] == "api" and detail["mode"] == "test"
        assert detail["shapes"]["no"] == {"status": "failed", "documents_in": 1, "documents_out": 0,
                                          "documents_failed": 1}
        assert detail["errors"][0]["message"] == "Bob is not a patient"
        log = api.get(f"/api/executions/{execution_id}/log").json()
        assert any(entry["shape"] == "no" and "Bob is not a patient" in entry["message"] for entry in log)
        docs = api.get(f"/api/executions/{execution_id}/documents?shape=decide").json()
        assert [d["data"] for d in docs] == ["name,status\nAlice,patient", "name,status\nBob,former",
                                             "name,status\nZoe,patient"]
        assert docs[0]["content_type"] == "text/csv" and "properties" in docs[0]
        start_docs = api.get(f"/api/executions/{execution_id}/documents?shape=start").json()
        assert start_docs[0]["data"] == CSV_TEXT


@pytest.mark.fast
def test_reporting_filters_csv_and_rerun(home) -> None:
    with api_client(home) as api:
        api.post("/api/components", json={"body": PROCESS})
        first = _start(api, "normal")
        _events(api, first)
        second = _start(api, "test")
        _events(api, second)
        listed = api.get("/api/executions?process=patients").json()
        assert [e["id"] for e in listed] == [second, first]
        assert listed[0]["duration_seconds"] >= 0 and listed[0]["trigger"] == "api"
        assert api.get("/api/executions?trigger=manual").json() == []
        assert [e["id"] for e in api.get("/api/executions?trigger=api&limit=1").json()] == [second]
        assert api.get("/api/executions?status=complete").json() == []
        until = listed[1]["started_at"]
        assert [e["id"] for e in api.get("/api/executions", params={"until": until}).json()] == [first]
        assert [e["id"] for e in api.get("/api/executions", params={"since": listed[0]["started_at"]}).json()] == [second]
        table = api.get("/api/executions.csv?process=patients")
        assert table.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(table.text)))
        assert [r["id"] for r in rows] == [second, first] and rows[0]["status"] == "complete_with_errors"

        again = api.post(f"/api/executions/{first}/rerun")
        assert again.status_code == 202 and again.json()["execution_id"] == first
        events = _events(api, first)
        assert events[-1][1]["status"] == "complete_with_errors" and events[-1][1]["documents_failed"] == 1
        assert any("resumed" in e["message"] for e in api.get(f"/api/executions/{first}/log").json())


@pytest.mark.fast
def test_bad_runs_and_roles(home) -> None:
    with api_client(home) as api:
        unknown = api.post("/api/processes/nope/run", json={"inputs": [{"name": "a.csv", "text": "x"}]})
        assert unknown.status_code == 404 and "nope" in unknown.json()["detail"]
        assert not list((home / "files" / "inputs").iterdir())  # refused: its input is not kept
        api.post("/api/components", json={"body": PROCESS})
        bad_mode = api.post("/api/processes/patients/run", json={"mode": "fast"})
        assert bad_mode.status_code == 422 and bad_mode.json()["errors"][0]["field"] == "mode"
        assert api.get("/api/executions/nope/events").status_code == 404
        api.as_role(Role.viewer)
        assert api.post("/api/processes/patients/run", json={}).status_code == 403
        assert api.get("/api/executions").status_code == 200


def test_events_of_a_run_in_another_process_come_from_the_repository(cli, workdir, home) -> None:
    (workdir / "p.json").write_text(json.dumps(PROCESS))
    (workdir / "patients.csv").write_text(CSV_TEXT)
    assert cli("import", "p.json").code == 0
    ran = cli("run", "patients", "--input", "patients.csv", "--json")
    assert ran.code == 0 or ran.code == 1, ran
    execution_id = ran.json()["id"]
    with api_client(home) as api:
        events = _events(api, execution_id)
        detail = api.get(f"/api/executions/{execution_id}").json()
    shapes = {d["shape"]: (d["status"], d["documents_in"], d["documents_failed"]) for k, d in events if k == "shape"}
    assert shapes == {"start": ("passed", 1, 0), "split": ("passed", 1, 0), "decide": ("passed", 3, 0),
                      "yes": ("passed", 2, 0), "no": ("failed", 1, 1)}
    assert events[-1] == ("execution", {"status": "complete_with_errors", "documents_in": 1, "documents_out": 2,
                                        "documents_failed": 1})
    assert detail["trigger"] == "manual" and detail["shapes"]["decide"]["documents_out"] == 3
