"""Commit after success and the watermark, against a real Dovecot.

Nothing is deleted, moved or marked until the execution succeeded; the watermark in the
repository makes the next run take only what it has not taken; the first run takes what
start_from says; a crash inside the commit is finished by the next run; IDLE wakes a
listener when mail arrives.
"""

from __future__ import annotations

import logging
import threading
import time

import pytest

from postroom.connectors.mail import MailConnection, connector
from postroom.errors import ConnectionFailed
from postroom.repository import open_repository
from postroom.sdk.testing import MemoryContext
from postroom.services import RunRequest, import_paths, run_process
from support.getkit import get_op, mail_to_disk, read, simple, write_components

# -- through the engine: a failed execution changes nothing --------------------------------------

MODES = {
    "pop3-delete": ("pop3s", "delete_after_read: true"),
    "imap-move": ("imaps", "move_to_folder: Processed"),
    "imap-delete": ("imaps", "delete_after_read: true, mark_as_read: false"),
    "imap-mark": ("imaps", "mark_as_read: true"),
}


def _process(mailbox, tmp_path, mode):  # noqa: ANN001, ANN202
    transport, extra = MODES[mode]
    path = mail_to_disk(mailbox, tmp_path, transport, extra, stop_on_subject=".*STOP.*")
    repo = open_repository()
    import_paths(repo, [str(path)])
    return repo


@pytest.mark.parametrize("mode", list(MODES))
def test_a_failed_execution_deletes_moves_and_marks_nothing(mailbox, tmp_path, home, mode):
    paths = [mailbox.deliver(simple(1)), mailbox.deliver(simple(2, subject="Please STOP")), mailbox.deliver(simple(3))]
    before = sorted(mailbox.messages())
    repo = _process(mailbox, tmp_path, mode)
    try:
        record, result = run_process(repo, RunRequest("mail-to-disk"))
        assert record.status == "failed" and "refusing Please STOP" in (record.error or "")
        assert sorted(mailbox.messages()) == before
        assert all("S" not in flags for flags in mailbox.flags())  # not even marked as read
        assert mailbox.messages("Processed") == []
        transport, _ = MODES[mode]
        key = connector.open(MailConnection.model_validate(mailbox.connection(transport)), get_op(),
                             MemoryContext()).watermark_key()
        assert repo.get_watermark(key, "read") is None  # the failed run advanced nothing

        for path in paths[1:2]:  # someone removes the offending message; the next run succeeds
            for candidate in path.parent.parent.glob(f"*/{path.name.split(':')[0]}*"):
                candidate.unlink()
        record, result = run_process(repo, RunRequest("mail-to-disk"))
        assert record.status == "complete", repo.get_logs(record.id)
        assert repo.get_watermark(key, "read") is not None
        assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["<msg-1@example.org>", "<msg-3@example.org>"]
        if mode == "imap-move":
            assert mailbox.messages() == [] and len(mailbox.messages("Processed")) == 2
        elif mode == "imap-mark":
            assert mailbox.flags() == ["S", "S"]
        else:
            assert mailbox.messages() == []
        # and a third run finds nothing new
        record, _ = run_process(repo, RunRequest("mail-to-disk"))
        assert record.status == "complete" and record.documents_in == 0
    finally:
        repo.close()


# -- start_from ----------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["pop3s", "imaps"])
def test_start_from_now_leaves_existing_mail_alone(mailbox, transport, caplog):
    for n in (1, 2, 3):
        mailbox.deliver(simple(n))
    context = MemoryContext()
    with caplog.at_level(logging.INFO):
        documents, _, _ = read(mailbox.connection(transport), context, start_from="now", delete_after_read=True)
    assert documents == []
    assert "3 message(s) already there are left alone (start_from: now)" in caplog.text
    assert len(mailbox.messages()) == 3
    mailbox.deliver(simple(4))
    documents, _, _ = read(mailbox.connection(transport), context, start_from="now", delete_after_read=True)
    assert [d.properties["mail.message_id"] for d in documents] == ["<msg-4@example.org>"]
    assert len(mailbox.messages()) == 3  # the old ones are never touched, the new one is gone


