"""One execution view feeds the CLI (``executions show/list --json``) and the API
(``/api/executions``): each shows its own fields of it, and what both show agrees."""

from __future__ import annotations

from pathlib import Path

from support.apikit import api_client

PROCESS = """\
type: process
id: copy
name: Copy
start: start
shapes:
  start: {type: start, mode: data_passthrough, next: stop}
  stop: {type: stop}
"""



def test_cli_and_api_render_the_one_view(cli, workdir: Path, home: Path) -> None:  # noqa: ANN001
    (workdir / "p.yaml").write_text(PROCESS)
    (workdir / "in.txt").write_text("hello\n")
    assert cli("import", "p.yaml").code == 0
    ran = cli("run", "copy", "--input", "in.txt", "--test", "--json")
    assert ran.code == 0, ran
    execution_id = ran.json()["id"]
    shown = cli("executions", "show", execution_id, "--json", "--documents").json()
    listed = cli("executions", "list", "--json").json()
    with api_client(home) as client:
        api = client.get(f"/api/executions/{execution_id}?documents=true").json()
        api_list = client.get("/api/executions").json()
    # each keeps its own fields: the CLI the lease, the API the error times; both the trigger
    assert {"lease_host", "lease_pid", "heartbeat_at"} <= set(shown) and shown["trigger"] == "manual"
    assert api["trigger"] == "manual" and "lease_pid" not in api
    shared = set(shown) & set(api)
    assert {"id", "status", "mode", "documents_in", "documents_out", "log", "documents", "dry_runs"} <= shared
    assert {key: shown[key] for key in shared} == {key: api[key] for key in shared}
    assert shown["mode"] == "test" and shown["documents"][0]["data"] == "hello\n"
    assert listed[0] == {key: shown[key] for key in listed[0]}
    assert api_list[0] == {key: api[key] for key in api_list[0]}
    assert listed[0]["id"] == api_list[0]["id"] == execution_id
