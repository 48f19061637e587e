"""Bounces (RFC 3464) and complaints (RFC 5965) read by a Get with ``recognize: bounces``:
the samples are written out byte for byte as mailers send them (a Gmail-style bounce with
the whole letter returned, a delay notice, an ARF complaint as mailbox providers send
through feedback loops), read from a real Dovecot, and linked to the send journal."""

from __future__ import annotations

import json

import pytest

from postroom.connectors.mail._message import message_documents
from postroom.connectors.mail._reports import read_reports
from postroom.sdk import Document
from postroom.sdk.testing import MemoryContext, MemoryJournal
from support.getkit import crlf, get_op, read, simple

LETTER_ID = "<3f1c0a9e5b7d4e21a8c6f0b2d4e6a8c1@clinic.example>"


def feedback_report(n: int = 1, *, letter_id: str = LETTER_ID) -> bytes:
    """An ARF complaint (RFC 5965 section 3.1's shape) about the clinic's letter."""
    return crlf(f"""From: <abuse@mail.example.net>
Date: Thu, 3 Dec 2026 08:12:44 +0000
Subject: FW: Your appointment
To: <fbl@clinic.example>
Message-ID: <arf-{n}@mail.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report;
    boundary="part1_13d.2e68ed54_boundary"

--part1_13d.2e68ed54_boundary
Content-Type: text/plain; charset="US-ASCII"
Content-Transfer-Encoding: 7bit

This is an email abuse report for an email message received from IP
192.0.2.1 on Thu, 3 Dec 2026 08:00:01 +0000.

--part1_13d.2e68ed54_boundary
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: SomeGenerator/1.0
Version: 1
Original-Mail-From: <clinic@clinic.example>
Original-Rcpt-To: <ann.patient@example.net>
Arrival-Date: Thu, 3 Dec 2026 08:00:01 +0000
Source-IP: 192.0.2.1
Reported-Domain: clinic.example

--part1_13d.2e68ed54_boundary
Content-Type: message/rfc822
Content-Disposition: inline

From: <clinic@clinic.example>
Received: from clinic.example (clinic.example [192.0.2.1])
        by mail.example.net with ESMTP id M63d4137594e46;
        Thu, 3 Dec 2026 08:00:01 +0000
To: <ann.patient@example.net>
Subject: Your appointment
Date: Thu, 3 Dec 2026 07:59:58 +0000
Message-ID: {letter_id}

Your appointment is on Monday.
--part1_13d.2e68ed54_boundary--
""")


def delivery_report(*, envid: str = "", action: str = "failed", status: str = "5.1.1",
                    headers_part: str = "text/rfc822-headers") -> bytes:
    """A DSN as Postfix writes one: per-message fields, one recipient block, the headers back."""
    envelope = f"Original-Envelope-Id: {envid}\n" if envid else ""
    return crlf(f"""From: MAILER-DAEMON@mta.example.org (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: clinic@clinic.example
Date: Fri, 4 Dec 2026 10:00:00 +0000 (UTC)
Message-ID: <20261204100000.AB12@mta.example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="AB12.1733306400/mta.example.org"

--AB12.1733306400/mta.example.org
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

--AB12.1733306400/mta.example.org
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mta.example.org
X-Postfix-Queue-ID: AB12
{envelope}Arrival-Date: Fri,  4 Dec 2026 09:59:58 +0000 (UTC)

Final-Recipient: rfc822; bob.patient@example.net
Original-Recipient: rfc822;bob.patient@example.net
Action: {action}
Status: {status}
Remote-MTA: dns; mx.example.net
Diagnostic-Code: smtp; 550 5.1.1 <bob.patient@example.net>: Recipient address
    rejected: User unknown in local recipient table

--AB12.1733306400/mta.example.org
Content-Description: Undelivered Message Headers
Content-Type: {headers_part}

Return-Path: <clinic@clinic.example>
From: clinic@clinic.example
To: bob.patient@example.net
Subject: Your appointment
Message-ID: {LETTER_ID}

--AB12.1733306400/mta.example.org--
""")


@pytest.mark.fast
def test_a_delivery_report_names_recipient_status_diagnostic_and_letter():
    [report] = read_reports(delivery_report())
    assert (report.kind, report.recipient, report.action, report.status) == (
        "bounce", "bob.patient@example.net", "failed", "5.1.1")
    assert report.diagnostic == ("550 5.1.1 <bob.patient@example.net>: Recipient address rejected: User unknown "
                                 "in local recipient table")
    assert report.original_message_id == LETTER_ID  # from the returned headers
    assert report.reported_at == "2026-12-04T10:00:00+00:00"


