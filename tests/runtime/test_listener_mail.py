"""Mail listeners under ``postroom serve`` against a real Dovecot (IMAP with IDLE, POP3 by
polling): every message is stored once, two serve processes on one PostgreSQL database
share the mailbox through the lease, and a listener whose server goes away shows the
error, then takes the mail that arrived meanwhile.

Each test starts its own Dovecot (the outage test stops it; the session's must stay up)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from postroom.repository import open_repository
from support.dovecotkit import DovecotServer
from support.listenerkit import Serve, wait_for
from support.replieskit import USER, private_dovecot, replies_listener, reply


def finished(repo, documents: int) -> list | None:  # noqa: ANN001
    """Every execution, once none is running and together they took ``documents``."""
    executions = repo.list_executions(limit=0)
    done = all(e.status != "running" for e in executions)
    return executions if done and sum(e.documents_in for e in executions) == documents else None


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def expected(numbers) -> list[str]:  # noqa: ANN001
    return sorted(f"reply-{n:03}.txt" for n in numbers)


@pytest.fixture
def own_dovecot() -> Iterator[tuple[DovecotServer, str]]:
    with private_dovecot() as server_and_password:
        yield server_and_password


def _import(cli, workdir: Path, server: DovecotServer, password: str, *, protocol: str = "imap",  # noqa: ANN001
            interval: float = 60, env: dict[str, str] | None = None) -> Path:
    out = workdir / "stored"
    out.mkdir()
    text = replies_listener(server, password, out, protocol=protocol, interval=interval)
    (workdir / "listener.yaml").write_text(text)
    result = cli("import", "listener.yaml", env=env)
    assert result.code == 0, result
    return out


def _rows(cli, env: dict[str, str] | None = None) -> list[dict]:  # noqa: ANN001
    result = cli("listeners", "list", "--json", env=env)
    assert result.code == 0, result
    return result.json()


def test_imap_listener_waits_with_idle_and_stores_each_message_once(cli, workdir: Path, home: Path,  # noqa: ANN001
                                                                    own_dovecot) -> None:  # noqa: ANN001
    server, password = own_dovecot
    server.deliver_many(USER, [reply(n) for n in range(3)])
    out = _import(cli, workdir, server, password, interval=120)
    serve = Serve(workdir, {"POSTROOM_HOME": str(home)}, "--lease-seconds", "6")
    try:
        serve.wait_ready()
        wait_for(lambda: names(out) == expected(range(3)), 60, "the three waiting messages to be stored")
        (row,) = wait_for(lambda: (rows := _rows(cli)) and rows[0]["mode"] == "idle" and rows, 20, "idle mode")
        assert row["state"] == "running" and row["holds_lease"] and row["documents_taken"] == 3
        assert row["resource"] == f"listener:imap://clinic%40example.com@127.0.0.1:{server.imaps_port}/INBOX"

        # with a two-minute interval, only IDLE can bring new mail in within seconds
        time.sleep(1)
        delivered = time.monotonic()
        server.deliver_many(USER, [reply(n) for n in range(3, 5)])
        wait_for(lambda: names(out) == expected(range(5)), 60, "the two new messages to be stored")
        assert time.monotonic() - delivered < 30
        assert [(out / f"reply-{n:03}.txt").read_text().strip() for n in range(5)] == [
            f"Please send my records ({n})." for n in range(5)]
        wait_for(lambda: server.flags(USER) == ["S"] * 5, 10, "every message marked read after success")

        records = open_repository(home=home)
        try:
            executions = wait_for(lambda: finished(records, 5), 30, "the executions to finish")
        finally:
            records.close()
        assert all(e.status == "complete" for e in executions)
        assert serve.terminate() == 0
        assert password not in serve.output() and password not in cli("listeners", "list", "--json").stdout
        assert _rows(cli)[0]["state"] == "stopped"
    finally:
        serve.close()


def test_pop3_listener_polls_and_deletes_after_storing(cli, workdir: Path, home: Path,  # noqa: ANN001
                                                       own_dovecot) -> None:  # noqa: ANN001
    server, password = own_dovecot
    server.deliver_many(USER, [reply(n) for n in range(3)])
    out = _import(cli, workdir, server, password, protocol="pop3", interval=0.5)
    serve = Serve(workdir, {"POSTROOM_HOME": str(home)}, "--lease-seconds", "6")
    try:
        serve.wait_ready()
        wait_for(lambda: names(out) == expected(range(3)), 60, "the three messages to be stored")
        wait_for(lambda: server.messages(USER) == [], 20, "the stored messages to be deleted from the server")
        server.deliver_many(USER, [reply(n) for n in range(3, 6)])
        wait_for(lambda: names(out) == expected(range(6)), 60, "the next three to be stored")
        (row,) = _rows(cli)
        assert row["mode"] == "poll" and row["state"] == "running"
        assert row["resource"] == f"listener:pop3://clinic%40example.com@127.0.0.1:{server.pop3s_port}"
        assert serve.terminate() == 0
    finally:
        serve.close()


def test_imap_server_outage_shows_the_error_then_takes_what_arrived(cli, workdir: Path, home: Path,  # noqa: ANN001
                                                                    own_dovecot) -> None:  # noqa: ANN001
    server, password = own_dovecot
    out = _import(cli, workdir, server, password, interval=30)
    serve = Serve(workdir, {"POSTROOM_HOME": str(home)}, "--lease-seconds", "6", "--max-backoff", "1",
                  "--failures-before-failed", "2")
    try:
        serve.wait_ready()
        server.deliver(USER, reply(0))
        wait_for(lambda: names(out) == expected([0]), 60, "the first message to be stored")

        server.stop()
        (row,) = wait_for(lambda: (rows := _rows(cli))[0]["state"] == "failed" and rows, 60,
                          "the listener to show as failed while Dovecot is down")
        assert row["consecutive_failures"] >= 2 and row["last_error"] and row["last_error_at"]
        assert password not in row["last_error"]
        failures = [e for e in cli("executions", "list", "--json").json() if e["status"] == "failed"]
        assert len(failures) == 1 and failures[0]["error"].startswith("listener: ")

        # mail arrives while the server is down; the listener takes it once the server is back
        server.deliver_many(USER, [reply(n) for n in (1, 2)])
        server.restart()
        wait_for(lambda: names(out) == expected(range(3)), 60, "the mail that arrived meanwhile")
        (row,) = wait_for(lambda: (rows := _rows(cli))[0]["state"] == "running" and rows, 30, "recovery")
        assert row["consecutive_failures"] == 0 and row["documents_taken"] == 3
        log = cli("executions", "show", failures[0]["id"], "--json").json()["log"]
        assert log[-1]["message"].startswith("listener recovered after ")
        assert all(password not in entry["message"] for entry in log)
        assert serve.terminate() == 0
        assert password not in serve.output()
    finally:
        serve.close()


def test_two_serves_on_postgresql_share_one_imap_mailbox(cli, workdir: Path, home: Path, own_dovecot,  # noqa: ANN001
                                                         postgres_database: str) -> None:
    server, password = own_dovecot
    env = {"POSTROOM_HOME": str(home), "POSTROOM_DATABASE_URL": postgres_database}
    out = _import(cli, workdir, server, password, interval=30, env=env)
    lease = 5.0
    servers = [Serve(workdir, env, "--lease-seconds", str(lease), "--max-backoff", "1") for _ in range(2)]
    repo = open_repository(postgres_database, home=home)
    try:
        for s in servers:
            s.wait_ready()

        def roles() -> dict[str, str] | None:
            rows = {h.instance: h.state for h in repo.list_listener_health()}
            return rows if sorted(rows.values()) == ["running", "standby"] else None

        rows = wait_for(roles, 60, "one serve running and one standing by")
        holder = next(s for s in servers if rows[s.instance] == "running")
        standby = next(s for s in servers if s is not holder)

        for batch in range(4):
            server.deliver_many(USER, [reply(n) for n in range(batch * 5, batch * 5 + 5)])
            time.sleep(0.5)
        wait_for(lambda: names(out) == expected(range(20)), 90, "20 messages stored")
        first = wait_for(lambda: finished(repo, 20), 30, "the executions to finish")
        assert {e.request["instance"] for e in first} == {holder.instance}

        holder.kill()
        killed = time.monotonic()
        server.deliver_many(USER, [reply(n) for n in range(20, 30)])
        time.sleep(lease / 2)
        assert names(out) == expected(range(20)), "mail taken while the dead holder's lease was valid"
        wait_for(lambda: names(out) == expected(range(30)), lease + 60, "the standby to take over")
        assert time.monotonic() - killed >= lease / 2
        every = wait_for(lambda: finished(repo, 30), 30, "the standby's executions to finish")
        later = [e for e in every if e.id not in {x.id for x in first}]
        assert sum(e.documents_in for e in later) == 10
        assert {e.request["instance"] for e in later} == {standby.instance}
        assert standby.terminate() == 0
    finally:
        for s in servers:
            s.close()
        repo.close()
