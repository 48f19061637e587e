"""The Send operation against devmail (aiosmtpd underneath): what the server received.

Every test asserts on the server's side: envelope sender and recipients, the exact
headers, the body bytes.
"""

from __future__ import annotations

import csv
import logging
import re
import threading

import pytest

from postroom.connectors.mail import MailConnection, connector
from postroom.connectors.mail.send import journal_key
from postroom.devmail.pytest_plugin import DEVMAIL_PASSWORD, DEVMAIL_USER
from postroom.sdk import Document, Failed
from postroom.sdk.testing import MemoryContext
from support.mailkit import free_port
from support.sendkit import SUBJECT, gmail_like, run, send_op, starttls


def letter(first: str, last: str) -> str:
    return f"Dear {first} {last},\n\nDr. Smith is retiring at the end of the year.\nThank you.\n"


# -- the story ---------------------------------------------------------------------------------


def test_every_patient_gets_exactly_their_own_letter(devmail_factory, patients_csv):
    dm = devmail_factory(auth_required=True)
    with open(patients_csv, newline="", encoding="utf-8") as handle:
        patients = list(csv.DictReader(handle))
    documents = [
        Document(letter(p["first_name"], p["last_name"]), {"mail.to_address": p["email"]}) for p in patients
    ]
    results = run(gmail_like(dm), send_op(), documents)

    by_patient = dict(zip((p["patient_id"] for p in patients), results, strict=True))
    assert by_patient["P0011"] == Failed(documents[10], "To address is missing")
    assert isinstance(by_patient["P0013"], Failed) and "'not-an-email' is not a valid address" in by_patient["P0013"].message
    sent = {pid: r for pid, r in by_patient.items() if not isinstance(r, Failed)}
    assert len(sent) == len(patients) - 2

    messages = dm.store.wait_for(len(sent))
    assert len(messages) == len(sent)
    all_addresses = {p["email"].lower() for p in patients if "@" in p["email"]}
    letters_seen = []
    for stored in messages:
        parsed = stored.parse()
        assert stored.mail_from == DEVMAIL_USER and stored.tls and stored.auth_user == DEVMAIL_USER
        assert len(stored.rcpt_tos) == 1
        own = stored.rcpt_tos[0].lower()
        assert str(parsed["To"]).lower() == own
        assert parsed["From"] == DEVMAIL_USER and parsed["Subject"] == SUBJECT
        assert parsed.get_content_type() == "text/plain" and parsed.get_content_charset() == "utf-8"
        raw = stored.raw.decode("utf-8").lower()
        assert {a for a in all_addresses if a in raw} == {own}, "another patient's address leaked"
        letters_seen.append((own, parsed.get_content().replace("\r\n", "\n")))
    expected = sorted((p["email"].lower(), letter(p["first_name"], p["last_name"])) for p in patients
                      if p["patient_id"] in sent)
    assert sorted(letters_seen) == expected  # each patient's letter exactly once, to their address
    ids = [r.properties["mail.message_id"] for r in sent.values()]
    assert len(set(ids)) == len(ids)
    assert sorted(ids) == sorted(m.parse()["Message-ID"] for m in messages)
    # Sessions are reused: the batch went over at most max_sessions connections, sent in parallel.
    assert len({m.peer for m in messages}) <= gmail_like(dm).max_sessions < len(messages)


def test_inline_text_plain_headers_and_body(devmail):
    body = "Dear Zoë,\n\nDr. Smith is retiring.\n"
    doc = Document(body, {"mail.to_address": "zoe.obrien@example.com"})
    [result] = run(starttls(devmail), send_op(**{"from": "Front Desk <clinic@example.com>"}), [doc])
    [stored] = devmail.store.wait_for(1)
    parsed = stored.parse()
    assert stored.mail_from == "clinic@example.com" and stored.rcpt_tos == ("zoe.obrien@example.com",)
    assert stored.tls is True  # STARTTLS happened
    assert [n for n, _ in parsed.items()] == [
        "From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type", "Content-Transfer-Encoding"
    ]
    assert parsed["From"].addresses[0].display_name == "Front Desk"
    assert parsed["Content-Type"] == 'text/plain; charset="utf-8"'
    assert parsed["Content-Transfer-Encoding"] in ("quoted-printable", "base64")
    assert parsed.get_content().replace("\r\n", "\n") == body
    assert re.fullmatch(r"<[0-9a-f]{32}@example\.com>", parsed["Message-ID"])
    assert result.properties["mail.message_id"] == parsed["Message-ID"]
    assert result.properties["mail.smtp_response"] == f"250 2.0.0 OK: queued as {stored.id}"


