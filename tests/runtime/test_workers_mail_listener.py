"""A mail listener's runs on the workers, against a real Dovecot (IMAP): serve reads the
mailbox, a real ``postroom worker`` runs the process, and once the run has ended serve marks
read exactly the messages whose documents went through, leaving the one whose document failed
unread to be read again (what an in-process run does: docs/listeners.md, step 3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from postroom.repository import open_repository
from support.listenerkit import Serve, wait_for
from support.replieskit import USER, private_dovecot, replies_listener, reply
from support.workerkit import cluster  # noqa: F401 - the fixture


@pytest.fixture
def dovecot():  # noqa: ANN201
    with private_dovecot() as server_and_password:
        yield server_and_password


def test_a_mail_listeners_run_on_a_worker_marks_read_only_what_went_through(cli, workdir: Path, cluster,  # noqa: F811
                                                                            home: Path, dovecot) -> None:
    server, password = dovecot
    out = workdir / "stored"
    out.mkdir()
    (workdir / "listener.yaml").write_text(replies_listener(server, password, out, interval=120,
                                                              refuse_subject="reply-001"))
    assert (result := cli("import", "listener.yaml", env=cluster.env)).code == 0, result
    server.deliver_many(USER, [reply(n) for n in range(3)])
    worker = cluster.start_worker("--concurrency", "1")
    serve = Serve(workdir, cluster.env, "--lease-seconds", "10", "--no-schedules").wait_ready()
    repo = open_repository(cluster.database_url, home=home)
    try:
        wait_for(lambda: sorted(p.name for p in out.iterdir()) == ["reply-000.txt", "reply-002.txt"], 90,
                 "the two good replies stored")
        wait_for(lambda: sorted(server.flags(USER)) == ["", "S", "S"], 30, "the stored ones marked read")
        [first] = wait_for(lambda: [e for e in repo.list_executions(limit=0) if e.status != "running"][:1], 30,
                           "the first execution to end")
    finally:
        serve.close()
        repo.close()
    assert (first.status, first.node, first.documents_in, first.documents_failed) == (
        "complete_with_errors", "w1@test", 3, 1), (first, serve.output()[-3000:], worker.output()[-3000:])
    assert first.request["trigger"] == "listener"
    # the unread one is reply-001, the message whose document failed: read again at the next look
    unread = [path for path in server.message_files(USER) if not path.name.partition(":2,")[2]]
    assert len(unread) == 1 and b"Subject: reply-001" in unread[0].read_bytes()
    assert password not in serve.output() and password not in worker.output()
