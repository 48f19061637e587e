"""Listeners under ``postroom serve`` with the disk connector (a get with delete_after_read
is a polling listener): files dropped into a folder are processed once, health is visible
in ``postroom listeners list`` and the REST API, an outage shows as retrying then failed
and recovers, and a stop releases the lease."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from postroom.repository import open_repository
from support.listenerkit import DISK_LISTENER, Serve, wait_for

SECRET = "Tr0ub4dor-and-3-horses"

MAIL_CONNECTION = f"""
type: connection
connector: mail
name: Clinic mail
id: clinic-mail
settings:
  host: 127.0.0.1
  port: 2525
  user_password_auth: true
  user_name: clinic@example.com
  password: "{SECRET}"
"""


def _drop(folder: Path, names: list[str], staging: Path) -> None:
    """Write each file beside the folder, then move it in: never read half-written."""
    staging.mkdir(exist_ok=True)
    for name in names:
        (staging / name).write_text(f"content of {name}\n")
        (staging / name).rename(folder / name)


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


@pytest.fixture
def setup(cli, workdir: Path, home: Path):  # noqa: ANN001, ANN201
    inbox, out = workdir / "inbox", workdir / "out"
    inbox.mkdir()
    out.mkdir()
    (workdir / "listener.yaml").write_text(DISK_LISTENER.format(inbox=inbox, out=out, interval=0.2))
    (workdir / "mail.yaml").write_text(MAIL_CONNECTION)
    result = cli("import", "listener.yaml", "mail.yaml")
    assert result.code == 0, result
    servers: list[Serve] = []

    def serve(*args: str) -> Serve:
        server = Serve(workdir, {"POSTROOM_HOME": str(home)}, "--lease-seconds", "3", "--max-backoff", "0.5",
                       "--failures-before-failed", "3", *args)
        servers.append(server)
        return server.wait_ready()

    yield inbox, out, serve
    for server in servers:
        server.close()


def _row(cli) -> dict:  # noqa: ANN001
    result = cli("listeners", "list", "--json")
    assert result.code == 0, result
    rows = result.json()
    assert len(rows) == 1, rows
    return rows[0]


def test_dropped_files_are_processed_once_and_health_is_visible(setup, cli, workdir: Path) -> None:  # noqa: ANN001
    inbox, out, serve = setup
    before = _row(cli)
    assert before["state"] == "not_running" and before["instance"] is None

    server = serve()
    names = [f"reply-{n}.txt" for n in range(5)]
    _drop(inbox, names[:2], workdir / "staging")
    wait_for(lambda: _names(out) == names[:2], 30, "the first two files in out/")
    _drop(inbox, names[2:], workdir / "staging")
    wait_for(lambda: _names(out) == names, 30, "all five files in out/")
    wait_for(lambda: _names(inbox) == [], 10, "the inbox to be emptied (delete after read)")
    assert [(out / n).read_text() for n in names] == [f"content of {n}\n" for n in names]

    row = wait_for(lambda: (r := _row(cli))["documents_taken"] == 5 and r, 10, "health to count 5 documents")
    assert row["state"] == "running" and row["holds_lease"] and not row["stale"]
    assert row["pid"] == server.pid and row["instance"] == server.instance and row["mode"] == "poll"
    assert row["resource"] == f"listener:file://{inbox}/*"
    assert row["consecutive_failures"] == 0 and row["last_error"] is None and row["last_check_at"]
    assert row["executions"] >= 2 and row["last_execution_id"]

    # no documents, no execution: only the executions that took files are recorded
    executions = cli("executions", "list", "--json").json()
    assert sum(e["documents_in"] for e in executions) == 5
    assert all(e["status"] == "complete" and e["process_id"] == "copy-dropped" for e in executions)
    assert len(executions) == row["executions"]

    table = cli("listeners", "list")
    assert table.code == 0 and "copy-dropped" in table.stdout and "running" in table.stdout

    # the REST API
    health = server.get("/api/health")
    assert health["status"] == "ok" and health["database"] == "ok" and health["listener_states"] == {"running": 1}
    assert health["this_instance"][0]["listener"] == "copy-dropped"
    listeners = server.get("/api/listeners")
    assert [(r["listener"], r["instance"], r["state"]) for r in listeners] == [
        ("copy-dropped", server.instance, "running")]
    api_executions = server.get("/api/executions?limit=100")
    assert {e["id"] for e in api_executions} == {e["id"] for e in executions}
    assert all(e["trigger"] == "listener" and e["listener"] == "copy-dropped" for e in api_executions)
    detail = server.get(f"/api/executions/{row['last_execution_id']}")
    assert detail["status"] == "complete" and isinstance(detail["log"], list) and detail["errors"] == []
    components = {c["id"]: c for c in server.get("/api/components?body=true")}
    assert components["copy-dropped"]["body"]["shapes"]["start"]["mode"] == "listener"
    password = components["clinic-mail"]["body"]["settings"]["password"]
    assert password.startswith("${secret:"), password
    assert server.get("/api/components/clinic-mail")["body"]["settings"]["password"] == password
    for path in ("/api/health", "/api/listeners", "/api/executions", "/api/components",
                 "/api/components/clinic-mail", f"/api/executions/{row['last_execution_id']}?documents=true"):
        assert SECRET not in server.raw(path), path
    with pytest.raises(Exception, match="404"):
        server.get("/api/executions/nope")

    assert server.terminate() == 0
    assert SECRET not in server.output()


def test_an_unavailable_source_shows_retrying_then_failed_and_recovers(setup, cli, workdir: Path,  # noqa: ANN001
                                                                       home: Path) -> None:
    inbox, out, serve = setup
    server = serve()
    wait_for(lambda: _row(cli)["state"] == "running", 30, "the listener to run")
    shutil.rmtree(inbox)  # the source goes away

    seen: list[str] = []
    repo = open_repository(home=home)

    def failed() -> bool:
        (health,) = repo.list_listener_health()
        if not seen or seen[-1] != health.state:
            seen.append(health.state)
        return health.state == "failed"

    try:
        wait_for(failed, 30, "the listener to show as failed", every=0.02)
    finally:
        repo.close()
    assert [state for state in seen if state != "running"] == ["retrying", "failed"], seen
    row = _row(cli)
    assert row["consecutive_failures"] >= 3 and "does not exist" in row["last_error"] and row["last_error_at"]
    assert row["holds_lease"] and not row["stale"]

    # the outage is in the execution records: one failed execution, one log line per failed check
    failures = [e for e in cli("executions", "list", "--json").json() if e["status"] == "failed"]
    assert len(failures) == 1 and "does not exist" in failures[0]["error"]
    shown = cli("executions", "show", failures[0]["id"], "--json").json()
    messages = [entry["message"] for entry in shown["log"]]
    assert messages[0].startswith("listener check failed (1 in a row): ") and "does not exist" in messages[0]
    assert any(m.startswith("listener check failed (2 in a row)") for m in messages)
    assert any("the listener is failed after 3 consecutive failed checks" in m for m in messages)

    # files that arrived meanwhile (the folder comes back with them) are taken
    staging = workdir / "arrived"
    staging.mkdir()
    (staging / "late-1.txt").write_text("late 1\n")
    (staging / "late-2.txt").write_text("late 2\n")
    staging.rename(inbox)
    wait_for(lambda: _names(out) == ["late-1.txt", "late-2.txt"], 30, "the late files in out/")
    row = wait_for(lambda: (r := _row(cli))["state"] == "running" and r["documents_taken"] == 2 and r, 10,
                   "the listener to run again")
    assert row["consecutive_failures"] == 0 and "does not exist" in row["last_error"]  # kept for the record
    shown = cli("executions", "show", failures[0]["id"], "--json").json()
    assert shown["log"][-1]["message"].startswith("listener recovered after ")
    assert len([e for e in cli("executions", "list", "--json").json() if e["status"] == "failed"]) == 1

    # a graceful stop releases the lease at once and says so in the health
    assert server.terminate() == 0
    row = _row(cli)
    assert row["state"] == "stopped" and not row["holds_lease"]
    repo = open_repository(home=home)
    try:
        assert repo.acquire_lease(row["resource"], "someone-else", 5) is True
    finally:
        repo.close()


def test_serve_without_listeners_and_on_a_busy_port(setup, cli, workdir: Path, home: Path) -> None:  # noqa: ANN001
    inbox, out, serve = setup
    server = serve("--no-listeners")
    assert server.get("/api/health")["listeners_enabled"] is False
    _drop(inbox, ["ignored.txt"], workdir / "staging")
    result = cli("serve", "--port", str(server.port), timeout=60)
    assert result.code == 2 and "cannot listen" in result.stderr
    assert _names(inbox) == ["ignored.txt"] and _names(out) == []
    assert _row(cli)["state"] == "not_running"
    assert server.terminate() == 0


SLOW = """
type: connection
connector: disk
name: Slow inbox
id: slow-inbox
settings: {{directory: "{inbox}"}}
---
type: operation
connector: disk
name: Take
id: take
settings: {{action: get, delete_after_read: true}}
---
type: connection
connector: disk
name: Slow out
id: slow-out
settings: {{directory: "{out}"}}
---
type: operation
connector: disk
name: Write
id: write
settings: {{action: send}}
---
type: process
name: Slow copy
id: slow-copy
start: start
shapes:
  start: {{type: start, mode: listener, connection: slow-inbox, operation: take, interval_seconds: 0.2, next: wait}}
  wait: {{type: data_process, steps: [{{type: script, language: python, code: "import time; time.sleep(3)"}}],
         next: write}}
  write: {{type: connector, connection: slow-out, operation: write}}
