"""Issue 7 items 19 and 20: custom headers (the operation's ``headers`` map and
``mail.headers.NAME`` set before a send) reach the server, once, validated and never
injected; every RFC 2047 encoded word of a sent header is at most 75 characters."""

from __future__ import annotations

import re
from email.header import decode_header, make_header

import pytest

from postroom.sdk import Document, Failed
from support.sendkit import run, send_op, starttls

ENCODED_WORD = re.compile(rb"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


def _fields(raw: bytes) -> list[tuple[str, str]]:
    """(name, unfolded raw value) of every header line of a message, in order."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("utf-8")
    return [(name, value.replace("\r\n", "").strip())
            for name, value in re.findall(r"^([!-9;-~]+):([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)", head, re.M)]


def _letter(to: str, **properties: str) -> Document:
    document = Document("Dear patient,\n", {"mail.to_address": to})
    for name, value in properties.items():
        document.set_property(name, value)
    return document


def test_custom_headers_arrive_once(devmail):
    op = send_op(headers={"X-Campaign": "retirement-2026", "X-Clinic": "Riverside"})
    doc = _letter("a@example.com", **{"mail.headers.x-campaign": "retirement-2026-wave-2",
                                      "mail.headers.X-Patient-Ref": "P0000001",
                                      "mail.headers.X-Clinic": ""})  # blank: dropped
    [result] = run(starttls(devmail), op, [doc])
    assert not isinstance(result, Failed), result
    [stored] = devmail.store.wait_for(1)
    names = [name.lower() for name, _ in _fields(stored.raw)]
    assert names.count("x-campaign") == 1 and names.count("x-patient-ref") == 1 and "x-clinic" not in names
    message = stored.parse()
    assert message["X-Campaign"] == "retirement-2026-wave-2" and message["X-Patient-Ref"] == "P0000001"


def test_a_header_value_cannot_inject_a_header(devmail):
    doc = _letter("a@example.com", **{"mail.headers.X-Note": "hello\r\nBcc: evil@example.com\r\n\r\nbody"})
    [result] = run(starttls(devmail), send_op(), [doc])
    assert not isinstance(result, Failed), result
    [stored] = devmail.store.wait_for(1)
    assert stored.rcpt_tos == ("a@example.com",)
    fields = _fields(stored.raw)
    assert [n for n, _ in fields if n.lower() == "bcc"] == []
    assert stored.parse()["X-Note"] == "hello Bcc: evil@example.com body"  # one line, as Subject is
    assert stored.parse().get_content() == "Dear patient,\r\n" or stored.parse().get_content() == "Dear patient,\n"


def test_reserved_or_malformed_header_properties_fail_their_document_alone(devmail):
    documents = [_letter("a@example.com", **{"mail.headers.Bcc": "spy@example.com"}),
                 _letter("b@example.com", **{"mail.headers.Content-Type": "text/html"}),
                 _letter("c@example.com", **{"mail.headers.X Bad": "x"}),
                 _letter("d@example.com")]
    bcc, content, bad, ok = run(starttls(devmail), send_op(), documents)
    assert isinstance(bcc, Failed) and bcc.message.startswith("document property mail.headers.Bcc: the header Bcc")
    assert isinstance(content, Failed) and "mail.headers.Content-Type" in content.message
    assert isinstance(bad, Failed) and "mail.headers.X Bad: 'X Bad' is not a header name" in bad.message
    assert not isinstance(ok, Failed)
    assert [m.rcpt_tos for m in devmail.store.wait_for(1)] == [("d@example.com",)]


def test_headers_read_by_a_get_are_not_sent_again(devmail):
    doc = Document("forwarded", {"mail.to_address": "a@example.com", "mail.headers.Received": "from x",
                                 "mail.headers.X-Spam-Score": "9.9", "mail.headers.Bcc": "b@example.com"})
    doc.mark_inbound(["mail.headers.Received", "mail.headers.X-Spam-Score", "mail.headers.Bcc"])
    [result] = run(starttls(devmail), send_op(), [doc])
    assert not isinstance(result, Failed), result
    names = [name.lower() for name, _ in _fields(devmail.store.wait_for(1)[0].raw)]
    assert "received" not in names[:8] and "x-spam-score" not in names and "bcc" not in names


def test_reserved_headers_in_the_operation_are_refused_at_import(cli, workdir):
    (workdir / "op.yaml").write_text("""\
type: operation
connector: mail
name: Send
id: send
settings: {action: send, from: clinic@example.com, headers: {X-Campaign: ok, Return-Path: "<x@example.com>"}}
""", encoding="utf-8")
    imported = cli("import", "op.yaml")
    assert imported.code == 2, imported
    said = imported.stdout + imported.stderr
    assert "op.yaml" in said and "headers" in said and "Return-Path" in said and "Traceback" not in said


# -- item 20: encoded words ----------------------------------------------------------------------

LONG_SUBJECT = "Ärztliche Mitteilung für Zoë Müller-Ångström: Ihre Befunde vom 23. November sind da " * 3
LONG_NAME = "Zoë Ævarsdóttir-Müller Ångström Núñez O’Brien 日本語の名前 " * 2
LONG_VALUE = "Überweisung an Dr. Jörg Weber, Lyon — Akte 2026/11/23 " * 4
GLUED = "Ω" * 120  # one long word with no blank to split at


def test_encoded_words_stay_within_75_characters(devmail):
    to = f'"{LONG_NAME.strip()}" <zoe@example.com>, "{GLUED}" <glued@example.com>'
    op = send_op(subject=LONG_SUBJECT.strip(), headers={"X-Referral": LONG_VALUE.strip()})
    [result] = run(starttls(devmail), op, [_letter(to, **{"mail.headers.X-Glued": GLUED})])
    assert not isinstance(result, Failed), result
    [stored] = devmail.store.wait_for(1)
    words = ENCODED_WORD.findall(stored.raw.split(b"\r\n\r\n", 1)[0])
    assert len(words) > 10
    assert max(len(word) for word in words) <= 75, max(words, key=len)
    assert all(len(line) <= 78 for line in stored.raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n"))
    fields = dict(_fields(stored.raw))
    decoded = {name: str(make_header(decode_header(fields[name]))) for name in ("Subject", "X-Referral", "X-Glued")}
    assert decoded == {"Subject": LONG_SUBJECT.strip(), "X-Referral": LONG_VALUE.strip(), "X-Glued": GLUED}
    # display names, read as RFC 2047 says (the blank between adjacent encoded words goes)
    names = [str(make_header(decode_header(part.split("<")[0].strip())))
             for part in re.split(r"(?<=>),", fields["To"])]
    assert names == [" ".join(LONG_NAME.split()), GLUED]


@pytest.mark.fast
def test_an_address_without_a_name_is_written_in_angle_brackets():
    """SpamAssassin's TO_NO_BRKTS_* rules score a To whose last address has no angle brackets."""
    from postroom.connectors.mail._addresses import MailAddress
    from postroom.connectors.mail._encoding import render_address_header

    addresses = [MailAddress("", "a@example.org", False), MailAddress("Zoë Ørsted", "zoe@example.org", False),
                 MailAddress("", "b@example.org", False)]
    line = render_address_header("To", addresses)
    assert line.startswith(b"To: <a@example.org>, ") and line.endswith(b" <b@example.org>\r\n"), line
