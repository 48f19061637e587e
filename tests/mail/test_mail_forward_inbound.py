"""Issue 7 item 12: a mail Get followed by a Send. What the Get recorded about the email
(its From, To, Cc, Subject, headers) stays readable but never addresses, signs or titles
the outgoing email: a "forward to archive" process sends only to the archive, with the
operation's From and Subject. Values set by Set Properties still apply."""

from __future__ import annotations

import email
import email.policy

from postroom.devmail.pytest_plugin import DEVMAIL_PASSWORD, DEVMAIL_USER

PATIENT_MAIL = b"""From: Zoe Mueller <zoe.mueller@example.org>
To: clinic@example.com, dr.smith@example.com
Cc: her.lawyer@example.net
Reply-To: zoe.private@example.org
Subject: My test results
Date: Mon, 23 Nov 2026 09:15:00 +0100
Message-ID: <zoe-1@example.org>
X-Priority: 1

Please tell me about my results.
"""


def _components(devmail, mailbox, ca_file) -> str:
    return f"""\
type: connection
connector: mail
name: Clinic mailbox
id: clinic-mail
settings:
  host: {devmail.client_host}
  port: {devmail.smtps_port}
  use_ssl: true
  user_password_auth: true
  user_name: {DEVMAIL_USER}
  password: ${{secret:smtp-password}}
  trusted_ca_file: {ca_file}
  inbound_protocol: imap
  inbound_host: {mailbox.server.host}
  inbound_port: {mailbox.server.imaps_port}
  inbound_use_ssl: true
  inbound_user_name: {mailbox.user}
  inbound_password: ${{secret:imap-password}}
---
type: operation
connector: mail
name: Read
id: read
settings: {{action: get, folder: INBOX, start_from: all, mark_as_read: false, disposition: inline, body: text}}
---
type: operation
connector: mail
name: Archive
id: archive
settings:
  action: send
  from: Clinic Archive <clinic@example.com>
  to: archive@example.com
  subject: Archived patient message
  disposition: inline
  attachment_content_type: text/plain
---
type: process
name: Forward to archive
id: forward
shapes:
  start: {{type: start, mode: connector, connection: clinic-mail, operation: read, next: send}}
  send: {{type: connector, connection: clinic-mail, operation: archive, next: said}}
  said:
    type: notify
    message: "archived {{1}} from {{2}} to {{3}}"
    parameters: [{{document_property: mail.subject}}, {{document_property: mail.from_address}},
                 {{document_property: mail.to_address}}]
---
type: process
name: Forward to archive, subject set
id: forward-titled
shapes:
  start: {{type: start, mode: connector, connection: clinic-mail, operation: read, next: title}}
  title:
    type: set_properties
    properties:
      - property: mail.subject
        value: ["Fwd: ", {{document_property: mail.subject}}]
      - property: mail.cc_address
        value: [{{document_property: mail.cc_address}}]
    next: send
  send: {{type: connector, connection: clinic-mail, operation: archive}}
"""


def _setup(cli, workdir, devmail, mailbox):
    bundle = workdir / "ca-bundle.pem"
    bundle.write_bytes(devmail.ca_file.read_bytes() + mailbox.ca_file.read_bytes())
    (workdir / "c.yaml").write_text(_components(devmail, mailbox, bundle), encoding="utf-8")
    assert cli("secrets", "set", "smtp-password", input=DEVMAIL_PASSWORD + "\n").code == 0
    assert cli("secrets", "set", "imap-password", input=mailbox.password + "\n").code == 0
    imported = cli("import", "c.yaml")
    assert imported.code == 0, imported
    mailbox.deliver(PATIENT_MAIL.replace(b"\n", b"\r\n"))


def test_a_forward_goes_only_to_the_operations_recipient(cli, workdir, devmail, mailbox):
    _setup(cli, workdir, devmail, mailbox)
    ran = cli("run", "forward", "--json")
    assert ran.code == 0, ran
    [stored] = devmail.messages()
    assert stored.rcpt_tos == ("archive@example.com",)
    assert stored.mail_from == "clinic@example.com"
    message = email.message_from_bytes(stored.raw, policy=email.policy.default)
    assert message["To"] == "archive@example.com"
    assert message["Subject"] == "Archived patient message"
    assert message["From"] == "Clinic Archive <clinic@example.com>"
    assert message["Cc"] is None and message["Reply-To"] is None and message["X-Priority"] is None
    assert message.get_content().strip() == "Please tell me about my results."
    # reading the properties still gives what the Get recorded
    log = [entry["message"] for entry in cli("executions", "show", ran.json()["id"], "--json").json()["log"]]
    assert ("archived My test results from zoe.mueller@example.org to clinic@example.com, dr.smith@example.com"
            in log)


def test_values_set_by_set_properties_still_apply(cli, workdir, devmail, mailbox):
    _setup(cli, workdir, devmail, mailbox)
    ran = cli("run", "forward-titled", "--json")
    assert ran.code == 0, ran
    [stored] = devmail.messages()
    assert sorted(stored.rcpt_tos) == ["archive@example.com", "her.lawyer@example.net"]
    message = email.message_from_bytes(stored.raw, policy=email.policy.default)
    assert message["Subject"] == "Fwd: My test results"
    assert message["Cc"] == "her.lawyer@example.net" and message["To"] == "archive@example.com"
