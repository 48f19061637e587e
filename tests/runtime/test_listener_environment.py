"""A listener under ``postroom serve --environment ENV`` binds its start shape and its other
shapes with the environment's extensions: files dropped into the environment's folder are
written to the environment's folder, and the executions record the environment."""

from __future__ import annotations

from pathlib import Path

from support.listenerkit import DISK_LISTENER, Serve, wait_for

STAGING = """
type: environment
id: staging
name: Staging
extensions:
  connections:
    drop: {{directory: "{inbox}"}}
    done: {{directory: "{out}"}}
"""


def test_a_listener_runs_with_the_environment_of_its_serve(cli, workdir: Path, home: Path) -> None:  # noqa: ANN001
    inbox, out, staged_in, staged_out = (workdir / n for n in ("inbox", "out", "staging-in", "staging-out"))
    for folder in (inbox, out, staged_in, staged_out):
        folder.mkdir()
    (workdir / "listener.yaml").write_text(DISK_LISTENER.format(inbox=inbox, out=out, interval=0.2))
    (workdir / "staging.yaml").write_text(STAGING.format(inbox=staged_in, out=staged_out))
    assert cli("import", "listener.yaml", "staging.yaml").code == 0

    refused = cli("serve", "--port", "0", "--environment", "nowhere")
    assert refused.code == 2 and "no environment 'nowhere'" in refused.stderr and "staging" in refused.stderr

    server = Serve(workdir, {"POSTROOM_HOME": str(home)}, "--lease-seconds", "3", "--environment", "staging")
    try:
        server.wait_ready()
        (workdir / "letter.txt").write_text("hello\n")
        (workdir / "letter.txt").rename(staged_in / "letter.txt")
        wait_for(lambda: (staged_out / "letter.txt").exists(), 30, "the file in the staging out folder")
        assert (staged_out / "letter.txt").read_text() == "hello\n"
        assert list(out.iterdir()) == [] and list(inbox.iterdir()) == []
        executions = cli("executions", "list", "--json").json()
        assert [(e["environment"], e["documents_in"]) for e in executions] == [("staging", 1)]
    finally:
        server.close()
