"""Issue 12 item 3: List-Unsubscribe with RFC 8058 one-click, from the operation or per
document, signed by DKIM when DKIM is on; In-Reply-To/References answering a message a
mail Get read, unless thread_replies is off."""

from __future__ import annotations

import base64
import re

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from pydantic import ValidationError

from postroom.connectors.mail._dkim import txt_record
from postroom.sdk import Document, Failed
from support.sendkit import run, send_op, starttls

URL = "https://clinic.example/unsubscribe?p=P0000001&t=9f2c"


def _header_names(raw: bytes) -> list[str]:
    head = raw.split(b"\r\n\r\n", 1)[0].decode()
    return [name.lower() for name in re.findall(r"^([!-9;-~]+):", head, re.M)]


def _signed(raw: bytes) -> list[str]:
    head = raw.split(b"\r\n\r\n", 1)[0].decode().replace("\r\n", "")
    return [n.strip() for n in re.search(r"h=([^;]*);", head).group(1).split(":")]


def test_one_click_unsubscribe_is_sent_and_signed(devmail):
    seed = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    connection = starttls(devmail, dkim_domain="example.com", dkim_selector="s1",
                          dkim_private_key=base64.b64encode(seed).decode(), dkim_algorithm="ed25519-sha256")
    op = send_op(list_unsubscribe=f"{URL}, mailto:unsubscribe@clinic.example")
    [result] = run(connection, op, [Document("News\n", {"mail.to_address": "a@example.org"})])
    assert not isinstance(result, Failed), result
    [stored] = devmail.store.wait_for(1)
    message = stored.parse()
    assert message["List-Unsubscribe"] == f"<{URL}>, <mailto:unsubscribe@clinic.example>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert {"list-unsubscribe", "list-unsubscribe-post"} <= set(_signed(stored.raw))
    value = txt_record("s1", "example.com", connection.dkim_signer().key)[1]
    assert dkim.verify(stored.raw, dnsfunc=lambda name, timeout=5: value.encode())
    forged = stored.raw.replace(b"List-Unsubscribe=One-Click", b"List-Unsubscribe=Two-Clicks")
    assert not dkim.verify(forged, dnsfunc=lambda name, timeout=5: value.encode())


