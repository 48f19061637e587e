"""Two ``postroom serve`` processes on one PostgreSQL database run the same listener:
one holds the lease and takes every file, the other stands by; each file is processed
exactly once; when the holder is SIGKILLed the other takes over once the lease expires."""

from __future__ import annotations

import time
from pathlib import Path

from postroom.repository import open_repository
from support.listenerkit import DISK_LISTENER, Serve, wait_for

LEASE = 4.0


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _finished(repo, documents: int) -> list | None:  # noqa: ANN001
    """Every execution, once none is running and together they took ``documents``
    (the files appear before their execution's record is closed)."""
    executions = repo.list_executions(limit=0)
    done = all(e.status != "running" for e in executions)
    return executions if done and sum(e.documents_in for e in executions) == documents else None


def _drop(folder: Path, names: list[str], staging: Path) -> None:
    staging.mkdir(exist_ok=True)
    for name in names:
        (staging / name).write_text(f"content of {name}\n")
        (staging / name).rename(folder / name)


def test_two_serves_one_lease_each_file_once_and_takeover(cli, workdir: Path, home: Path,  # noqa: ANN001
                                                         postgres_database: str) -> None:
    env = {"POSTROOM_HOME": str(home), "POSTROOM_DATABASE_URL": postgres_database}
    inbox, out, staging = workdir / "inbox", workdir / "out", workdir / "staging"
    inbox.mkdir()
    out.mkdir()
    (workdir / "listener.yaml").write_text(DISK_LISTENER.format(inbox=inbox, out=out, interval=0.2))
    assert (result := cli("import", "listener.yaml", env=env)).code == 0, result

    servers = [Serve(workdir, env, "--lease-seconds", str(LEASE), "--max-backoff", "1") for _ in range(2)]
    repo = open_repository(postgres_database, home=home)
    try:
        for server in servers:
            server.wait_ready()

        def roles() -> dict[str, str] | None:
            rows = {h.instance: h.state for h in repo.list_listener_health("copy-dropped")}
            states = sorted(rows.values())
            return rows if len(rows) == 2 and states == ["running", "standby"] else None

        rows = wait_for(roles, 30, "one serve running the listener and the other standing by")
        holder = next(s for s in servers if rows[s.instance] == "running")
        standby = next(s for s in servers if s is not holder)
        listed = {r["instance"]: r for r in cli("listeners", "list", "--json", env=env).json()}
        assert listed[holder.instance]["holds_lease"] and not listed[standby.instance]["holds_lease"]
        assert listed[standby.instance]["state"] == "standby" and listed[standby.instance]["pid"] == standby.pid

        first = [f"a-{n:02}.txt" for n in range(20)]
        for batch in range(4):
            _drop(inbox, first[batch * 5:(batch + 1) * 5], staging)
            time.sleep(0.3)
        wait_for(lambda: _names(out) == first, 60, "the first 20 files in out/")
        wait_for(lambda: _names(inbox) == [], 10, "the inbox to be emptied")

        executions = wait_for(lambda: _finished(repo, 20), 30, "the executions to finish")
        assert {e.request["instance"] for e in executions} == {holder.instance}
        assert all(e.status == "complete" for e in executions)

        # the holder dies without releasing its lease
        holder.kill()
        killed_at = time.monotonic()
        second = [f"b-{n:02}.txt" for n in range(10)]
        _drop(inbox, second, staging)
        time.sleep(LEASE / 2)
        assert _names(out) == first, "the standby took files while the dead holder's lease was still valid"
        wait_for(lambda: _names(out) == sorted(first + second), LEASE + 30, "the standby to take over")
        took_over = time.monotonic() - killed_at
        assert LEASE / 2 <= took_over <= LEASE + 30

        later = wait_for(lambda: _finished(repo, 30), 30, "the standby's executions to finish")
        new = [e for e in later if e.id not in {x.id for x in executions}]
        assert sum(e.documents_in for e in new) == 10
        assert {e.request["instance"] for e in new} == {standby.instance}
        assert [(out / n).read_text() for n in first + second] == [f"content of {n}\n" for n in first + second]

        # the dead serve's row goes stale (its heartbeat stops); the survivor runs the listener
        def after() -> dict | None:
            rows = {r["instance"]: r for r in cli("listeners", "list", "--json", env=env).json()}
            return rows if rows[holder.instance]["stale"] and rows[standby.instance]["state"] == "running" else None

        rows = wait_for(after, 30, "the killed serve's health row to go stale")
        assert rows[standby.instance]["holds_lease"] and rows[standby.instance]["documents_taken"] == 10

        assert standby.terminate() == 0
        (row,) = [h for h in repo.list_listener_health() if h.instance == standby.instance]
        assert row.state == "stopped"
    finally:
        for server in servers:
            server.close()
        repo.close()