@pytest.mark.parametrize("transport", ["pop3s", "imaps"])
def test_start_from_date(mailbox, transport):
    january = time.mktime((2026, 1, 10, 12, 0, 0, 0, 0, -1))
    july = time.mktime((2026, 7, 1, 12, 0, 0, 0, 0, -1))
    mailbox.deliver(simple(1, date="Sat, 10 Jan 2026 12:00:00 +0000"), when=january)
    mailbox.deliver(simple(2, date="Wed, 01 Jul 2026 12:00:00 +0000"), when=july)
    context = MemoryContext()
    documents, _, _ = read(mailbox.connection(transport), context, start_from="date", start_date="2026-06-01")
    assert [d.properties["mail.message_id"] for d in documents] == ["<msg-2@example.org>"]
    mailbox.deliver(simple(3, date="Fri, 02 Jan 2026 12:00:00 +0000"), when=january)  # new, though dated early
    documents, _, _ = read(mailbox.connection(transport), context, start_from="date", start_date="2026-06-01")
    assert [d.properties["mail.message_id"] for d in documents] == ["<msg-3@example.org>"]


# -- IMAP flags, max_messages, UIDVALIDITY --------------------------------------------------------


def test_unread_only_and_mark_as_read(mailbox):
    mailbox.deliver(simple(1), seen=True)  # a person read it already
    mailbox.deliver(simple(2))
    context = MemoryContext()
    documents, _, _ = read(mailbox.connection("imaps"), context)
    assert [d.properties["mail.message_id"] for d in documents] == ["<msg-2@example.org>"]
    assert sorted(mailbox.flags()) == ["S", "S"]
    other = MemoryContext()
    documents, _, _ = read(mailbox.connection("imaps"), other, unread_only=False, mark_as_read=False)
    assert len(documents) == 2


def test_max_messages_takes_the_oldest_first_and_the_rest_later(mailbox):
    for n in range(1, 6):
        mailbox.deliver(simple(n))
    context = MemoryContext()
    seen = []
    for _ in range(3):
        documents, _, _ = read(mailbox.connection("imaps"), context, max_messages=2)
        seen.append([d.properties["mail.message_id"][5:6] for d in documents])
    assert seen == [["1", "2"], ["3", "4"], ["5"]]
    pop_context = MemoryContext()
    documents, _, _ = read(mailbox.connection("pop3s"), pop_context, max_messages=3)
    assert len(documents) == 3
    documents, _, _ = read(mailbox.connection("pop3s"), pop_context, max_messages=3)
    assert len(documents) == 2


def test_a_changed_uidvalidity_reads_again_as_start_from_says(mailbox, caplog):
    mailbox.deliver(simple(1))
    mailbox.deliver(simple(2))
    context = MemoryContext()
    documents, _, _ = read(mailbox.connection("imaps"), context, mark_as_read=False)
    assert len(documents) == 2
    [(key, value)] = context._watermarks.values.items()
    context._watermarks.values[key] = {**value, "uidvalidity": value["uidvalidity"] + 1}  # as after a rebuild
    with caplog.at_level(logging.WARNING):
        documents, _, _ = read(mailbox.connection("imaps"), context, mark_as_read=False)
    assert len(documents) == 2
    assert "was renumbered by the server (UIDVALIDITY" in caplog.text


# -- a crash inside the commit --------------------------------------------------------------------


def test_imap_commit_interrupted_after_the_watermark_is_finished_by_the_next_run(mailbox, monkeypatch):
    from postroom.connectors.mail import _imap

    for n in (1, 2):
        mailbox.deliver(simple(n))
    context = MemoryContext()
    original = _imap.ImapSession.move

    def broken_move(self, uids, folder):  # noqa: ANN001, ANN202
        raise ConnectionFailed("the connection dropped (test)")

    monkeypatch.setattr(_imap.ImapSession, "move", broken_move)
    with pytest.raises(ConnectionFailed):
        read(mailbox.connection("imaps"), context, move_to_folder="Processed")
    [(key, value)] = context._watermarks.values.items()
    assert value["pending"]["move"] == "Processed" and value["pending"]["uids"] == "1:2"
    assert len(mailbox.messages()) == 2
    monkeypatch.setattr(_imap.ImapSession, "move", original)
    documents, _, _ = read(mailbox.connection("imaps"), context, move_to_folder="Processed")
    assert documents == []  # not read twice
    assert mailbox.messages() == [] and len(mailbox.messages("Processed")) == 2
    assert "pending" not in context._watermarks.values[key]


