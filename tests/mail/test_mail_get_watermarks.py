"""Issue 7, item 18: a watermark per get operation, listed and reset from the CLI.

Against a real Dovecot, through ``postroom``: two get operations read one IMAP mailbox
(a bodies process and an attachments process, as in the report); once the watermark was
per mailbox the second took nothing. Each now takes every message; ``watermarks list``
shows both; ``watermarks reset`` makes ``start_from: all`` read everything again.
"""

from __future__ import annotations

import pytest

from support.getkit import CLINIC, PDF, _b64, crlf, mail_to_disk


def with_attachment(n: int) -> bytes:
    return crlf(f"""From: patient@example.org
To: {CLINIC}
Subject: Scan {n}
Message-ID: <scan-{n}@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain

Scan {n} attached.
--b
Content-Type: application/pdf
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="scan-{n}.pdf"

{_b64(PDF)}
--b--
""")


def _run(cli, process: str) -> int:  # noqa: ANN001
    result = cli("run", process, "--json")
    assert result.code == 0, result
    return result.json()["documents_in"]


@pytest.mark.timeout(180)
def test_two_operations_on_one_mailbox_each_take_every_message(mailbox, tmp_path, cli):
    mailbox.deliver(with_attachment(1))
    bodies = mail_to_disk(mailbox, tmp_path / "bodies", "imaps", "mark_as_read: true",
                          operation="read-bodies", process="bodies")
    attachments = mail_to_disk(mailbox, tmp_path / "attachments", "imaps",
                               "disposition: attachment, unread_only: false, mark_as_read: false",
                               operation="read-attachments", process="attachments",
                               name="{document_property: mail.file_name}")
    assert cli("import", str(bodies)).code == 0
    assert cli("import", str(attachments)).code == 0  # the same mailbox connection again

    assert _run(cli, "bodies") == 1
    assert _run(cli, "attachments") == 1  # took nothing while the watermark was the mailbox's
    assert (tmp_path / "attachments" / "out" / "scan-1.pdf").read_bytes() == PDF
    mailbox.deliver(with_attachment(2))
    assert _run(cli, "attachments") == 1
    assert _run(cli, "bodies") == 1
    assert sorted(p.name for p in (tmp_path / "bodies" / "out").iterdir()) == [
        "<scan-1@example.org>", "<scan-2@example.org>"]
    assert sorted(p.name for p in (tmp_path / "attachments" / "out").iterdir()) == ["scan-1.pdf", "scan-2.pdf"]
    assert _run(cli, "bodies") == 0 and _run(cli, "attachments") == 0

    listed = cli("watermarks", "list", "--json")
    assert listed.code == 0, listed
    rows = listed.json()
    box = f"imap://{mailbox.user.replace('@', '%40')}@127.0.0.1:{mailbox.server.imaps_port}/INBOX"
    assert [(r["operation"], r["mailbox"]) for r in rows] == [("read-attachments", box), ("read-bodies", box)]
    assert all(r["taken"].startswith("IMAP: UIDVALIDITY ") and r["taken"].endswith("UIDs up to 2") for r in rows)
    text = cli("watermarks", "list")
    assert text.code == 0 and f"read-bodies  {box}  IMAP: UIDVALIDITY" in text.stdout
    assert "(updated " in text.stdout and "password" not in text.stdout and mailbox.password not in text.stdout

    reset = cli("watermarks", "reset", "read-attachments")
    assert reset.code == 0 and "read-attachments: forgot 1 watermark(s)" in reset.stdout, reset
    assert [r["operation"] for r in cli("watermarks", "list", "--json").json()] == ["read-bodies"]
    assert _run(cli, "attachments") == 2  # start_from: all reads everything again
    assert _run(cli, "bodies") == 0  # the other operation's watermark is untouched

    unknown = cli("watermarks", "reset", "no-such-operation")
    assert unknown.code == 2 and "no operation 'no-such-operation'" in unknown.stderr, unknown


@pytest.mark.timeout(60)
def test_a_watermark_kept_per_mailbox_before_is_taken_over_once_per_operation(mailbox):
    from postroom.connectors.mail import MailConnection, connector
    from postroom.sdk import Failed
    from postroom.sdk.testing import MemoryContext
    from support.getkit import get_op, simple

    mailbox.deliver(simple(1))
    context = MemoryContext()
    connection = MailConnection.model_validate(mailbox.connection("imaps"))

    def take(operation: str) -> list[str]:
        session = connector.open(connection, get_op(mark_as_read=False, unread_only=False), context)
        session.operation_id = operation
        try:
            items = list(session.fetch())
            session.commit()
        finally:
            session.close()
        assert not [i for i in items if isinstance(i, Failed)]
        return [i.properties["mail.message_id"] for i in items]

    assert take("") == ["<msg-1@example.org>"]  # as before revision 0004: one watermark per mailbox
    mailbox.deliver(simple(2))
    assert take("bodies") == ["<msg-2@example.org>"]  # took the old watermark over: no old mail again
    assert take("attachments") == ["<msg-2@example.org>"]
    del context._watermarks.values[("attachments", next(iter(k for k in context._watermarks.values
                                                             if isinstance(k, str))))]  # watermarks reset
    assert take("attachments") == ["<msg-1@example.org>", "<msg-2@example.org>"]  # not taken over again
    assert take("bodies") == []


@pytest.mark.timeout(60)
@pytest.mark.parametrize("transport", ["imaps", "pop3s"])
def test_after_a_reset_start_from_now_takes_a_new_baseline(mailbox, tmp_path, home, transport):
    from postroom.repository import open_repository
    from postroom.services import RunRequest, import_paths, reset_watermarks, run_process
    from support.getkit import simple

    repo = open_repository()
    try:
        import_paths(repo, [str(mail_to_disk(mailbox, tmp_path, transport, "start_from: now"))])
        mailbox.deliver(simple(1))
        assert run_process(repo, RunRequest("mail-to-disk"))[0].documents_in == 0  # the baseline
        mailbox.deliver(simple(2))
        assert run_process(repo, RunRequest("mail-to-disk"))[0].documents_in == 1
        assert reset_watermarks(repo, "read") == 1
        mailbox.deliver(simple(3))
        assert run_process(repo, RunRequest("mail-to-disk"))[0].documents_in == 0  # a new baseline: 1, 2 and 3 stay
        mailbox.deliver(simple(4))
        record, _ = run_process(repo, RunRequest("mail-to-disk"))
        assert record.documents_in == 1
        assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["<msg-2@example.org>", "<msg-4@example.org>"]
    finally:
        repo.close()
