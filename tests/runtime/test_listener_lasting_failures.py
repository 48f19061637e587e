"""A listener acts on ``retryable`` (docs/adr/0011-retryable-errors.md): a failure that waiting
does not mend (a refused login, bad configuration) shows as failed at its first check and is
looked at again only at the longest backoff; a fix is picked up at that next check. Failures
that may pass (a server that is down, a folder that is away) still back off from the start
and show as failed only after ``failures_before_failed`` in a row (test_listener_runtime.py,
test_listener_serve_disk.py).

Against a real Dovecot, with the listener runtime in this process."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from postroom.errors import (
    AuthenticationFailed,
    ConfigError,
    ConnectionFailed,
    ConnectorError,
    ExecutionStopped,
    Interrupted,
    SecretMissing,
)
from postroom.repository import Repository, open_repository
from postroom.runtime import ListenerOptions
from postroom.runtime._listener_worker import lasting
from postroom.services import import_paths, listener_runtime
from support.getkit import mail_to_disk, simple
from support.listenerkit import wait_for

MAX_BACKOFF = 0.8


@pytest.fixture
def repo(home: Path) -> Iterator[Repository]:
    repository = open_repository()
    yield repository
    repository.close()


def _import(repo: Repository, mailbox, tmp_path: Path, password: str) -> None:  # noqa: ANN001
    path = mail_to_disk(mailbox, tmp_path, extra="mark_as_read: true", out=tmp_path / "out", process="store-mail",
                        listener_interval=0.2, password=password, timeout_seconds=5)
    import_paths(repo, [str(path)])


@pytest.mark.timeout(120)
def test_a_refused_login_shows_failed_at_once_and_a_fix_is_taken_at_the_next_check(  # noqa: ANN001
        repo, mailbox, tmp_path):
    mailbox.deliver(simple(1))
    wrong = "Wrong-Pass-" + mailbox.password
    _import(repo, mailbox, tmp_path, wrong)
    runtime = listener_runtime(repo, ListenerOptions(lease_seconds=3, failures_before_failed=5,
                                                    backoff_initial_seconds=0.01, backoff_max_seconds=MAX_BACKOFF))
    runtime.start()
    try:
        wait_for(lambda: [h for h in repo.list_listener_health() if h.consecutive_failures >= 2], 60,
                 "two refused logins")
        (health,) = repo.list_listener_health()
        assert health.state == "failed"  # not retrying: five failures in a row are not awaited
        assert "refused" in (health.last_error or "") and wrong not in (health.last_error or "")
        (record,) = repo.list_executions()
        messages = [entry.message for entry in repo.get_logs(record.id)]
        # the first failed check says at once that the listener is failed, and why
        assert messages[0].startswith("listener check failed (1 in a row): ")
        assert messages[1].startswith("the listener is failed: waiting does not mend this failure")
        assert sum(m.startswith("the listener is failed") for m in messages) == 1
        delays = [float(m.group(1)) for text in messages if (m := re.search(r"next try in ([\d.]+) s", text))]
        # an exponential backoff from 0.01 s would wait 0.005 to 0.01 s first; a lasting failure
        # waits the longest backoff (jitter takes off at most half) every time
        assert delays and all(MAX_BACKOFF / 2 - 0.05 <= d <= MAX_BACKOFF + 0.05 for d in delays), delays

        _import(repo, mailbox, tmp_path, mailbox.password)  # the fix: the right password
        wait_for(lambda: (tmp_path / "out" / "<msg-1@example.org>").exists(), 30, "the message stored")
        (health,) = wait_for(lambda: [h for h in repo.list_listener_health() if h.state == "running"], 20,
                             "the listener to run")
    finally:
        runtime.stop()
    assert health.consecutive_failures == 0 and health.executions == 1
    assert repo.get_logs(record.id)[-1].message.startswith("listener recovered after ")
    assert mailbox.flags() == ["S"]


@pytest.mark.fast
@pytest.mark.parametrize(("error", "expected"), [
    (AuthenticationFailed("the server refused the login"), True),
    (ConfigError("no such folder", field="folder"), True),
    (SecretMissing("the secret clinic-password is not set"), True),
    (ConnectorError("cannot read /in/a.txt: Permission denied"), True),
    (ConnectionFailed("the server refused the connection"), False),
    (ConnectionFailed("the server refused SELECT", retryable=False), True),
    (ConfigError("the directory /in does not exist", retryable=True), False),
    (Interrupted("stopped by SIGTERM"), False),
    (ExecutionStopped("stop_process"), False),
    (OSError(104, "Connection reset by peer"), False),
    (RuntimeError("unexpected"), False),
])
def test_which_failures_are_lasting(error: BaseException, expected: bool) -> None:
    assert lasting(error) is expected