def test_attachment_with_body_and_file_name(devmail):
    data = "id;name\n1;Zoë\n".encode()
    operation = send_op(disposition="attachment", attachment_content_type="text/csv", body_content_type="text/html",
                        to="frontdesk@example.com", file_name="fallback.csv")
    named = Document(data, {"mail.body": "<p>Patients: see attached.</p>", "mail.file_name": "Patientenliste März.csv"})
    unnamed = Document(data, {"mail.body": "<p>Second</p>"})
    pdf = Document(b"%PDF-1.7\n\x00\xff binary", {})
    results = run(starttls(devmail), operation, [named, unnamed])
    results += run(starttls(devmail), send_op(disposition="attachment", attachment_content_type="application/pdf",
                                              to="frontdesk@example.com"), [pdf])
    assert not any(isinstance(r, Failed) for r in results)
    stored = devmail.store.wait_for(3)
    stored[:2] = sorted(stored[:2], key=lambda m: b"Second" in m.raw)  # one batch: any arrival order
    first, second, third = (m.parse() for m in stored)

    assert first.get_content_type() == "multipart/mixed"
    alternative, attached = list(first.iter_parts())
    twin, body = alternative.iter_parts()  # an HTML body goes with its text twin (tests/mail/test_mail_html.py)
    assert twin.get_content().replace("\r\n", "\n") == "Patients: see attached.\n"
    assert body.get_content_type() == "text/html" and body.get_content_charset() == "utf-8"
    assert body.get_content().rstrip("\r\n") == "<p>Patients: see attached.</p>"
    assert attached.get_content_disposition() == "attachment"
    assert attached.get_filename() == "Patientenliste März.csv"  # RFC 2231 on the wire
    assert b"\r\nContent-Disposition: attachment;\r\n filename*=utf-8''Patientenliste%20M%C3%A4rz.csv\r\n" in stored[0].raw
    assert attached.get_content_type() == "text/csv" and attached.get_content_charset() == "utf-8"
    assert attached.get_payload(decode=True) == data  # exact bytes, LF line ends kept

    assert list(second.iter_parts())[1].get_filename() == "fallback.csv"  # the operation's file_name

    pdf_part = list(third.iter_parts())[1]
    assert re.fullmatch(r"\d{8}-\d{6}-0\.pdf", pdf_part.get_filename())
    assert pdf_part.get_content_type() == "application/pdf" and pdf_part.get_content_charset() is None
    assert pdf_part.get_payload(decode=True) == b"%PDF-1.7\n\x00\xff binary"
    assert list(third.iter_parts())[0].get_content() in ("", "\n", "\r\n")


def test_address_lists_cc_bcc_reply_to(devmail):
    doc = Document("Hello", {
        "mail.to_address": 'alice@example.com; "Smith, Jr." <margaret.smith@example.org>, Bob <bob@example.org>',
        "mail.cc_address": "Carol <carol@example.net>",
        "mail.bcc_address": "dave@example.net; eve@example.net",
        "mail.reply_to_address": '"Front Desk" <desk@example.com>',
    })
    [result] = run(starttls(devmail), send_op(cc="ignored@example.com"), [doc])
    assert not isinstance(result, Failed)
    [stored] = devmail.store.wait_for(1)
    parsed = stored.parse()
    assert stored.rcpt_tos == ("alice@example.com", "margaret.smith@example.org", "bob@example.org",
                               "carol@example.net", "dave@example.net", "eve@example.net")
    assert [(a.display_name, a.addr_spec) for a in parsed["To"].addresses] == [
        ("", "alice@example.com"), ("Smith, Jr.", "margaret.smith@example.org"), ("Bob", "bob@example.org")]
    assert [(a.display_name, a.addr_spec) for a in parsed["Cc"].addresses] == [("Carol", "carol@example.net")]
    assert [(a.display_name, a.addr_spec) for a in parsed["Reply-To"].addresses] == [("Front Desk", "desk@example.com")]
    assert "Bcc" not in parsed
    raw = stored.raw.decode()
    assert "dave@example.net" not in raw and "eve@example.net" not in raw and "ignored@" not in raw


