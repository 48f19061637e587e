"""The listener runtime in-process: secrets never reach health or records, the backoff
doubles with jitter up to its cap, and serve follows imports and deletions."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from postroom.errors import ConnectionFailed
from postroom.repository import Repository, open_repository
from postroom.runtime import ListenerOptions
from postroom.sdk import ListeningSession, OperationSession
from postroom.services import import_paths, listener_runtime
from support.listenerkit import DISK_LISTENER, wait_for

PASSWORD = "Very-Secret-Pass-42"

MAIL_LISTENER = f"""
type: connection
connector: mail
name: Clinic
id: clinic
settings:
  host: mail.invalid
  port: 993
  use_ssl: true
  user_password_auth: true
  user_name: clinic@example.com
  password: "{PASSWORD}"
  inbound_protocol: imap
---
type: operation
connector: mail
name: Read
id: read
settings: {{action: get}}
---
type: process
name: Read mail
id: read-mail
start: start
shapes:
  start: {{type: start, mode: listener, connection: clinic, operation: read, interval_seconds: 0.1}}
"""


class Refusing(OperationSession):
    """A session whose server refuses and quotes the password back (a careless server)."""

    def __init__(self, password: str) -> None:
        self.password = password

    def resource_key(self) -> str:
        return "imap://clinic%40example.com@mail.invalid:993/INBOX"

    def fetch(self) -> Iterator:
        raise ConnectionFailed(f"login refused for clinic@example.com with password {self.password}")
        yield  # a generator, like real sessions

    def execute(self, documents, shape_id):  # noqa: ANN001, ANN201
        return documents


class RefusingConnector:
    def open(self, connection, operation, context):  # noqa: ANN001, ANN201
        return Refusing(connection.password)


@pytest.fixture
def repo(home: Path) -> Iterator[Repository]:
    repository = open_repository()
    yield repository
    repository.close()


def _import(repo: Repository, tmp_path: Path, text: str, name: str = "c.yaml") -> None:
    (tmp_path / name).write_text(text)
    import_paths(repo, [str(tmp_path / name)])


def test_no_secret_in_health_records_or_logs(repo: Repository, tmp_path: Path, monkeypatch,  # noqa: ANN001
                                             caplog) -> None:  # noqa: ANN001
    import postroom.connectors

    real = postroom.connectors.get_connector
    monkeypatch.setattr(postroom.connectors, "get_connector",
                        lambda name: RefusingConnector() if name == "mail" else real(name))
    _import(repo, tmp_path, MAIL_LISTENER)
    runtime = listener_runtime(repo, ListenerOptions(lease_seconds=3, failures_before_failed=2,
                                                    backoff_initial_seconds=0.02, backoff_max_seconds=0.05))
    runtime.start()
    try:
        (health,) = wait_for(lambda: [h for h in repo.list_listener_health() if h.state == "failed"], 20,
                             "the listener to fail")
    finally:
        runtime.stop()
    assert health.resource == "listener:imap://clinic%40example.com@mail.invalid:993/INBOX"
    assert health.last_error == "login refused for clinic@example.com with password ***"
    (record,) = repo.list_executions()
    assert record.status == "failed" and PASSWORD not in (record.error or "") and "***" in record.error
    assert all(PASSWORD not in entry.message for entry in repo.get_logs(record.id))
    assert PASSWORD not in caplog.text and "password ***" in caplog.text


def test_backoff_doubles_with_jitter_up_to_its_cap(repo: Repository, tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    _import(repo, tmp_path, DISK_LISTENER.format(inbox=missing, out=tmp_path, interval=0.1))
    runtime = listener_runtime(repo, ListenerOptions(lease_seconds=3, failures_before_failed=3,
                                                    backoff_initial_seconds=0.04, backoff_max_seconds=0.2))
    runtime.start()
    try:
        wait_for(lambda: [h for h in repo.list_listener_health() if h.consecutive_failures >= 7], 30,
                 "seven failures in a row")
    finally:
        runtime.stop()
    (record,) = repo.list_executions()
    delays = [float(m.group(1)) for e in repo.get_logs(record.id)
              if (m := re.search(r"next try in ([\d.]+) s", e.message))]
    assert len(delays) >= 7
    for n, delay in enumerate(delays[:7], 1):
        ceiling = min(0.2, 0.04 * 2 ** (n - 1))
        assert ceiling / 2 - 0.05 <= delay <= ceiling + 0.05, (n, delays)
    assert max(delays) <= 0.25
    messages = [e.message for e in repo.get_logs(record.id)]
    assert sum("the listener is failed after 3 consecutive failed checks" in m for m in messages) == 1


def test_serve_follows_imports_and_deletions(repo: Repository, tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    out.mkdir()
    runtime = listener_runtime(repo, ListenerOptions(lease_seconds=3, rescan_seconds=0.1))
    runtime.start()
    try:
        assert runtime.health() == []
        _import(repo, tmp_path, DISK_LISTENER.format(inbox=inbox, out=out, interval=0.1))
        wait_for(lambda: [h for h in runtime.health() if h.state == "running"], 20, "the new listener to run")
        (inbox / "one.txt").write_text("1")
        wait_for(lambda: (out / "one.txt").exists(), 20, "the file to be copied")

        # a re-import that changes the interval takes effect without a restart
        _import(repo, tmp_path, DISK_LISTENER.format(inbox=inbox, out=out, interval=0.3))
        wait_for(lambda: [h for h in runtime.health() if h.interval_seconds == 0.3], 20, "the new interval")

        repo.delete_component("copy-dropped")
        wait_for(lambda: [h for h in repo.list_listener_health() if h.state == "stopped"], 20,
                 "the listener of the deleted process to stop")
        wait_for(lambda: runtime.health() == [], 20, "the stopped worker to be dropped")
        (inbox / "two.txt").write_text("2")
        assert not (out / "two.txt").exists()
    finally:
        runtime.stop()


class Chatty(ListeningSession):
    """An IDLE session that always says new mail may be there, and never has any."""

    interruptible = True  # (a ListeningSession: the listener waits on it instead of polling)

    fetches = 0
    waits = 0

    def resource_key(self) -> str:
        return "imap://chatty@mail.invalid:993/INBOX"

    def fetch(self) -> Iterator:
        Chatty.fetches += 1
        return iter(())

    def wait_for_new(self, timeout_seconds: float) -> bool:
        Chatty.waits += 1
        return True

    def interrupt(self) -> None:
        pass

    def execute(self, documents, shape_id):  # noqa: ANN001, ANN201
        return documents


class ChattyConnector:
    def open(self, connection, operation, context):  # noqa: ANN001, ANN201
        return Chatty()


def test_wakeups_that_bring_nothing_do_not_spin(repo: Repository, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    import postroom.connectors

    real = postroom.connectors.get_connector
    monkeypatch.setattr(postroom.connectors, "get_connector",
                        lambda name: ChattyConnector() if name == "mail" else real(name))
    _import(repo, tmp_path, MAIL_LISTENER.replace("interval_seconds: 0.1", "interval_seconds: 2"))
    runtime = listener_runtime(repo, ListenerOptions(lease_seconds=3))
    runtime.start()
    try:
        wait_for(lambda: [h for h in runtime.health() if h.state == "running" and h.mode == "idle"], 10,
                 "the idle listener to run")
        before = Chatty.fetches
        time.sleep(4)
        looks = Chatty.fetches - before
    finally:
        runtime.stop()
    # pauses of 0.5, 1, 2, 2... seconds: a handful of looks, not thousands
    assert 1 <= looks <= 6, looks
    assert repo.list_executions() == []  # nothing found, nothing recorded
