"""A mail listener's runs on the workers, against a real Dovecot (IMAP): serve reads the
mailbox, a real ``postroom worker`` runs the process, and once the run has ended serve marks
read exactly the messages whose documents went through, leaving the one whose document failed
unread to be read again (what an in-process run does: docs/listeners.md, step 3)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest

from postroom.repository import open_repository
from support.dovecotkit import DovecotServer, find_dovecot
from support.listenerkit import Serve, wait_for
from support.workerkit import cluster  # noqa: F401 - the fixture

USER = "clinic@example.com"

COMPONENTS = """
type: connection
connector: mail
name: Clinic mailbox
id: clinic-inbox
settings: {{host: 127.0.0.1, port: {port}, use_ssl: true, user_password_auth: true, user_name: {user},
            password: "{password}", inbound_protocol: imap, trusted_ca_file: "{ca}", timeout_seconds: 5}}
---
type: operation
connector: mail
name: Read replies
id: read-replies
settings: {{action: get, folder: INBOX, start_from: all, mark_as_read: true}}
---
type: connection
connector: disk
name: Stored replies
id: stored
settings: {{directory: "{out}"}}
---
type: operation
connector: disk
name: Store
id: store
settings: {{action: send, write_option: unique}}
---
type: process
name: Store patients' replies
id: store-replies
start: start
shapes:
  start: {{type: start, mode: listener, connection: clinic-inbox, operation: read-replies, interval_seconds: 120,
          next: check}}
  check: {{type: decision, first: {{document_property: mail.subject}}, comparison: equals, second: reply-001,
          true: refuse, false: name}}
  refuse: {{type: exception, message: "cannot store {{1}}", parameters: [{{document_property: mail.subject}}]}}
  name: {{type: set_properties, properties: [{{property: disk.file_name, value: [{{document_property: mail.subject}}, ".txt"]}}],
         next: write}}
  write: {{type: connector, connection: stored, operation: store}}
"""


def _message(n: int) -> bytes:
    return (f"From: Patient {n} <patient{n}@example.org>\r\nTo: {USER}\r\nSubject: reply-{n:03}\r\n"
            f"Message-ID: <reply-{n}@example.org>\r\nDate: Mon, 2 Mar 2026 09:00:00 +0000\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\nPlease send my records ({n}).\r\n").encode()


@pytest.fixture
def dovecot():  # noqa: ANN201
    binary = find_dovecot()
    if not binary:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("dovecot is not installed (apt-get install dovecot-imapd dovecot-pop3d)")
        pytest.skip("dovecot is not installed")
    password = "Listener-Secret-" + secrets.token_hex(6)
    server = DovecotServer(users={USER: password}, binary=binary)
    try:
        server.start()
        yield server, password
    finally:
        server.cleanup()


def test_a_mail_listeners_run_on_a_worker_marks_read_only_what_went_through(cli, workdir: Path, cluster,  # noqa: F811
                                                                            home: Path, dovecot) -> None:
    server, password = dovecot
    out = workdir / "stored"
    out.mkdir()
    (workdir / "listener.yaml").write_text(COMPONENTS.format(port=server.imaps_port, user=USER, password=password,
                                                             ca=server.ca_file, out=out))
    assert (result := cli("import", "listener.yaml", env=cluster.env)).code == 0, result
    server.deliver_many(USER, [_message(n) for n in range(3)])
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
