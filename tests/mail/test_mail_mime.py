"""mime.py: address lists, content types, encodings, naming, and equivalence with a naive build."""

from __future__ import annotations

import re
from datetime import datetime
from email import policy
from email.parser import BytesParser

import pytest

from postroom.connectors.mail.mime import (
    AddressError,
    BodyError,
    Letter,
    MailAddress,
    MessageTemplate,
    clean_file_name,
    default_file_name,
    encode_text_body,
    message_id_for,
    parse_addresses,
    parse_content_type,
)
from support.mimekit import clinic_letters, naive_build

PLAIN = parse_content_type("text/plain")


def parsed(raw: bytes):
    return BytesParser(policy=policy.default).parsebytes(raw)


@pytest.mark.fast
def test_address_lists_split_on_both_separators_but_not_inside_quotes():
    addresses = parse_addresses(
        'alice@example.com; "Smith, Jr." <m@example.org>, Bob <BOB@Example.ORG>;;  , "a;b\\"c" <c@example.net>'
    )
    assert [(a.display_name, a.addr) for a in addresses] == [
        ("", "alice@example.com"), ("Smith, Jr.", "m@example.org"), ("Bob", "BOB@example.org"),
        ('a;b"c', "c@example.net")]
    assert parse_addresses("") == [] and parse_addresses(None) == [] and parse_addresses(" ;, ") == []


@pytest.mark.fast
def test_international_addresses():
    [idn, utf8] = parse_addresses("x@münchen.example.com, José <josé@example.com>")
    assert (idn.addr, idn.smtputf8) == ("x@xn--mnchen-3ya.example.com", False)
    assert (utf8.display_name, utf8.addr, utf8.smtputf8) == ("José", "josé@example.com", True)


@pytest.mark.parametrize(
    ("text", "says"),
    [("alice", "must have an @-sign"), ("a@b@example.com", "not a valid address"),
     ("Alice <>", "no address between"), ('"Alice <a@example.com>', "quote that is not closed"),
     ("a@example.com\r\nBcc: evil@example.com", "not a valid address"),
     ("Alice a@example.com>", "'>' without a '<'"), ("x" * 500 + " <a@example.com>", "display name")],
)
@pytest.mark.fast
def test_bad_address_lists_say_why(text, says):
    with pytest.raises(AddressError, match=re.escape(says)):
        parse_addresses(text)


@pytest.mark.fast
def test_line_breaks_in_display_names_become_spaces():
    [address] = parse_addresses('"Eve Mallory\r\nBcc: x@example.com" <eve@example.com>')
    assert address.display_name == "Eve Mallory Bcc: x@example.com"


@pytest.mark.fast
def test_content_type_parts():
    assert parse_content_type("application/binary").mime_type == "application/octet-stream"
    assert parse_content_type("text/plain; charset=latin-1").charset == "iso-8859-1"
    assert parse_content_type("TEXT/CSV").extension == ".csv"
    assert parse_content_type("application/edifact").extension == ".edi"
    assert parse_content_type("application/x-unknown-thing").extension == ".dat"


@pytest.mark.parametrize(
    ("text", "cte"),
    [("Hello\nworld\n", "7bit"), ("Grüße aus Köln, wie geht es Ihnen heute? Alles gut.\n", "quoted-printable"),
     ("Ελληνικά κείμενα εδώ\n", "base64"), ("x" * 1200, "quoted-printable"), ("nul\x00byte", "quoted-printable")],
)
@pytest.mark.fast
def test_transfer_encoding_choice(text, cte):
    chosen, body = encode_text_body(text)
    assert chosen == cte
    assert all(len(line) <= 998 for line in body.split(b"\r\n"))
    assert b"\n" not in body.replace(b"\r\n", b"")


@pytest.mark.fast
def test_bare_cr_and_lf_become_crlf_in_text_bodies():
    assert encode_text_body("a\nb\rc\r\nd") == ("7bit", b"a\r\nb\r\nc\r\nd")


@pytest.mark.fast
def test_inline_binary_is_base64_exact():
    template = MessageTemplate(disposition="inline", attachment_type=parse_content_type("application/octet-stream"),
                               body_type=PLAIN)
    data = bytes(range(256)) * 10
    letter = Letter(sender=MailAddress("", "a@example.com"), to=[MailAddress("", "b@example.com")], cc=[],
                    reply_to=[], subject="s", message_id="<1@example.com>", data=data)
    message = parsed(template.build(letter))
    assert message["Content-Type"] == "application/octet-stream"
    assert message["Content-Transfer-Encoding"] == "base64"
    assert message.get_payload(decode=True) == data


@pytest.mark.fast
def test_invalid_utf8_inline_text_is_a_body_error():
    template = MessageTemplate(disposition="inline", attachment_type=PLAIN, body_type=PLAIN)
    letter = Letter(sender=MailAddress("", "a@example.com"), to=[MailAddress("", "b@example.com")], cc=[],
                    reply_to=[], subject="s", message_id="<1@example.com>", data=b"\xff\xfe")
    with pytest.raises(BodyError, match="not valid utf-8 text"):
        template.build(letter)


