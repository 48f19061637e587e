"""A listener's runs go to the workers when POSTROOM_BROKER_URL is set: a real ``postroom
serve`` holds the listener (its lease and session) and a real ``postroom worker`` runs what it
fetched. Files dropped into the listener's folder are each written once (a second copy would
show as NAME-1), each execution is recorded with trigger ``listener`` and the worker's node,
and the listener's "commit after success" (here: delete what was read) happens once the
worker's run has ended, so nothing is taken twice."""

from __future__ import annotations

from pathlib import Path

from postroom.repository import open_repository
from support.listenerkit import DISK_LISTENER, Serve, wait_for
from support.workerkit import cluster  # noqa: F401 - the fixture


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_listeners_runs_execute_on_a_worker_and_take_each_file_once(cli, workdir: Path, cluster,  # noqa: F811
                                                                       home: Path) -> None:
    inbox, out, staging = workdir / "inbox", workdir / "out", workdir / "staging"
    for folder in (inbox, out, staging):
        folder.mkdir()
    (workdir / "listener.yaml").write_text(DISK_LISTENER.format(inbox=inbox, out=out, interval=0.2))
    assert (result := cli("import", "listener.yaml", env=cluster.env)).code == 0, result
    worker = cluster.start_worker("--concurrency", "2")
    server = Serve(workdir, cluster.env, "--lease-seconds", "10", "--no-schedules").wait_ready()
    repo = open_repository(cluster.database_url, home=home)
    try:
        names = [f"reply-{n}.txt" for n in range(4)]
        for name in names:
            (staging / name).write_text(f"content of {name}\n")
            (staging / name).rename(inbox / name)
        wait_for(lambda: _names(out) == names and not _names(inbox), 90,
                 "every dropped file written once and taken from the inbox")
        executions = wait_for(lambda: [e for e in repo.list_executions(limit=0) if e.status != "running"], 30,
                              "the listener's executions to end")
    finally:
        server.close()
        repo.close()
    assert [p.read_text() for p in sorted(out.iterdir())] == [f"content of {n}\n" for n in names]
    assert {(e.process_id, e.status, e.node) for e in executions} == {("copy-dropped", "complete", "w1@test")}, (
        executions, server.output()[-3000:], worker.output()[-3000:])
    assert all(e.request["trigger"] == "listener" and e.request["listener"] == "copy-dropped" for e in executions)
    assert sum(e.documents_in for e in executions) == len(names)
    assert "sent to the workers" in server.output()
    assert not list((home / "files" / "listener-runs").iterdir())  # every bundle played back and removed