def test_refused_recipient_5xx(devmail_factory, caplog):
    dm = devmail_factory(reject_recipients=["*@bounce.example.com"])
    documents = [
        Document("one", {"mail.to_address": "gone@bounce.example.com"}),
        Document("two", {"mail.to_address": "ok@example.com; gone2@bounce.example.com"}),
        Document("three", {"mail.to_address": "three@example.com"}),
    ]
    with caplog.at_level(logging.WARNING):
        first, second, third = run(starttls(dm), send_op(), documents)
    # Every recipient refused: the document fails, naming who and why; the others go on.
    assert isinstance(first, Failed)
    assert first.message.startswith("the server refused every recipient: gone@bounce.example.com: 550 5.1.1")
    assert first.retryable is False
    # Some accepted: the document passes (the others got it), listing who was refused.
    assert not isinstance(second, Failed)
    assert second.properties["mail.refused_recipients"].startswith("gone2@bounce.example.com: 550 5.1.1")
    assert "refused 1 of 2 recipients" in caplog.text
    assert not isinstance(third, Failed)
    stored = sorted(dm.store.wait_for(2), key=lambda m: m.rcpt_tos)  # one batch: any arrival order
    assert [m.rcpt_tos for m in stored] == [("ok@example.com",), ("three@example.com",)]
    assert [m.parse().get_content().strip() for m in stored] == ["two", "three"]
    # The refused address is still in the To header of the email the others got: it is their email.
    assert "gone2@bounce.example.com" in str(stored[0].parse()["To"])


def test_deferred_4xx_is_retried_then_delivered(devmail_factory):
    dm = devmail_factory(defer_recipients={"slow@example.com": 2, "stuck@example.com": 10})
    documents = [Document("a", {"mail.to_address": "slow@example.com"}),
                 Document("b", {"mail.to_address": "stuck@example.com"})]
    delivered, stuck = run(starttls(dm, max_retries=3), send_op(), documents)
    assert not isinstance(delivered, Failed)
    assert isinstance(stuck, Failed) and "stuck@example.com: 451 4.3.0" in stuck.message
    assert stuck.retryable is True  # only temporary refusals: a later retry may pass
    [stored] = dm.store.wait_for(1)
    assert stored.rcpt_tos == ("slow@example.com",)
    decisions = [(d.address, d.code, d.attempt) for d in dm.store.decisions()]
    assert [d for d in decisions if d[0] == "slow@example.com"] == [
        ("slow@example.com", 451, 1), ("slow@example.com", 451, 2), ("slow@example.com", 250, 3)]
    assert [d for d in decisions if d[0] == "stuck@example.com"] == [("stuck@example.com", 451, n) for n in (1, 2, 3, 4)]


def test_deferred_recipient_retried_alone(devmail_factory):
    """One recipient deferred: the others get the email at once and exactly once."""
    dm = devmail_factory(defer_recipients={"slow@example.com": 1})
    [result] = run(starttls(dm), send_op(), [Document("x", {"mail.to_address": "fast@example.com; slow@example.com"})])
    assert not isinstance(result, Failed) and "mail.refused_recipients" not in result.properties
    stored = dm.store.wait_for(2)
    assert [m.rcpt_tos for m in stored] == [("fast@example.com",), ("slow@example.com",)]
    assert stored[0].parse()["Message-ID"] == stored[1].parse()["Message-ID"]  # one email, two transactions
    assert result.properties["mail.smtp_response"].count("250 2.0.0") == 2


def test_one_email_per_recipient(devmail):
    context = MemoryContext(execution_id="exec-7")
    doc = Document("Dear patient", {"mail.to_address": "a@example.com; B <b@example.org>; a@example.com"})
    [result] = run(starttls(devmail), send_op(one_email_per_recipient=True, cc="desk@example.com",
                                              bcc="audit@example.com"), [doc], context)
    stored = devmail.store.wait_for(2)
    assert [m.rcpt_tos for m in stored] == [("a@example.com", "desk@example.com", "audit@example.com"),
                                           ("b@example.org", "desk@example.com", "audit@example.com")]
    assert [str(m.parse()["To"]) for m in stored] == ["a@example.com", "B <b@example.org>"]
    assert "b@example.org" not in stored[0].raw.decode() and "a@example.com" not in stored[1].raw.decode()
    ids = [m.parse()["Message-ID"] for m in stored]
    assert result.properties["mail.message_id"] == " ".join(ids) and ids[0] != ids[1]
    key = journal_key("send", send_op(one_email_per_recipient=True, cc="desk@example.com", bcc="audit@example.com"),
                      doc, 0)
    assert sorted(context.journal().entries()) == [f"{key}/a@example.com", f"{key}/b@example.org"]
    assert all(e.status == "sent" for e in context.journal().entries().values())


