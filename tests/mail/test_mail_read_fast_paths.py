"""The read path's shortcuts give exactly what the stdlib gives (issue 13, read speed).

The get operation reads headers, addresses, dates and MIME parameters with shortcuts for
the common forms and the stdlib for the rest. Each shortcut is checked here against the
stdlib on drawn input biased towards what breaks headers (folding, bare CR/LF, 8-bit
bytes, "From " lines, encoded words), and a whole message's ``mail.*`` properties against
the reading as it was before the shortcuts (``Message.get``, ``getaddresses``,
``parsedate_to_datetime``, ``BytesHeaderParser``), on every sample message of the tests.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from email import policy
from email.errors import MessageError
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser
from email.utils import getaddresses, parsedate_to_datetime
from io import BytesIO

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postroom.connectors.mail._header_fields import utf8_words
from postroom.connectors.mail._imap_fetch import internal_date
from postroom.connectors.mail._message import address_pairs, message_date, message_properties
from postroom.connectors.mail._parse import header_text, parse_headers, parse_message

pytestmark = pytest.mark.fast

_STDLIB = BytesHeaderParser(policy=policy.compat32)

_pieces = st.sampled_from([
    b"Subject: ", b"From: ", b"To: ", b"X-Odd:", b"Received: from a by b; ", b"From x@y Mon", b": no name",
    b"no colon here", b"\r\n", b"\n", b"\r", b"\r\n ", b"\r\n\t", b" ", b"\t", b"\xc3\xa9", b"\xff", b"=?utf-8?q?=C3=A9?=",
    b"Patient 7 <p7@example.org>", b",", b"\"", b"(", b")", b"<", b">", b";", b"Content-Type: text/plain; charset=",
])
header_blocks = st.lists(st.one_of(_pieces, st.binary(max_size=6)), max_size=25).map(b"".join)


@given(header_blocks)
@settings(max_examples=400, deadline=None)
def test_header_blocks_read_as_the_stdlib_reads_them(block: bytes) -> None:
    block += b"\r\n\r\n"
    ours, theirs = parse_headers(block), _STDLIB.parsebytes(block)
    assert list(ours.raw_items()) == list(theirs.raw_items())
    assert [(k, str(v)) for k, v in ours.items()] == [(k, str(v)) for k, v in theirs.items()]
    assert ours.get_content_type() == theirs.get_content_type()


def test_a_plain_block_keeps_its_folding_and_spelling() -> None:
    block = b"Subject: one\r\n two\r\n\tthree\r\nX-Empty:\r\nx-empty:  b \r\nFrom: A <a@b.c>\r\n\r\nbody: no\r\n"
    assert list(parse_headers(block).raw_items()) == list(_STDLIB.parsebytes(block).raw_items()) == [
        ("Subject", "one\r\n two\r\n\tthree"), ("X-Empty", ""), ("x-empty", "b "), ("From", "A <a@b.c>")]


_word = st.text(st.sampled_from("abcXYZ019"), min_size=1, max_size=5)
_atom = st.text(st.sampled_from("ab09_+-"), min_size=1, max_size=4)
_plain = st.builds(lambda words, local, domain, bare, pad: (pad + (f"{local}@{domain}" if bare else
                                                                  f"{' '.join(words)} <{local}@{domain}>") + pad),
                   st.lists(_word, min_size=1, max_size=3), st.lists(_atom, min_size=1, max_size=3).map(".".join),
                   st.lists(_atom, min_size=1, max_size=3).map(".".join), st.booleans(), st.sampled_from(["", " ", "\t"]))
_odd = st.lists(st.one_of(_word, st.sampled_from(['"', ",", "<", ">", "@", ".", "..", " ", "(", ")", "=?utf-8?q?x?=",
                                                  "é", ":", ";", "\r\n "])), max_size=12).map("".join)


def _stdlib_pairs(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(header_text(n), header_text(a)) for n, a in getaddresses(list(values)) if a and a != "<>"]


@given(st.lists(st.one_of(_plain, _odd), min_size=1, max_size=3).map(tuple))
@settings(max_examples=400, deadline=None)
def test_addresses_read_as_getaddresses_reads_them(values: tuple[str, ...]) -> None:
    assert address_pairs(values) == _stdlib_pairs(values)
    assert address_pairs(values) == _stdlib_pairs(values)  # the remembered answer is the same


_dates = st.builds(lambda dow, d, m, y, h, mi, s, sign, zh, zm: f"{dow}{d} {m} {y} {h:02d}:{mi:02d}:{s:02d} {sign}{zh}{zm}",
                   st.sampled_from(["", "Tue, ", "Sun, "]), st.integers(0, 40),
                   st.sampled_from(["Jan", "Feb", "Nov", "Dec", "Foo"]), st.sampled_from(["2026", "1999", "0050", "0000"]),
                   st.integers(0, 25), st.integers(0, 61), st.integers(0, 61), st.sampled_from("+-"),
                   st.sampled_from(["00", "01", "05", "23", "24", "99"]), st.sampled_from(["00", "30", "59", "99"]))


def _stdlib_date(text: str) -> datetime | None:
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


@given(st.one_of(_dates, st.text(max_size=40)))
@settings(max_examples=400, deadline=None)
def test_dates_read_as_parsedate_to_datetime_reads_them(text: str) -> None:
    ours, theirs = message_date(text), _stdlib_date(text)
    assert ours == theirs
    if ours is not None and theirs is not None:
        assert ours.isoformat() == theirs.isoformat()
        assert (ours.tzinfo is None) == (theirs.tzinfo is None)


def _before(headers: Message, received: datetime | None, extra: dict[str, str]) -> dict[str, str]:
    """The properties as the get computed them before the shortcuts: Message.get per field."""
    def pairs(name: str) -> list[tuple[str, str]]:
        values = [v if isinstance(v, str) else header_text(v) for v in headers.get_all(name) or []]
        return _stdlib_pairs(tuple(values))

    if received is None:
        candidates = []
        if headers.get_all("Received"):
            candidates.append(header_text(headers.get_all("Received")[0]).rpartition(";")[2])
        if headers.get("Date") is not None:
            candidates.append(header_text(headers.get("Date")))
        for text in candidates:
            moment = _stdlib_date(" ".join(text.split()))
            if moment is not None:
                received = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
                break
    senders = pairs("From")
    properties = {
        "mail.from_address": ", ".join(a for _, a in senders), "mail.from_name": senders[0][0] if senders else "",
        "mail.to_address": ", ".join(a for _, a in pairs("To")), "mail.cc_address": ", ".join(a for _, a in pairs("Cc")),
        "mail.reply_to_address": ", ".join(a for _, a in pairs("Reply-To")),
        "mail.subject": header_text(headers.get("Subject")), "mail.message_id": header_text(headers.get("Message-ID")),
        "mail.received_date": received.isoformat() if received else "(now)",
    }
    groups: dict[str, tuple[str, list[str]]] = {}
    for name, value in headers.items():
        groups.setdefault(name.lower(), (name, []))[1].append(header_text(value))
    properties.update({f"mail.headers.{name}": ", ".join(values) for name, values in groups.values()})
    properties.update(extra)
    return properties


SAMPLES = [
    b"From: Patient 1 <patient1@example.org>\r\nTo: clinic@example.com\r\nSubject: =?UTF-8?Q?R=C3=A9ponse_1?= - records\r\n"
    b"Date: Tue, 24 Nov 2026 10:00:00 +0000\r\nMessage-ID: <bench-1@example.org>\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\nDear clinic\r\n",
    b"Received: from x by y; Wed, 25 Nov 2026 08:01:02 -0500\r\nReceived: from z; Mon, 1 Jan 2001 00:00:00 +0000\r\n"
    b"From: \"Weber, Anna\" <anna@example.org>, bob@example.org\r\nFrom: second@example.org\r\nto: A <a@b.c>\r\n"
    b"To: =?utf-8?b?w6k=?= <e@b.c>\r\nCc: undisclosed-recipients:;\r\nReply-To: <>\r\nSubject: folded\r\n  twice\r\n"
    b"X-Latin: caf\xe9\r\nX-Utf8: caf\xc3\xa9\r\nDate: 24 Nov 2026 10:00:00 -0000\r\n\r\nbody\r\n",
    b"From: nobody\r\nDate: not a date\r\nMessage-ID:\r\n\r\n",
    b"Date: Tue, 24 Nov 2026 10:00:00 -0000\r\nFrom: A B <a.b@c.d>\r\n\r\nx\r\n",
    b"From x@y Mon Jan  1 00:00:00 2001\r\nFrom: a@b.c\r\nSubject: unix from\r\n\r\nx\r\n",
    b"From: a@b.c\nSubject: LF only\nDate: Tue, 24 Nov 2026 10:00:00 +0100\n\nx\n",
]


@pytest.mark.parametrize("raw", SAMPLES, ids=range(len(SAMPLES)))
@pytest.mark.parametrize("received", [None, datetime(2026, 11, 24, 9, 0, tzinfo=UTC)], ids=["headers", "internal"])
def test_a_message_gets_the_properties_it_got_before(raw: bytes, received: datetime | None) -> None:
    parsed = parse_message(BytesIO(raw))
    try:
        extra = {"mail.uid": "7", "mail.folder": "INBOX"}
        ours = message_properties(parsed.headers, received, extra, BytesIO(raw))
        theirs = _before(_STDLIB.parsebytes(raw.split(b"\r\n\r\n")[0].split(b"\n\n")[0] + b"\r\n\r\n"), received, extra)
        if theirs["mail.received_date"] == "(now)":
            theirs["mail.received_date"] = ours["mail.received_date"]  # neither header has a date: "now"
        if not theirs["mail.message_id"]:
            assert ours["mail.message_id"].endswith("@postroom.invalid>")
            theirs["mail.message_id"] = ours["mail.message_id"]
        # the inbound message's key for sends and writes once per message: its Message-ID
        theirs["mail.inbound_message_id"] = theirs["mail.message_id"]
        assert ours == theirs
    finally:
        parsed.close()


_internal = st.builds(lambda d, m, y, h, mi, s, sign, zh, zm: f"{d}-{m}-{y} {h} :{mi}:{s} {sign}{zh}{zm}".replace(" :", ":"),
                      st.sampled_from(["1", "01", " 4", " 14", "00", "31", "32", "7"]),
                      st.sampled_from(["Nov", "nov", "Dec", "Foo"]), st.sampled_from(["2026", "0000", "0099", "1970"]),
                      st.sampled_from(["00", "09", "23", "24"]), st.sampled_from(["00", "59", "60"]),
                      st.sampled_from(["00", "59", "60", "61"]), st.sampled_from("+-"),
                      st.sampled_from(["00", "05", "23", "24", "99"]), st.sampled_from(["00", "30", "59", "60", "99"]))


def _strptime_date(value: bytes) -> datetime | None:
    try:
        return datetime.strptime(value.decode("ascii"), "%d-%b-%Y %H:%M:%S %z")
    except ValueError:
        return _stdlib_date(value.decode("ascii", "replace"))


@given(st.one_of(_internal, st.text(max_size=30)))
@settings(max_examples=400, deadline=None)
def test_imap_internal_dates_read_as_strptime_reads_them(text: str) -> None:
    value = text.encode("utf-8")
    ours, theirs = internal_date(value), _strptime_date(value)
    assert ours == theirs
    if ours is not None and theirs is not None:
        assert ours.isoformat() == theirs.isoformat()


_encoded_word = st.builds(lambda charset, kind, text: f"=?{charset}?{kind}?{_encode(kind, text)}?=",
                          st.sampled_from(["UTF-8", "utf-8", "iso-8859-1", "utf8"]), st.sampled_from("QqBb"),
                          st.text(st.sampled_from("aé _=?()\\ x日😀\t"), max_size=6))


def _encode(kind: str, text: str) -> str:
    data = text.encode("utf-8")
    if kind in "Bb":
        return base64.b64encode(data).decode().rstrip("=")[: len(data) * 2]  # padding sometimes cut
    return "".join(chr(b) if chr(b).isalnum() and b < 128 else "_" if b == 32 else f"={b:02X}" for b in data)


_subject_part = st.one_of(_encoded_word, st.sampled_from([" ", "  ", "\t", "(", ")", "\\", "x", "Re:", "-", "é",
                                                          "=?", "?=", "=?utf-8?q?", "=?utf-8?b?w6k?=", "\r\n "]))


def _stdlib_words(text: str) -> str | None:
    try:
        return str(make_header(decode_header(text)))
    except (ValueError, LookupError, UnicodeError, binascii.Error, MessageError):
        return None


@given(st.lists(_subject_part, max_size=8).map("".join))
@settings(max_examples=600, deadline=None)
def test_encoded_words_read_as_the_stdlib_reads_them(text: str) -> None:
    ours = utf8_words(text)
    if ours is not None:
        assert ours == _stdlib_words(text)


def test_a_utf8_subject_is_read_directly() -> None:
    subject = "=?UTF-8?Q?R=C3=A9ponse_1?= - please =?utf-8?b?w6k=?= =?utf-8?q?x?=(y)"
    assert utf8_words(subject) == _stdlib_words(subject) == "Réponse 1 - please éx(y)"
