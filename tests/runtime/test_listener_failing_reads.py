"""Issue 7, item 9 under ``postroom serve``: a listener whose reads keep failing backs off and
shows failed; a message that fails alone is not a listener failure.

Against a real Dovecot, with the listener runtime in this process. Once, a read that
fetched its first message and then failed was counted a success each cycle (the failure
count went back to 0): the listener failed every second and its health said running.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from postroom.repository import Repository, open_repository
from postroom.runtime import ListenerOptions, ListenerRuntime
from postroom.services import import_paths, listener_runtime
from support.getkit import deeply_nested, mail_to_disk, simple
from support.listenerkit import wait_for


@pytest.fixture
def repo(home: Path) -> Iterator[Repository]:
    repository = open_repository()
    yield repository
    repository.close()


def _runtime(repo: Repository, mailbox, tmp_path: Path, write_option: str = "overwrite",  # noqa: ANN001
             interval: float = 0.2) -> ListenerRuntime:
    path = mail_to_disk(mailbox, tmp_path, extra="mark_as_read: true", out=tmp_path / "out", process="store-replies",
                        write_option=write_option, stop_on_subject=".*POISON.*", listener_interval=interval,
                        timeout_seconds=5)
    import_paths(repo, [str(path)])
    return listener_runtime(repo, ListenerOptions(lease_seconds=3, failures_before_failed=3,
                                                 backoff_initial_seconds=0.2, backoff_max_seconds=1.0))


@pytest.mark.timeout(120)
def test_a_read_that_fails_every_time_backs_off_and_shows_failed(repo, mailbox, tmp_path, caplog):  # noqa: ANN001
    mailbox.deliver(simple(1))
    mailbox.deliver(simple(2, subject="POISON pill"))
    runtime = _runtime(repo, mailbox, tmp_path)
    with caplog.at_level(logging.WARNING, logger="postroom.listeners"):
        runtime.start()
        try:
            (health,) = wait_for(lambda: [h for h in repo.list_listener_health() if h.state == "failed"], 60,
                                 "the listener to show failed")
        finally:
            runtime.stop()
    assert health.consecutive_failures >= 3
    assert "refusing POISON pill" in (health.last_error or "")
    delays = [float(d) for d in re.findall(r"\(failure \d+; next try in ([\d.]+) s\)", caplog.text)]
    assert len(delays) >= 3 and delays[2] >= 0.4  # 0.2 s, doubled each time (jitter takes off at most half)
    assert all(e.status == "failed" for e in repo.list_executions())
    assert mailbox.flags() == ["", ""]  # a failed execution commits nothing


@pytest.mark.timeout(120)
def test_a_message_that_fails_alone_is_not_a_listener_failure(repo, mailbox, tmp_path):  # noqa: ANN001
    mailbox.deliver(simple(1))
    mailbox.deliver(deeply_nested(500))
    mailbox.deliver(simple(3))
    runtime = _runtime(repo, mailbox, tmp_path)
    runtime.start()
    try:
        wait_for(lambda: (tmp_path / "out").exists() and len(list((tmp_path / "out").iterdir())) == 2, 60,
                 "the two good messages to be stored")
        wait_for(lambda: sorted(mailbox.flags()) == ["", "S", "S"], 20, "the good ones marked read")
        (health,) = wait_for(lambda: [h for h in repo.list_listener_health() if h.executions >= 1], 20,
                             "an execution")
    finally:
        runtime.stop()
    assert health.consecutive_failures == 0 and health.last_error is None
    (execution,) = repo.list_executions()
    assert execution.status == "complete_with_errors" and execution.documents_failed == 1
    [error] = repo.get_document_errors(execution.id)
    assert "<deep-1@example.org> is broken" in error.message


@pytest.mark.timeout(120)
def test_a_held_back_message_is_read_again_with_the_next_mail_not_in_a_loop(repo, mailbox, tmp_path):  # noqa: ANN001
    out = tmp_path / "out"
    out.mkdir()
    (out / "<msg-2@example.org>").write_bytes(b"")  # its write fails: the message is held back
    mailbox.deliver(simple(1))
    mailbox.deliver(simple(2))
    runtime = _runtime(repo, mailbox, tmp_path, write_option="fail", interval=60)
    runtime.start()
    try:
        wait_for(lambda: sorted(mailbox.flags()) == ["", "S"], 30, "message 1 stored and marked, 2 held back")
        time.sleep(3)  # an IDLE listener does not execute the held-back message again at once, in a loop
        assert len(repo.list_executions()) == 1
        (out / "<msg-2@example.org>").unlink()
        mailbox.deliver(simple(3))  # the next mail brings the held-back one along
        wait_for(lambda: sorted(mailbox.flags()) == ["S", "S", "S"], 30, "messages 2 and 3 stored and marked")
    finally:
        runtime.stop()
    assert sorted(p.name for p in out.iterdir()) == ["<msg-1@example.org>", "<msg-2@example.org>",
                                                     "<msg-3@example.org>"]
    first, second = sorted(repo.list_executions(), key=lambda e: e.started_at)
    assert (first.status, first.documents_in, first.documents_failed) == ("complete_with_errors", 2, 1)
    assert (second.status, second.documents_in) == ("complete", 2)
