"""The clinic-replies example end to end: replies read from Dovecot over IMAPS, records
requests saved to disk and acknowledged through devmail (SMTPS), the rest left alone."""

from __future__ import annotations

import email
import email.policy
import shutil

import pytest

from postroom.devmail.pytest_plugin import DEVMAIL_PASSWORD, DEVMAIL_USER
from support.testsupport import ROOT

EXAMPLE = ROOT / "examples" / "clinic-replies"

REPLIES = {
    "zoe": b"""From: =?UTF-8?Q?Zo=C3=AB_M=C3=BCller?= <zoe.mueller@example.org>
To: clinic@example.com
Cc: her.lawyer@example.net
Subject: Please transfer my records to Dr. Weber
Date: Mon, 23 Nov 2026 09:15:00 +0100
Message-ID: <zoe-1@example.org>
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Dear clinic, please send my records to Dr. J\xc3\xb6rg Weber in Lyon.
""",
    "bob": b"""From: Bob Nguyen <bob.nguyen@example.org>
To: clinic@example.com
Subject: RE: Your RECORDS
Date: Mon, 23 Nov 2026 10:00:00 +0000
Message-ID: <bob-1@example.org>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b"

--b
Content-Type: text/plain; charset=us-ascii

Yes, I would like a copy of my records.
--b
Content-Type: text/html; charset=us-ascii

<p>Yes, I would like a copy of my records.</p>
--b--
""",
    "alice": b"""From: Alice Walker <alice.walker@example.com>
To: clinic@example.com
Subject: Appointment next week
Date: Mon, 23 Nov 2026 11:00:00 +0000
Message-ID: <alice-1@example.com>

Can I come on Tuesday?
""",
}


@pytest.fixture
def example(cli, workdir, devmail, mailbox):
    shutil.copytree(EXAMPLE, workdir / "clinic-replies")
    connections = workdir / "clinic-replies" / "connections.yaml"
    text = connections.read_text()
    assert "  port: 2465 " in text and "  inbound_port: 993\n" in text
    connections.write_text(text.replace("  port: 2465 ", f"  port: {devmail.smtps_port} ")
                           .replace("  inbound_port: 993\n", f"  inbound_port: {mailbox.server.imaps_port}\n"))
    bundle = workdir / "ca-bundle.pem"  # devmail and Dovecot each have their own test CA
    bundle.write_bytes(devmail.ca_file.read_bytes() + mailbox.ca_file.read_bytes())
    env = {
        "CLINIC_SMTP_HOST": devmail.client_host, "CLINIC_SMTP_USER": DEVMAIL_USER, "CLINIC_CA_FILE": str(bundle),
        "CLINIC_IMAP_HOST": mailbox.server.host, "CLINIC_IMAP_USER": mailbox.user,
    }
    assert cli("secrets", "set", "clinic-smtp-password", input=DEVMAIL_PASSWORD + "\n").code == 0
    assert cli("secrets", "set", "clinic-imap-password", input=mailbox.password + "\n").code == 0
    imported = cli("import", "clinic-replies", env=env)
    assert imported.code == 0, imported
    return env


def test_records_requests_are_saved_and_acknowledged(cli, workdir, devmail, mailbox, example):
    for raw in REPLIES.values():
        mailbox.deliver(raw.replace(b"\n", b"\r\n"))
    tested = cli("connections", "test", "clinic-mail", "--json", env=example)
    assert tested.code == 0, tested
    assert "inbound login" in tested.json()["facts"] and "outbound login" in tested.json()["facts"]

    ran = cli("run", "clinic-replies", "--json", env=example)
    assert ran.code == 0, ran
    record = ran.json()
    assert record["status"] == "complete" and record["documents_in"] == 3 and record["errors"] == []

    folder = workdir / "out" / "records-requests"
    saved = {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir()}
    assert saved == {
        "<zoe-1@example.org>.txt": "Dear clinic, please send my records to Dr. Jörg Weber in Lyon.\n",
        "<bob-1@example.org>.txt": "Yes, I would like a copy of my records.",
    }

    acks = sorted(devmail.messages(), key=lambda m: m.rcpt_tos)
    assert [m.rcpt_tos for m in acks] == [("bob.nguyen@example.org",), ("zoe.mueller@example.org",)]
    for stored, subject, date in zip(acks, ["RE: Your RECORDS", "Please transfer my records to Dr. Weber"],
                                     ["Mon, 23 Nov 2026 10:00:00 +0000", "Mon, 23 Nov 2026 09:15:00 +0100"],
                                     strict=True):
        message = email.message_from_bytes(stored.raw, policy=email.policy.default)
        assert stored.mail_from == "clinic@example.com"
        assert message["From"] == "Riverside Clinic <clinic@example.com>"
        assert message["Subject"] == f"Re: {subject}"
        assert message["Cc"] is None  # the lawyer Zoë copied gets nothing
        assert message.get_content().replace("\r\n", "\n") == (
            f'Hello,\n\nwe have received your message "{subject}" of {date} about your records. '
            "We will answer within five working days.\n\nRiverside Clinic\n")

    shown = cli("executions", "show", record["id"], "--json").json()
    messages = [entry["message"] for entry in shown["log"]]
    assert "not a records request, left for the front desk: Appointment next week" in messages
    assert "records request from zoe.mueller@example.org saved and acknowledged" in messages

    # the mailbox is left as the staff know it: nothing moved, marked or deleted
    assert len(mailbox.messages()) == 3 and set(mailbox.flags()) == {""}

    # the next run takes only what arrived since: one more request
    mailbox.deliver(REPLIES["zoe"].replace(b"zoe-1@", b"zoe-2@").replace(b"Dr. Weber", b"Dr. Weber, again")
                    .replace(b"\n", b"\r\n"))
    again = cli("run", "clinic-replies", "--json", env=example)
    assert again.code == 0, again
    assert again.json()["documents_in"] == 1
    assert sorted(p.name for p in folder.iterdir()) == [
        "<bob-1@example.org>.txt", "<zoe-1@example.org>.txt", "<zoe-2@example.org>.txt"]
    assert len(devmail.messages()) == 3