def test_a_document_sets_its_own_and_mailto_alone_has_no_one_click(devmail):
    op = send_op(list_unsubscribe=URL)
    mailto = Document("a\n", {"mail.to_address": "a@example.org"})
    mailto.set_property("mail.list_unsubscribe", "mailto:stop@clinic.example?subject=stop")
    plain = Document("b\n", {"mail.to_address": "b@example.org"})
    bad = Document("c\n", {"mail.to_address": "c@example.org"})
    bad.set_property("mail.list_unsubscribe", "javascript:alert(1)")
    first, second, third = run(starttls(devmail), op, [mailto, plain, bad])
    assert not isinstance(first, Failed) and not isinstance(second, Failed)
    assert isinstance(third, Failed)
    assert third.message.startswith("document property mail.list_unsubscribe list_unsubscribe: 'javascript:alert(1)'")
    by_to = {m.rcpt_tos[0]: m for m in devmail.store.wait_for(2)}
    a, b = by_to["a@example.org"].parse(), by_to["b@example.org"].parse()
    assert a["List-Unsubscribe"] == "<mailto:stop@clinic.example?subject=stop>" and a["List-Unsubscribe-Post"] is None
    assert b["List-Unsubscribe"] == f"<{URL}>" and b["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


@pytest.mark.fast
def test_a_bad_list_unsubscribe_in_the_operation_is_refused():
    with pytest.raises(ValidationError) as caught:
        send_op(list_unsubscribe="clinic.example/unsubscribe")
    assert "list_unsubscribe: 'clinic.example/unsubscribe' is not an https:// URL or a mailto: address" in str(caught.value)


def _read(message_id: str, references: str | None = None) -> Document:
    """A document as a mail Get makes it: what it read is marked inbound."""
    properties = {"mail.to_address": "patient@example.org", "mail.message_id": message_id,
                  "mail.subject": "Re: appointment"}
    if references is not None:
        properties["mail.headers.References"] = references
    document = Document("Thank you, we got your message.\n", properties)
    document.mark_inbound(["mail.message_id", "mail.subject", "mail.headers.References"])
    document.set_property("mail.to_address", "patient@example.org")
    return document


def test_a_reply_threads_under_the_message_read(devmail):
    docs = [_read("<q2@patient.example>", "<q0@clinic.example> <q1@patient.example>"), _read("<solo@patient.example>")]
    results = run(starttls(devmail), send_op(), docs)
    assert not any(isinstance(r, Failed) for r in results), results
    stored = sorted((m.parse() for m in devmail.store.wait_for(2)), key=lambda m: m["In-Reply-To"])
    assert stored[0]["In-Reply-To"] == "<q2@patient.example>"
    assert stored[0]["References"] == "<q0@clinic.example> <q1@patient.example> <q2@patient.example>"
    assert stored[1]["In-Reply-To"] == "<solo@patient.example>" and stored[1]["References"] == "<solo@patient.example>"


def test_threading_off_or_a_process_set_message_id_sends_a_new_conversation(devmail):
    own = Document("x\n", {"mail.to_address": "b@example.org"})
    own.set_property("mail.message_id", "<set-by-process@clinic.example>")
    off = run(starttls(devmail), send_op(thread_replies=False), [_read("<q@patient.example>")])
    on = run(starttls(devmail), send_op(), [own])
    assert not isinstance(off[0], Failed) and not isinstance(on[0], Failed)
    for stored in devmail.store.wait_for(2):
        names = _header_names(stored.raw)
        assert "in-reply-to" not in names and "references" not in names


@pytest.mark.fast
def test_a_per_document_unsubscribe_link_makes_a_different_journal_key():
    from postroom.connectors.mail.send import journal_key

    op = send_op(to="a@example.org")
    plain, one, other = (Document("same\n") for _ in range(3))
    one.set_property("mail.list_unsubscribe", URL)
    other.set_property("mail.list_unsubscribe", URL + "x")
    keys = {journal_key("send", op, d) for d in (plain, one, other)}
    assert len(keys) == 3


PATIENT_REPLY = b"""From: Zoe Mueller <zoe.mueller@example.org>
To: clinic@example.com
Subject: Re: Your appointment
Date: Mon, 23 Nov 2026 09:15:00 +0100
Message-ID: <zoe-2@example.org>
In-Reply-To: <visit-1@clinic.example>
References: <visit-1@clinic.example>

Thursday suits me.
"""


def test_an_acknowledgement_after_a_real_get_threads_under_the_patients_letter(cli, workdir, devmail, mailbox):
    from postroom.devmail.pytest_plugin import DEVMAIL_PASSWORD, DEVMAIL_USER

    bundle = workdir / "ca-bundle.pem"
    bundle.write_bytes(devmail.ca_file.read_bytes() + mailbox.ca_file.read_bytes())
    (workdir / "c.yaml").write_text(f"""\
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
  password: {DEVMAIL_PASSWORD}
  trusted_ca_file: {bundle}
  inbound_protocol: imap
  inbound_host: {mailbox.server.host}
  inbound_port: {mailbox.server.imaps_port}
  inbound_use_ssl: true
  inbound_user_name: {mailbox.user}
  inbound_password: {mailbox.password}
---
type: operation
connector: mail
name: Read
id: read
settings: {{action: get, folder: INBOX, start_from: all, mark_as_read: false, disposition: inline, body: text}}
---
type: operation
connector: mail
name: Acknowledge
id: ack
settings: {{action: send, from: "Riverside Clinic <clinic@example.com>", subject: "We got your message"}}
---
type: process
name: Acknowledge
id: acknowledge
shapes:
  start: {{type: start, mode: connector, connection: clinic-mail, operation: read, next: to}}
  to:
    type: set_properties
    properties:
      - {{property: mail.to_address, value: [{{document_property: mail.from_address}}]}}
    next: send
  send: {{type: connector, connection: clinic-mail, operation: ack}}
""", encoding="utf-8")
    assert cli("import", "c.yaml").code == 0
    mailbox.deliver(PATIENT_REPLY.replace(b"\n", b"\r\n"))
    ran = cli("run", "acknowledge")
    assert ran.code == 0, ran
    [stored] = devmail.messages()
    assert stored.rcpt_tos == ("zoe.mueller@example.org",)
    message = stored.parse()
    assert message["In-Reply-To"] == "<zoe-2@example.org>"
    assert message["References"] == "<visit-1@clinic.example> <zoe-2@example.org>"
