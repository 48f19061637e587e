"""Runs started by ``serve`` (here its REST API in-process) go to the workers when
POSTROOM_BROKER_URL is set: the execution row exists at once, the events follow the record
the worker writes to the end, the record names the worker, and a re-run of failed documents
is resumed by a worker too. With a broker and SQLite, serve refuses to start (exit 2)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from postroom.errors import ConfigError
from support.apikit import Api, api_client
from support.workerkit import cluster  # noqa: F401 - the fixture

PROCESS: dict[str, Any] = {
    "type": "process", "name": "Still a patient", "id": "patients", "start": "start",
    "shapes": {
        "start": {"type": "start", "mode": "data_passthrough", "next": "split"},
        "split": {"type": "data_process", "steps": [{"type": "split", "profile_type": "flat_file", "by": "line",
                                                     "headers": "retain"}], "next": "decide"},
        "decide": {"type": "decision", "first": {"profile_element": "status"}, "comparison": "equals",
                   "second": "patient", "true": "yes", "false": "no"},
        "yes": {"type": "stop"},
        "no": {"type": "exception", "message": "{1} is not a patient", "parameters": [{"profile_element": "name"}]},
    }}
CSV_TEXT = "name,status\nAlice,patient\nBob,former\nZoe,patient\n"


def _events(api: Api, execution_id: str) -> list[tuple[str | None, dict[str, Any]]]:
    found = []
    with api.client.stream("GET", f"/api/executions/{execution_id}/events") as response:
        assert response.status_code == 200
        event = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line[len("event: "):]
            elif line.startswith("data: "):
                found.append((event, json.loads(line[len("data: "):])))
    return found


def test_api_runs_and_reruns_go_to_the_workers(cluster, monkeypatch):  # noqa: F811
    for name, value in cluster.env.items():
        monkeypatch.setenv(name, value)
    cluster.start_worker("--concurrency", "1")
    with api_client(cluster.home) as api:
        assert api.post("/api/components", json={"body": PROCESS}).status_code == 201
        answer = api.post("/api/processes/patients/run", json={"mode": "test", "inputs": [
            {"name": "patients.csv", "text": CSV_TEXT}]})
        assert answer.status_code == 202, answer.text
        execution_id = answer.json()["execution_id"]
        events = _events(api, execution_id)
        assert events[-1][0] == "execution"
        assert events[-1][1] == {"status": "complete_with_errors", "documents_in": 1, "documents_out": 2,
                                 "documents_failed": 1}
        detail = api.get(f"/api/executions/{execution_id}").json()
        assert detail["trigger"] == "api" and detail["node"] == "w1@test"
        assert detail["errors"][0]["message"] == "Bob is not a patient"
        assert detail["shapes"]["no"]["documents_failed"] == 1

        again = api.post(f"/api/executions/{execution_id}/rerun")
        assert again.status_code == 202 and again.json()["execution_id"] == execution_id
        events = _events(api, execution_id)
        assert events[-1][1]["status"] == "complete_with_errors"
        log = api.get(f"/api/executions/{execution_id}/log").json()
        assert any("resumed" in e["message"] for e in log)
        assert api.get(f"/api/executions/{execution_id}").json()["node"] == "w1@test"
    assert "(patients) resumed on w1@test" in cluster.workers[0].output()


def test_serve_with_a_broker_and_sqlite_is_refused(home, monkeypatch, redis_server):
    monkeypatch.setenv("POSTROOM_BROKER_URL", redis_server.url)
    with pytest.raises(ConfigError, match="POSTROOM_DATABASE_URL"):
        with api_client(home):
            pass