@pytest.mark.fast
def test_file_names_are_cleaned():
    assert clean_file_name("../../etc/passwd") == "passwd"
    assert clean_file_name("C:\\Users\\x\\report.pdf") == "report.pdf"
    assert clean_file_name("a\r\nContent-Type: text/html.txt") == "a Content-Type: text/html.txt".rsplit("/", 1)[-1]
    assert clean_file_name('"quoted".txt') == "'quoted'.txt"
    assert clean_file_name("..") == ""


@pytest.mark.fast
def test_default_file_name():
    when = datetime(2026, 11, 23, 10, 15, 0)
    assert default_file_name(PLAIN, 3, when) == "20261123-101500-3.txt"
    assert default_file_name(parse_content_type("application/binary"), 0, when) == "20261123-101500-0.bin"


@pytest.mark.fast
def test_message_ids():
    first = message_id_for("exec-1", "send/0", "example.com")
    assert re.fullmatch(r"<[0-9a-f]{32}@example\.com>", first)
    assert first == message_id_for("exec-1", "send/0", "example.com")
    assert first != message_id_for("exec-1", "send/1", "example.com")
    assert first != message_id_for("exec-2", "send/0", "example.com")
    assert message_id_for("e", "k", None).endswith("@postroom.local>")
    assert message_id_for("e", "k", "bad domain>").endswith("@postroom.local>")


# -- the template against the naive build ------------------------------------------------------


def _letters() -> list[tuple[str, str, str, Letter]]:
    sender = parse_addresses('"Dr. Smith\'s Clinic" <clinic@example.com>')[0]
    base = dict(sender=sender, cc=[], reply_to=[], message_id="<abc@example.com>")
    return [
        ("inline", "text/plain", "text/plain", Letter(to=parse_addresses("a@example.com"), subject="Hello",
                                                      data=b"Dear A,\nhello\n", **base)),
        ("inline", "text/html", "text/plain", Letter(
            to=parse_addresses('"Smith, Jr." <m@example.org>; Zoë Ünïcode <z@example.org>'),
            subject="Grüße " * 20, data="<p>Grüße</p>\n".encode(),
            **{**base, "cc": parse_addresses("Carol <c@example.net>"),
               "reply_to": parse_addresses("desk@example.com")})),
        ("inline", "text/plain", "text/plain", Letter(to=parse_addresses("José <josé@example.com>"), subject="日本語",
                                                      data="日本語のテキスト\n".encode(), **base)),
        ("attachment", "application/pdf", "text/html", Letter(
            to=parse_addresses("a@example.com"), subject="Report", data=b"%PDF\x00\xff", body="<b>See</b>",
            file_name="Résumé 2026 (final).pdf", **base)),
        ("attachment", "text/csv", "text/plain", Letter(
            to=parse_addresses("a@example.com"), subject="List", data=b"a,b\n1,2\n", body="Attached.",
            file_name="list.csv", **base)),
    ]


def _summary(raw: bytes, utf8: bool) -> dict:
    if utf8:
        from email import message_from_string

        message = message_from_string(raw.decode("utf-8"), policy=policy.default)
    else:
        message = parsed(raw)
    summary = {name: str(message[name]) for name in ("From", "To", "Cc", "Reply-To", "Subject", "Message-ID")
               if name in message}
    summary["addresses"] = [(a.display_name, a.addr_spec) for a in message["To"].addresses]
    body = parsed(raw)  # bodies from bytes: an 8bit body read as text comes back escaped
    summary["parts"] = [_part(part) for part in (body.iter_parts() if body.is_multipart() else [body])]
    return summary


def _part(part) -> tuple:
    if part.is_multipart():  # an HTML body with its text twin (multipart/alternative)
        return part.get_content_type(), [_part(inner) for inner in part.iter_parts()]
    if part.get_filename():
        # Attached files: the bytes must match exactly. The template also names the charset
        # of a text file that really is UTF-8, which add_attachment(bytes) leaves out.
        return part.get_content_type(), part.get_filename(), part.get_payload(decode=True)
    # Text: the email package always ends it with a line break; the template sends it as given.
    text = part.get_content().replace("\r\n", "\n").removesuffix("\n")
    return part.get_content_type(), part.get_content_charset(), text


@pytest.mark.fast
@pytest.mark.parametrize("case", range(5))
def test_template_equals_the_naive_build(case):
    disposition, attachment_type, body_type, letter = _letters()[case]
    types = dict(disposition=disposition, attachment_type=parse_content_type(attachment_type),
                 body_type=parse_content_type(body_type))
    fast = MessageTemplate(**types).build(letter)
    naive = naive_build(letter, **types)
    assert _summary(fast, letter.smtputf8) == _summary(naive, letter.smtputf8)
    if letter.smtputf8:
        assert "<josé@example.com>" in fast.decode("utf-8")  # the address itself is UTF-8 (RFC 6532)
    else:
        assert fast.isascii()


@pytest.mark.fast
def test_repeated_headers_come_from_the_cache():
    template = MessageTemplate(disposition="inline", attachment_type=PLAIN, body_type=PLAIN)
    [one, two] = clinic_letters(2)
    template.build(one)
    cached = dict(template._cache._lines)
    template.build(two)
    assert ("From", (one.sender,)) in cached and ("Subject", one.subject) in cached
    assert template._cache._lines[("From", (one.sender,))] is cached[("From", (one.sender,))]