@pytest.mark.fast
def test_the_envelope_id_names_the_letter_when_no_headers_come_back():
    envid = "<0a1b2c+2B3d@clinic.example>"  # xtext: +2B is a plus sign
    raw = delivery_report(envid=envid, action="delayed", status="4.4.1", headers_part="text/plain")
    [report] = read_reports(raw)
    assert (report.kind, report.status) == ("delay", "4.4.1")
    assert report.original_message_id == "<0a1b2c+3d@clinic.example>"


@pytest.mark.fast
def test_a_feedback_report_is_a_complaint_about_the_letter():
    [report] = read_reports(feedback_report())
    assert (report.kind, report.action, report.recipient) == ("complaint", "abuse", "ann.patient@example.net")
    assert report.original_message_id == LETTER_ID
    assert report.diagnostic == "SomeGenerator/1.0"
    assert report.reported_at == "2026-12-03T08:00:01+00:00"


@pytest.mark.fast
def test_without_recognize_a_report_is_read_as_any_mail_and_other_mail_stays_mail():
    import io

    plain = message_documents(io.BytesIO(delivery_report()), get_op())
    assert [d.properties["mail.subject"] for d in plain] == ["Undelivered Mail Returned to Sender"]
    assert not any(k.startswith("mail.bounce.") for k in plain[0].properties)
    letter = message_documents(io.BytesIO(simple(1)), get_op(recognize="bounces"))
    assert not any(k.startswith("mail.bounce.") for k in letter[0].properties)


def test_a_complaint_in_a_real_mailbox_becomes_a_linked_document(mailbox):
    mailbox.deliver(feedback_report(1))
    mailbox.deliver(simple(2))  # a patient's ordinary reply: read as usual
    sending = MemoryJournal()  # the journal of the execution that sent the letter
    sending.begin("send/6c1e.0/ann.patient@example.net", LETTER_ID)
    sending.finish("send/6c1e.0/ann.patient@example.net", "sent", "250 2.0.0 Ok")
    context = MemoryContext(execution_id="exec-read")
    context.sent_mail().journals["exec-send"] = sending
    documents, failed, _ = read(mailbox.connection("imaps"), context, recognize="bounces")
    assert failed == []
    complaint = [d for d in documents if "mail.bounce.kind" in d.properties]
    [ordinary] = [d for d in documents if "mail.bounce.kind" not in d.properties]
    assert ordinary.properties["mail.subject"] == "Message 2"
    [doc] = complaint
    props = doc.properties
    assert props["mail.bounce.kind"] == "complaint" and props["mail.bounce.recipient"] == "ann.patient@example.net"
    assert props["mail.bounce.execution_id"] == "exec-send"
    assert props["mail.bounce.journal_key"] == "send/6c1e.0/ann.patient@example.net"
    data = json.loads(doc.data)
    assert data["execution_id"] == "exec-send" and data["original_message_id"] == LETTER_ID
    assert props["mail.content_type"] == "application/json"
    [kept] = context.sent_mail().reports.values()  # kept with the send, for executions show
    assert kept["report_id"] == "<arf-1@mail.example.net>" and kept["execution_id"] == "exec-send"


def test_a_dry_run_links_but_keeps_nothing(mailbox):
    mailbox.deliver(delivery_report())
    context = MemoryContext(execution_id="exec-dry", dry_run=True)
    documents, _, _ = read(mailbox.connection("imaps"), context, commit=False, recognize="bounces")
    assert [d.properties["mail.bounce.recipient"] for d in documents] == ["bob.patient@example.net"]
    assert documents[0].properties["mail.bounce.execution_id"] == ""  # no send journal has the letter
    assert context.sent_mail().reports == {}


@pytest.mark.fast
def test_a_document_made_of_a_report_is_json():
    import io

    [doc] = message_documents(io.BytesIO(delivery_report()), get_op(recognize="bounces"))
    assert isinstance(doc, Document)
    assert json.loads(doc.data)["status"] == "5.1.1"


@pytest.mark.fast
def test_a_report_over_the_limit_is_read_as_ordinary_mail_with_a_warning(monkeypatch):
    import io

    from postroom.connectors.mail import _message

    monkeypatch.setattr(_message, "REPORT_LIMIT", 1000)
    warnings: list[str] = []
    documents = message_documents(io.BytesIO(delivery_report()), get_op(recognize="bounces"), warn=warnings.append)
    assert not any("mail.bounce.kind" in d.properties for d in documents)
    assert warnings == [f"message <20261204100000.AB12@mta.example.org> is a report of {len(delivery_report())} "
                        "bytes, over the 1000 read as one: it is read as ordinary mail (send with dsn_ret: hdrs so bounces return headers only)"]