def test_pop3_commit_interrupted_before_quit_deletes_at_the_next_run(mailbox, monkeypatch):
    from postroom.connectors.mail import _pop3

    for n in (1, 2):
        mailbox.deliver(simple(n))
    context = MemoryContext()

    def dies(self):  # noqa: ANN001, ANN202 - the process is killed before QUIT
        _pop3._close(self.client)
        raise ConnectionFailed("killed (test)")

    monkeypatch.setattr(_pop3.Pop3Session, "quit", dies)
    with pytest.raises(ConnectionFailed):
        read(mailbox.connection("pop3s"), context, delete_after_read=True)
    assert len(mailbox.messages()) == 2  # DELE without QUIT deletes nothing
    monkeypatch.undo()
    mailbox.deliver(simple(3))
    documents, _, _ = read(mailbox.connection("pop3s"), context, delete_after_read=True)
    assert [d.properties["mail.message_id"] for d in documents] == ["<msg-3@example.org>"]
    assert mailbox.messages() == []
    # the watermark holds only what is still on the server
    documents, _, _ = read(mailbox.connection("pop3s"), context, delete_after_read=True)
    [(key, value)] = context._watermarks.values.items()
    assert value == {"protocol": "pop3", "taken": [], "kept": []}


def test_dry_run_reads_but_changes_nothing(mailbox, caplog):
    mailbox.deliver(simple(1))
    context = MemoryContext(dry_run=True)
    with caplog.at_level(logging.INFO):
        documents, _, _ = read(mailbox.connection("imaps"), context, move_to_folder="Processed")
    assert len(documents) == 1 and len(mailbox.messages()) == 1
    assert context._watermarks.values == {}
    assert "dry run: 1 message(s) would now be marked as read and moved to Processed" in caplog.text


def test_get_as_a_connector_shape_in_the_middle_of_a_process(mailbox, tmp_path, home):
    for n in (1, 2):
        mailbox.deliver(simple(n))
    settings = mailbox.connection("pop3")
    path = write_components(tmp_path, f"""
        type: connection
        connector: mail
        name: Box
        id: box
        settings: {{host: "{settings['host']}", port: {settings['port']}, use_tls: true, user_name: "{mailbox.user}",
                    password: "{mailbox.password}", trusted_ca_file: "{settings['trusted_ca_file']}"}}
        ---
        type: operation
        connector: mail
        name: Read
        id: read
        settings: {{action: get, start_from: all, delete_after_read: true}}
        ---
        type: process
        name: Middle
        id: middle
        start: start
        shapes:
          start: {{type: start, mode: no_data, next: get}}
          get: {{type: connector, connection: box, operation: read, next: log}}
          log: {{type: notify, message: "got {{1}}", parameters: [{{document_property: mail.subject}}]}}
        """)
    repo = open_repository()
    try:
        import_paths(repo, [str(path)])
        record, _ = run_process(repo, RunRequest("middle"))
        assert record.status == "complete" and record.documents_out == 2
        assert [e.message for e in repo.get_logs(record.id) if e.message.startswith("got")] == [
            "got Message 1", "got Message 2"]
        assert mailbox.messages() == []
    finally:
        repo.close()


# -- waiting for mail (listeners) -----------------------------------------------------------------


def _session(mailbox, context, **settings):  # noqa: ANN001, ANN202
    return connector.open(MailConnection.model_validate(mailbox.connection("imaps")), get_op(**settings), context)


def test_wait_for_new_wakes_on_idle_and_times_out(mailbox):
    context = MemoryContext()
    waiter = _session(mailbox, context)
    try:
        read(mailbox.connection("imaps"), context)  # an execution: the watermark exists now
        started = time.monotonic()
        assert waiter.wait_for_new(1.0) is False
        assert 0.9 <= time.monotonic() - started < 4

        timer = threading.Timer(0.7, mailbox.deliver, [simple(1)])
        timer.start()
        started = time.monotonic()
        assert waiter.wait_for_new(30) is True
        assert time.monotonic() - started < 5, "IDLE should announce the new message at once"
        timer.join()
        assert waiter.wait_for_new(0.5) is True  # not taken yet: still new
        documents, _, _ = read(mailbox.connection("imaps"), context)
        assert len(documents) == 1
        assert waiter.wait_for_new(0.5) is False
    finally:
        waiter.close()


