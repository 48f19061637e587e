"""Hostile address lists through the mail send (issue 7, hostile-input suite).

Generated To and Cc lists (display names with quotes, commas, semicolons, backslashes,
angle brackets, non-ASCII, CR/LF and other line breaks; IDN and non-ASCII addresses; empty
items and stray separators) go through a Send in dry-run mode (the message is built, not
sent). For every list: no exception escapes; the document either fails with a message
naming the property or field (``document property mail.to_address``, ``To address is
missing``...) or its message parses back to exactly the addresses the send accepted, with
no header but the expected ones. Bounded: a few hundred examples, each under a second.
"""

from __future__ import annotations

import re
from email import message_from_string, policy
from email.header import decode_header, make_header
from email.parser import BytesParser

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from postroom.connectors.mail import MailConnection, MailOperation, connector
from postroom.connectors.mail.mime import AddressError, parse_addresses
from postroom.sdk import Document, Failed
from postroom.sdk.testing import MemoryContext

_tricky = st.sampled_from(['"', "\\", ",", ";", "<", ">", "(", ")", ":", "@", "\r\n", "\n", "\r", "\t", " ",
                           "\u2028", "\x85", "\x00", "=?utf-8?q?x?=", "é", "Ω", "日本", "😀", "O'Brien",
                           "Bcc: x@example.com", "\u202e"])
_chars = st.characters(blacklist_categories=("Cs",), max_codepoint=0x1FFFF)
_name = st.lists(st.one_of(_tricky, st.text(_chars, max_size=8)), max_size=8).map("".join)
_local = st.lists(st.sampled_from(["a", "zoe", "j.smith", "o'brien", "josé", "ø", "user+tag", "x_y", "1"]),
                  min_size=1, max_size=2).map(".".join)
_domain = st.sampled_from(["example.com", "Example.ORG", "münchen.example.com", "xn--mnchen-3ya.example.com",
                           "例え.example.jp", "sub.example.co.uk", "example", "-bad-.example.com", "[127.0.0.1]"])
_addr = st.builds(lambda local, domain: f"{local}@{domain}", _local, _domain)


def _quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


_item = st.one_of(
    _addr,
    st.builds(lambda n, a: f"{_quoted(n)} <{a}>", _name, _addr),
    st.builds(lambda n, a: f"{n} <{a}>", _name, _addr),  # unquoted name: anything may happen
    _name,  # garbage alone
    st.just(""),
)
_listing = st.builds(lambda items, seps: "".join(i + s for i, s in zip(items, seps, strict=False)),
                     st.lists(_item, max_size=5), st.lists(st.sampled_from([",", ";", " , ", ";;", ",\r\n", ""]),
                                                           min_size=5, max_size=5))

SETTINGS = settings(max_examples=250, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
CONNECTION = MailConnection(host="127.0.0.1", port=9, use_tls=False)  # dry run: never connected
OPERATION = MailOperation.model_validate({"action": "send", "from": "Clinic <clinic@example.com>", "to": "",
                                          "subject": "Hello"})
EXPECTED_HEADERS = {"From", "To", "Cc", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
                    "Content-Transfer-Encoding"}


def _send(to: str, cc: str) -> tuple[Document | Failed, bytes | None]:
    context = MemoryContext(execution_id="hostile", dry_run=True)
    document = Document("Dear patient\n")
    document.set_property("mail.to_address", to)
    document.set_property("mail.cc_address", cc)
    session = connector.open(CONNECTION, OPERATION, context)
    try:
        [result] = list(session.execute([document], "send"))
    finally:
        session.close()
    payload = context.dry_runs[0][3] if context.dry_runs else None
    return result, payload


def _accepted(text: str) -> list | None:
    try:
        return parse_addresses(text)
    except AddressError:
        return None


def _header_names(raw: bytes) -> tuple[list[str], dict[str, bytes]]:
    head = raw.split(b"\r\n\r\n", 1)[0]
    fields = re.findall(rb"^([!-9;-~]+):([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)", head, re.M)
    for line in head.split(b"\r\n"):
        assert line[:1] in (b" ", b"\t") or re.match(rb"[!-9;-~]+:", line), line  # nothing injected
    return [n.decode() for n, _ in fields], {n.decode(): v for n, v in fields}


def _names_match(parsed: str, wanted: str, raw_value: bytes) -> bool:
    if re.search(rb"\?=(\r\n)?[ \t]+=\?", raw_value):  # split encoded words: Python adds a blank
        return "".join(parsed.split()) == "".join(wanted.split())
    return parsed == wanted


@SETTINGS
@given(to=_listing, cc=_listing)
def test_hostile_address_lists_fail_clearly_or_round_trip(to, cc):
    result, payload = _send(to, cc)  # never raises
    to_ok, cc_ok = _accepted(to), _accepted(cc)
    if isinstance(result, Failed):
        message = result.message
        if to_ok is None:
            assert message.startswith("the To address is not valid (document property mail.to_address): "), message
        elif not to_ok:
            assert message == "To address is missing"
        else:
            assert cc_ok is None, message
            assert message.startswith("the Cc address is not valid (document property mail.cc_address): "), message
        return
    assert to_ok and cc_ok is not None and payload is not None
    utf8 = any(a.smtputf8 for a in (*to_ok, *cc_ok))
    message = (message_from_string(payload.decode("utf-8"), policy=policy.default) if utf8
               else BytesParser(policy=policy.default).parsebytes(payload))
    names, raw = _header_names(payload)
    assert set(names) <= EXPECTED_HEADERS and len(names) == len(set(names))
    for header, wanted in (("To", to_ok), ("Cc", cc_ok)):
        if not wanted:
            assert header not in names
            continue
        back = message[header].addresses
        assert [a.addr_spec.lower() for a in back] == [w.addr.lower() for w in wanted]
        for got, want in zip(back, wanted, strict=True):
            assert _names_match(got.display_name, want.display_name, raw[header]), (got.display_name, want)


@SETTINGS
@given(name=_name.filter(lambda n: n.strip()), address=_addr)
def test_display_names_decode_exactly_by_rfc_2047(name, address):
    """A quoted display name that is accepted reads back by RFC 2047 rules exactly (its
    control characters made blanks, blanks collapsed); every encoded word is within 75."""
    wanted = _accepted(f"{_quoted(name)} <{address}>")
    result, payload = _send(f"{_quoted(name)} <{address}>", "")
    if wanted is None:
        assert isinstance(result, Failed) and "mail.to_address" in result.message
        return
    assert not isinstance(result, Failed), result
    _, raw = _header_names(payload)
    value = raw["To"].replace(b"\r\n", b"").strip()
    words = re.findall(rb"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=", value)
    assert all(len(word) <= 75 for word in words)
    if wanted[0].display_name and words and value.startswith(b"=?"):
        phrase = value.rsplit(b"<", 1)[0].strip().decode("utf-8")
        assert str(make_header(decode_header(phrase))) == wanted[0].display_name
