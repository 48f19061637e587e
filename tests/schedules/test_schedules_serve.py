"""Two ``postroom serve`` processes on one PostgreSQL database with a schedule due every
minute: the next minute starts exactly one execution (trigger ``schedule``), whichever serve
claims it; the schedules are listed and switched off through the REST API (a viewer may
not), and ``postroom schedules list`` shows what happened. This waits for a real minute
boundary (at most a minute): the due-time logic itself is tested with a chosen clock."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from postroom.repository import open_repository
from support.listenerkit import Serve, api_token, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.slow]  # waits for a real minute boundary

COMPONENTS = """\
type: process
name: Minute note
id: minute-note
start: start
shapes:
  start: {type: start, mode: no_data, next: note}
  note: {type: notify, message: "a minute passed", next: stop}
  stop: {type: stop}
---
type: schedule
id: every-minute
process: minute-note
cron: "* * * * *"
timezone: Europe/Paris
catch_up: none
"""


def _call(serve: Serve, method: str, path: str, token: str) -> tuple[int, Any]:
    request = urllib.request.Request(f"http://127.0.0.1:{serve.port}{path}", method=method,
                                     headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_two_serves_fire_a_due_schedule_once(cli, workdir: Path, home: Path,  # noqa: ANN001
                                             postgres_database: str) -> None:
    env = {"POSTROOM_HOME": str(home), "POSTROOM_DATABASE_URL": postgres_database}
    (workdir / "minute.yaml").write_text(COMPONENTS)
    assert (result := cli("import", "minute.yaml", env=env)).code == 0, result
    builder, viewer = api_token(env, "builder-script", "builder"), api_token(env, "viewer-script", "viewer")
    servers = [Serve(workdir, env, "--no-listeners", "--scheduler-tick", "0.2") for _ in range(2)]
    repo = open_repository(postgres_database, home=home)
    try:
        for server in servers:
            server.wait_ready()
        status, rows = _call(servers[0], "GET", "/api/schedules", viewer)
        assert status == 200 and [r["id"] for r in rows] == ["every-minute"] and rows[0]["enabled"] is True
        next_due = datetime.fromisoformat(rows[0]["next_due_at"])
        assert timedelta(0) < next_due - datetime.now(UTC) <= timedelta(minutes=1)
        status, answer = _call(servers[1], "POST", "/api/schedules/every-minute/disable", viewer)
        assert status == 403 and "builder" in answer["detail"]

        [firing] = wait_for(lambda: repo.list_schedule_firings("every-minute"), 90, "the minute's firing")
        created = repo.get_component("every-minute").created_at
        assert firing.due_at.second == 0 and created < firing.due_at <= next_due  # the first minute after import
        assert firing.instance in {s.instance for s in servers}
        # both serves keep looking for a while after the due time: still one firing, one execution
        wait_for(lambda: datetime.now(UTC) > firing.due_at + timedelta(seconds=3), 10, "3 s past the due time")
        # read again: the claim is stored before its run has an execution id
        [firing] = wait_for(lambda: [f for f in repo.list_schedule_firings("every-minute") if f.execution_id],
                            30, "the firing's execution")
        status, executions = _call(servers[0], "GET", "/api/executions?trigger=schedule", viewer)
        assert status == 200 and [(e["id"], e["trigger"], e["schedule"]) for e in executions] == [
            (firing.execution_id, "schedule", "every-minute")]
        status, row = _call(servers[1], "POST", "/api/schedules/every-minute/disable", builder)
        assert status == 200 and row["enabled"] is False and row["next_due_at"] is None
    finally:
        for server in servers:
            server.close()
    firings = repo.list_schedule_firings("every-minute")
    scheduled = [e for e in repo.list_executions(limit=0) if (e.request or {}).get("trigger") == "schedule"]
    assert [f.due_at for f in firings] == [firing.due_at], firings
    assert [e.id for e in scheduled] == [firings[0].execution_id] and scheduled[0].process_id == "minute-note"
    assert scheduled[0].request["schedule"] == "every-minute"
    listed = cli("schedules", "list", "--json", env=env).json()
    assert listed[0]["enabled"] is False and listed[0]["last_status"] == "started"
    assert listed[0]["last_execution_id"] == scheduled[0].id
    runs = cli("executions", "list", "--trigger", "schedule", "--json", env=env).json()
    assert [(e["id"], e["trigger"], e["schedule"]) for e in runs] == [(scheduled[0].id, "schedule", "every-minute")]
    assert cli("executions", "list", "--trigger", "manual", "--json", env=env).json() == []
    bad = cli("executions", "list", "--trigger", "cron", env=env)
    assert bad.code == 2 and "no such trigger 'cron'" in bad.stderr and "manual, api, listener" in bad.stderr
    repo.close()