def test_wait_for_new_re_idles_and_can_be_interrupted(mailbox, monkeypatch):
    from postroom.connectors.mail.get import MailGetSession

    monkeypatch.setattr(MailGetSession, "IDLE_SLICE", 0.6)
    context = MemoryContext()
    read(mailbox.connection("imaps"), context, from_address="wanted@example.org")  # sets this selection's watermark
    waiter = _session(mailbox, context, from_address="wanted@example.org")
    try:
        timer = threading.Timer(0.3, mailbox.deliver, [simple(1, sender="other@example.org")])
        timer.start()
        assert waiter.wait_for_new(2.0) is False  # mail the operation would not take wakes nobody
        timer.join()
        timer = threading.Timer(1.5, mailbox.deliver, [simple(2, sender="wanted@example.org")])
        timer.start()
        started = time.monotonic()
        assert waiter.wait_for_new(30) is True  # found after two IDLE periods
        assert time.monotonic() - started < 6
        timer.join()
        documents, _, _ = read(mailbox.connection("imaps"), context, from_address="wanted@example.org")
        assert [d.properties["mail.message_id"] for d in documents] == ["<msg-2@example.org>"]

        threading.Timer(0.5, waiter.interrupt).start()
        started = time.monotonic()
        assert waiter.wait_for_new(30) is False
        assert time.monotonic() - started < 3
    finally:
        waiter.close()


def test_only_imap_sessions_wait(mailbox):
    context = MemoryContext()
    pop = connector.open(MailConnection.model_validate(mailbox.connection("pop3s")), get_op(), context)
    imap = _session(mailbox, context)
    try:
        assert not hasattr(pop, "wait_for_new") and callable(imap.wait_for_new)
        user = mailbox.user.replace("@", "%40")
        assert pop.resource_key() == f"pop3://{user}@127.0.0.1:{mailbox.server.pop3s_port}"
        assert imap.resource_key() == f"imap://{user}@127.0.0.1:{mailbox.server.imaps_port}/INBOX"
    finally:
        pop.close()
        imap.close()


@pytest.mark.parametrize("transport", ["pop3s", "imaps"])
def test_a_consumer_that_stops_early_commits_only_what_it_took(mailbox, transport):
    """The engine may stop pulling (end and return): pipelined POP3 answers are drained,
    and only the messages whose documents were handed out are committed."""
    for n in range(1, 41):
        mailbox.deliver(simple(n))
    context = MemoryContext()
    session = connector.open(MailConnection.model_validate(mailbox.connection(transport)),
                             get_op(delete_after_read=True), context)
    try:
        documents = session.fetch()
        taken = [next(documents).properties["mail.message_id"] for _ in range(5)]
        documents.close()
        session.commit()
    finally:
        session.close()
    assert taken == [f"<msg-{n}@example.org>" for n in range(1, 6)]
    assert len(mailbox.messages()) == 35
    rest, _, _ = read(mailbox.connection(transport), context, delete_after_read=True)
    assert [d.properties["mail.message_id"] for d in rest] == [f"<msg-{n}@example.org>" for n in range(6, 41)]
    assert mailbox.messages() == []


def test_wait_for_new_on_an_empty_mailbox_without_a_watermark_waits(mailbox):
    """A listener whose first run (start_from: all) found nothing has no watermark yet: an
    empty mailbox must not wake it over and over; the first message must."""
    context = MemoryContext()
    waiter = _session(mailbox, context, start_from="all")
    try:
        assert waiter.wait_for_new(0.5) is False
        timer = threading.Timer(0.5, mailbox.deliver, [simple(1)])
        timer.start()
        assert waiter.wait_for_new(20) is True
        timer.join()
    finally:
        waiter.close()
    now = _session(mailbox, MemoryContext(), start_from="now")
    try:
        assert now.wait_for_new(0.5) is True  # its first fetch stores the baseline at once
    finally:
        now.close()