"""


def test_sigterm_lets_the_running_execution_finish_and_commit(cli, workdir: Path, home: Path) -> None:  # noqa: ANN001
    inbox, out = workdir / "slow-in", workdir / "slow-out"
    inbox.mkdir()
    out.mkdir()
    (workdir / "slow.yaml").write_text(SLOW.format(inbox=inbox, out=out))
    assert (result := cli("import", "slow.yaml")).code == 0, result
    server = Serve(workdir, {"POSTROOM_HOME": str(home)}, "--lease-seconds", "3")
    repo = open_repository(home=home)
    try:
        server.wait_ready()
        _drop(inbox, ["slow.txt"], workdir / "staging")
        wait_for(lambda: repo.list_executions(status="running"), 30, "the execution to start")
        assert _names(out) == []
        assert server.terminate(timeout=60) == 0
        (record,) = repo.list_executions()
        assert record.status == "complete" and record.documents_out == 1
        assert _names(out) == ["slow.txt"] and _names(inbox) == []  # finished and committed
        (health,) = repo.list_listener_health()
        assert health.state == "stopped" and health.documents_taken == 1
        assert repo.acquire_lease(health.resource, "someone-else", 5)  # released
        assert "waiting for its execution to finish" in server.output()
    finally:
        server.close()
        repo.close()