def test_many_visible_addresses_draw_a_warning(devmail, caplog):
    many = "; ".join(f"p{i}@example.com" for i in range(11))
    with caplog.at_level(logging.WARNING):
        run(starttls(devmail), send_op(), [Document("x", {"mail.to_address": many})])
    assert "shows 11 addresses in To and Cc" in caplog.text and "one_email_per_recipient" in caplog.text
    assert "p3@example.com" not in caplog.text  # the warning names no one
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        run(starttls(devmail), send_op(one_email_per_recipient=True), [Document("x", {"mail.to_address": many})])
    assert "addresses in To and Cc" not in caplog.text
    assert len(devmail.store.wait_for(12)) == 12


def test_missing_from_and_to_fail_only_their_document(devmail):
    documents = [
        Document("no from", {"mail.to_address": "a@example.com"}),
        Document("no to", {"mail.from_address": "clinic@example.com"}),
        Document("blank to", {"mail.from_address": "clinic@example.com", "mail.to_address": "  "}),
        Document("fine", {"mail.from_address": "Clinic <clinic@example.com>", "mail.to_address": "b@example.com"}),
    ]
    results = run(starttls(devmail), send_op(**{"from": ""}), documents)
    assert [r.message for r in results[:3]] == ["From address is missing", "To address is missing",
                                                 "To address is missing"]
    assert [r.document for r in results[:3]] == documents[:3]
    assert not isinstance(results[3], Failed)
    [stored] = devmail.store.wait_for(1)
    assert stored.rcpt_tos == ("b@example.com",) and stored.mail_from == "clinic@example.com"


def test_properties_override_operation_fields(devmail):
    doc = Document("x", {"mail.from_address": "Other <other@example.com>", "mail.subject": "Größe: 5 \r\nBcc: evil@example.com",
                         "mail.to_address": "t@example.com"})
    run(starttls(devmail), send_op(to="op@example.com"), [doc])
    [stored] = devmail.store.wait_for(1)
    parsed = stored.parse()
    assert stored.mail_from == "other@example.com" and stored.rcpt_tos == ("t@example.com",)
    assert parsed["Subject"] == "Größe: 5  Bcc: evil@example.com"  # the CR LF became one space, no header
    assert "Bcc" not in parsed and "evil" not in stored.rcpt_tos


def test_non_ascii_local_part_uses_smtputf8(devmail_factory):
    dm = devmail_factory()
    [ok] = run(starttls(dm), send_op(), [Document("x", {"mail.to_address": "José <josé@example.com>"})])
    [stored] = dm.store.wait_for(1)
    assert not isinstance(ok, Failed) and stored.smtp_utf8 and stored.rcpt_tos == ("josé@example.com",)
    # SMTPUTF8 headers are raw UTF-8 (RFC 6532); the bytes parser would leave surrogates.
    assert "\r\nTo: =?utf-8?b?Sm9zw6k=?= <josé@example.com>\r\n" in stored.raw.decode("utf-8")
    from email import message_from_string, policy
    assert message_from_string(stored.raw.decode("utf-8"), policy=policy.default)["To"].addresses[0].addr_spec == "josé@example.com"

    old = devmail_factory(smtputf8=False)
    [failed] = run(starttls(old), send_op(), [Document("x", {"mail.to_address": "josé@example.com"})])
    assert isinstance(failed, Failed) and "does not offer SMTPUTF8" in failed.message
    assert len(old.store) == 0


def test_message_over_the_size_limit_fails_that_document(devmail_factory):
    dm = devmail_factory(max_message_size=2000)
    big, small = Document("x" * 5000, {"mail.to_address": "a@example.com"}), Document("y", {"mail.to_address": "b@example.com"})
    first, second = run(starttls(dm), send_op(), [big, small])
    assert isinstance(first, Failed) and "over the 2000 bytes the server" in first.message
    assert not isinstance(second, Failed) and [m.rcpt_tos for m in dm.store.wait_for(1)] == [("b@example.com",)]


