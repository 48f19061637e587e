"""Issue 7, item 9: a hostile message fails alone, quickly, and the rest of the mailbox is read.

Against a real Dovecot: a message of 500 nested multiparts (28 KB; a RecursionError once
failed the whole read) and one of 100,000 header fields (1.2 MB; once a five-minute
quadratic read) sit among good messages. The good ones become files, each hostile one
fails alone as broken with the limit it broke, stays on the server, and the read finishes
well within the test's timeout (no timing assertion: pytest-timeout fails a hang).
"""

from __future__ import annotations

import pytest

from postroom.repository import open_repository
from postroom.services import RunRequest, import_paths, run_process
from support.getkit import deeply_nested, mail_to_disk, many_headers, read, simple


@pytest.mark.timeout(60)
@pytest.mark.parametrize("transport", ["imaps", "pop3s"])
def test_hostile_messages_fail_alone_and_the_rest_is_read(mailbox, tmp_path, home, transport):
    mailbox.deliver(simple(1))
    mailbox.deliver(deeply_nested(500))
    mailbox.deliver(simple(2))
    mailbox.deliver(many_headers(100_000))
    mailbox.deliver(simple(3))
    extra = "mark_as_read: true" if transport == "imaps" else "delete_after_read: true"
    repo = open_repository()
    try:
        import_paths(repo, [str(mail_to_disk(mailbox, tmp_path, transport, extra))])
        record, _ = run_process(repo, RunRequest("mail-to-disk"))
        assert record.status == "complete_with_errors"
        assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
            "<msg-1@example.org>", "<msg-2@example.org>", "<msg-3@example.org>"]
        errors = sorted(e.message for e in repo.get_document_errors(record.id))
        assert len(errors) == 2, errors
        assert "<deep-1@example.org> is broken" in errors[0]
        assert "more than 50 (the limit max_mime_depth)" in errors[0]
        assert "<headers-1@example.org> is broken" in errors[1]
        assert "more than 1000 header fields (the limit max_header_fields)" in errors[1]
        # the hostile ones stay on the server, untouched; the good ones are committed
        left = mailbox.messages()
        if transport == "pop3s":
            assert len(left) == 2
        else:
            assert len(left) == 5 and sorted(mailbox.flags()) == ["", "", "S", "S", "S"]
        # and the next run passes them: nothing fails every run
        record, _ = run_process(repo, RunRequest("mail-to-disk"))
        assert record.status == "complete" and record.documents_in == 0
    finally:
        repo.close()


@pytest.mark.timeout(60)
def test_the_limits_are_settings(mailbox):
    mailbox.deliver(deeply_nested(8))
    mailbox.deliver(many_headers(300, n=2))
    documents, failed, _ = read(mailbox.connection("imaps"), max_mime_depth=5, max_header_fields=200)
    assert documents == []
    reasons = sorted(f.message for f in failed)
    assert "more than 5 (the limit max_mime_depth)" in reasons[0]
    assert "more than 200 header fields" in reasons[1]
    documents, failed, _ = read(mailbox.connection("imaps"), mark_as_read=False)  # defaults: both are fine
    assert failed == [] and len(documents) == 2
    assert documents[1].properties["mail.headers.X-H299"] == "v"
