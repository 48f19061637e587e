"""Issue 7, item 8 (mail part): a message whose documents failed is not committed.

Against a real Dovecot, through the engine: a disk write with ``write_option: fail``
refuses one message's file (it is already there, as after a killed run). That message
stays on the server as it was (unread, undeleted, unmoved) and the next run reads it
again; the others are committed. ``commit_failed_messages: true`` restores committing
every message read.
"""

from __future__ import annotations

import pytest

from postroom.repository import open_repository
from postroom.services import RunRequest, import_paths, run_process
from support.getkit import mail_to_disk, simple

MODES = {
    "imap-mark": ("imaps", "mark_as_read: true"),
    "imap-move": ("imaps", "move_to_folder: Processed"),
    "pop3-delete": ("pop3s", "delete_after_read: true"),
}


def _files(out):  # noqa: ANN001, ANN202
    return sorted(p.name for p in out.iterdir())


def _committed(mailbox, mode: str) -> int:  # noqa: ANN001
    """How many messages the server shows as committed (marked, moved or deleted)."""
    if mode == "imap-mark":
        return mailbox.flags().count("S")
    if mode == "imap-move":
        return len(mailbox.messages("Processed"))
    return 3 - len(mailbox.messages())


@pytest.mark.timeout(120)
@pytest.mark.parametrize("mode", list(MODES))
def test_a_message_whose_write_failed_stays_and_is_read_again(mailbox, tmp_path, home, mode):
    for n in (1, 2, 3):
        mailbox.deliver(simple(n, body=f"reply {n}"))
    out = tmp_path / "out"
    out.mkdir()
    (out / "<msg-2@example.org>").write_bytes(b"")  # an empty file left by a killed run
    transport, extra = MODES[mode]
    repo = open_repository()
    try:
        import_paths(repo, [str(mail_to_disk(mailbox, tmp_path, transport, extra, write_option="fail"))])
        record, _ = run_process(repo, RunRequest("mail-to-disk"))
        assert record.status == "complete_with_errors"
        assert (out / "<msg-1@example.org>").read_text() == "reply 1\n"
        assert (out / "<msg-2@example.org>").read_bytes() == b""
        assert _committed(mailbox, mode) == 2  # 1 and 3; 2 stays as it was
        assert len(mailbox.messages()) == (3 if mode == "imap-mark" else 1)
        logs = " ".join(entry.message for entry in repo.get_logs(record.id))
        assert "1 message(s) left on the server as they were" in logs

        # someone removes the empty file; the next run reads message 2 again, and only it
        (out / "<msg-2@example.org>").unlink()
        record, _ = run_process(repo, RunRequest("mail-to-disk"))
        assert record.status == "complete" and record.documents_in == 1
        assert (out / "<msg-2@example.org>").read_text() == "reply 2\n"
        assert _committed(mailbox, mode) == 3
        record, _ = run_process(repo, RunRequest("mail-to-disk"))
        assert record.status == "complete" and record.documents_in == 0
    finally:
        repo.close()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("mode", ["imap-mark", "pop3-delete"])
def test_commit_failed_messages_commits_them_anyway(mailbox, tmp_path, home, mode):
    for n in (1, 2, 3):
        mailbox.deliver(simple(n))
    out = tmp_path / "out"
    out.mkdir()
    (out / "<msg-2@example.org>").write_bytes(b"")
    transport, extra = MODES[mode]
    repo = open_repository()
    try:
        path = mail_to_disk(mailbox, tmp_path, transport, extra + ", commit_failed_messages: true", write_option="fail")
        import_paths(repo, [str(path)])
        record, _ = run_process(repo, RunRequest("mail-to-disk"))
        assert record.status == "complete_with_errors"
        assert _committed(mailbox, mode) == 3
        (out / "<msg-2@example.org>").unlink()
        record, _ = run_process(repo, RunRequest("mail-to-disk"))
        assert record.documents_in == 0 and _files(out) == ["<msg-1@example.org>", "<msg-3@example.org>"]
    finally:
        repo.close()