def test_invalid_text_bytes_fail_clearly(devmail):
    doc = Document(b"caf\xe9", {"mail.to_address": "a@example.com"})
    [failed] = run(starttls(devmail), send_op(), [doc])
    assert isinstance(failed, Failed) and "not valid utf-8 text" in failed.message
    [ok] = run(starttls(devmail), send_op(attachment_content_type="text/plain; charset=windows-1252"), [doc])
    [stored] = devmail.store.wait_for(1)
    assert stored.parse().get_content_charset() == "windows-1252" and stored.parse().get_content() == "café"


# -- journal and dry run -----------------------------------------------------------------------


def test_journal_skips_what_a_resumed_execution_already_sent(devmail):
    context = MemoryContext(execution_id="exec-resume")
    journal = context.journal()
    documents = [Document(f"letter {n}", {"mail.to_address": f"p{n}@example.com"}) for n in range(3)]
    keys = [journal_key("send", send_op(), doc, 0) for doc in documents]
    journal.begin(keys[1], "<earlier@example.com>")
    journal.finish(keys[1], "sent", "250 2.0.0 OK: queued as EARLIER")
    journal.begin(keys[2], "<unfinished@example.com>")  # began, never finished: send again, same id
    first, skipped, resent = run(starttls(devmail), send_op(), documents, context)
    stored = sorted(devmail.store.wait_for(2), key=lambda m: m.rcpt_tos)  # one batch: any arrival order
    assert [m.rcpt_tos for m in stored] == [("p0@example.com",), ("p2@example.com",)]
    assert skipped.properties["mail.message_id"] == "<earlier@example.com>"
    assert skipped.properties["mail.smtp_response"] == "250 2.0.0 OK: queued as EARLIER"
    assert stored[1].parse()["Message-ID"] == "<unfinished@example.com>"
    assert resent.properties["mail.message_id"] == "<unfinished@example.com>"
    entries = journal.entries()
    assert {k: e.status for k, e in entries.items()} == {key: "sent" for key in keys}
    assert entries[keys[0]].message_id == first.properties["mail.message_id"]
    assert entries[keys[0]].reply == f"250 2.0.0 OK: queued as {stored[0].id}"


def test_message_ids_are_stable_per_execution_and_key(devmail):
    docs = [Document("x", {"mail.to_address": "a@example.com"})]
    one = run(starttls(devmail), send_op(), docs, MemoryContext(execution_id="E"))[0]
    again = run(starttls(devmail), send_op(), docs, MemoryContext(execution_id="E"))[0]
    other = run(starttls(devmail), send_op(), docs, MemoryContext(execution_id="F"))[0]
    other_shape = run(starttls(devmail), send_op(), docs, MemoryContext(execution_id="E"), shape="send2")[0]
    ids = [r.properties["mail.message_id"] for r in (one, again, other, other_shape)]
    assert ids[0] == ids[1] and len(set(ids)) == 3


def test_failed_send_is_journalled_failed(devmail_factory):
    dm = devmail_factory(reject_recipients=["*@bounce.example.com"])
    context = MemoryContext()
    doc = Document("x", {"mail.to_address": "x@bounce.example.com"})
    run(starttls(dm), send_op(), [doc], context)
    entry = context.journal().entries()[journal_key("send", send_op(), doc, 0)]
    assert entry.status == "failed" and "550 5.1.1" in entry.reply


def test_dry_run_sends_nothing_and_records_the_mime():
    context = MemoryContext(dry_run=True)
    closed_port = free_port()  # nothing listens: a connection attempt would fail the run
    connection = MailConnection(host="127.0.0.1", port=closed_port, use_tls=False)
    documents = [Document("Dear Alice", {"mail.to_address": "alice@example.com", "mail.bcc_address": "audit@example.com"}),
                 Document("no to", {})]
    sent, failed = run(connection, send_op(), documents, context)
    assert isinstance(failed, Failed) and failed.message == "To address is missing"
    [(shape, document, action, payload)] = context.dry_runs
    assert (shape, action, document) == ("send", "mail.send", documents[0])
    from email import policy
    from email.parser import BytesParser
    parsed = BytesParser(policy=policy.default).parsebytes(payload)
    assert parsed["To"] == "alice@example.com" and parsed["Subject"] == SUBJECT and "Bcc" not in parsed
    assert parsed.get_content().strip() == "Dear Alice"
    assert sent.properties["mail.message_id"] == parsed["Message-ID"]
    assert context.journal().entries() == {}


# -- sessions ----------------------------------------------------------------------------------


def test_sessions_are_pooled_and_bounded_across_threads(devmail):
    connection = starttls(devmail, max_sessions=2)
    context = MemoryContext()
    session = connector.open(connection, send_op(), context)
    errors: list[BaseException] = []

    def worker(start: int) -> None:
        try:
            docs = [Document(f"m{start + i}", {"mail.to_address": f"p{start + i}@example.com"}) for i in range(5)]
            results = list(session.execute(docs, "send"))
            assert not any(isinstance(r, Failed) for r in results)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n * 5,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    session.close()
    assert not errors
    stored = devmail.store.wait_for(20)
    assert sorted(m.rcpt_tos[0] for m in stored) == sorted(f"p{n}@example.com" for n in range(20))
    assert len({m.peer for m in stored}) <= 2  # never more than max_sessions connections
    expected = [Document(f"m{n}", {"mail.to_address": f"p{n}@example.com"}) for n in range(20)]
    assert sorted(context.journal().entries()) == sorted(journal_key("send", send_op(), d, 0) for d in expected)


def test_two_sessions_on_one_connection_share_a_pool(devmail):
    connection = starttls(devmail)
    one = connector.open(connection, send_op(), MemoryContext())
    two = connector.open(connection, send_op(subject="Other"), MemoryContext())
    try:
        list(one.execute([Document("1", {"mail.to_address": "a@example.com"})], "s1"))
        list(two.execute([Document("2", {"mail.to_address": "b@example.com"})], "s2"))
        assert one._pool is two._pool
    finally:
        one.close()
        two.close()
    stored = devmail.store.wait_for(2)
    assert len({m.peer for m in stored}) == 1


def test_rate_limit_spaces_messages(devmail):
    import time

    documents = [Document(str(n), {"mail.to_address": f"p{n}@example.com"}) for n in range(4)]
    started = time.monotonic()
    run(starttls(devmail, max_messages_per_minute=600), send_op(), documents)  # one per 0.1 s
    assert time.monotonic() - started >= 0.29
    assert len(devmail.store.wait_for(4)) == 4


@pytest.mark.parametrize("mode", ["gmail", "starttls"])
def test_connection_test_reports_what_the_server_offers(devmail_factory, mode):
    dm = devmail_factory(auth_required=True)
    connection = gmail_like(dm) if mode == "gmail" else starttls(
        dm, user_password_auth=True, user_name=DEVMAIL_USER, password=DEVMAIL_PASSWORD)
    report = connector.test(connection)
    facts = dict(report.facts)
    assert report.ok and f"logged in as {DEVMAIL_USER}" in report.message
    assert re.match(r"TLSv1\.[23] \((implicit|STARTTLS)\)", facts["TLS"])
    assert facts["TLS"].endswith("(implicit)" if mode == "gmail" else "(STARTTLS)")
    assert facts["cipher"] not in ("", "-")
    assert "PLAIN" in facts["AUTH mechanisms"] and facts["SMTPUTF8"] == "yes"
    assert facts["login"].startswith(f"ok as {DEVMAIL_USER}")
    assert facts["SIZE"] == "10485760 bytes"
    assert DEVMAIL_PASSWORD not in repr(report)


def test_identical_letters_are_each_sent_once_and_recognised_on_resume(devmail):
    """Two identical letters to one person in one list are both sent (the journal counts
    identical emails); a resume of the same execution sends neither again, even with a
    new patient now before them in the source."""
    twin = {"mail.to_address": "twin@example.com"}
    context = MemoryContext(execution_id="exec-twins")
    first = run(starttls(devmail), send_op(), [Document("same", twin), Document("same", twin)], context)
    assert not any(isinstance(r, Failed) for r in first)
    assert len(devmail.store.wait_for(2)) == 2
    ids = [r.properties["mail.message_id"] for r in first]
    assert ids[0] != ids[1]
    again = run(starttls(devmail), send_op(),
                [Document("new", {"mail.to_address": "new@example.com"}), Document("same", twin), Document("same", twin)],
                context)
    stored = devmail.store.wait_for(3)
    assert [m.rcpt_tos for m in stored[2:]] == [("new@example.com",)]
    assert [r.properties["mail.message_id"] for r in again[1:]] == ids
