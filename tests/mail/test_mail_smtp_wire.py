"""SMTP wire functions against smtplib, without a socket: the bytes written for a transaction
and a message, and the replies read, are exactly smtplib's (issue 8 item 1)."""

from __future__ import annotations

import io
import smtplib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postroom.connectors.mail._smtp.dsn import DsnRequest
from postroom.connectors.mail._smtp.wire import commands, dot_stuffed, getreply, quoteaddr


class _Recorder(smtplib.SMTP):
    """smtplib's client with the socket replaced: records writes, answers from a script."""

    def __init__(self, replies: list[tuple[int, bytes]]) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.replies = list(replies)
        self.does_esmtp = True

    def send(self, s):  # noqa: ANN001, ANN201 - smtplib's signature
        self.written.append(s if isinstance(s, bytes) else s.encode("ascii"))

    def getreply(self):  # noqa: ANN201
        return self.replies.pop(0)


ADDRESSES = st.one_of(
    st.from_regex(r"[a-z0-9._+-]{1,12}@[a-z0-9-]{1,10}\.[a-z]{2,4}", fullmatch=True),
    st.sampled_from(["Ann <ann@example.com>", "\"a b\"@example.com", "<bob@example.com>", "x"]),
)


@settings(max_examples=150, deadline=None)
@given(sender=ADDRESSES, recipients=st.lists(ADDRESSES, min_size=1, max_size=4),
       options=st.sampled_from([[], ["SIZE=1234"], ["SMTPUTF8", "BODY=8BITMIME", "SIZE=9"]]))
def test_the_command_group_is_what_smtplib_writes_one_by_one(sender, recipients, options):
    client = _Recorder([(250, b"ok")] * (len(recipients) + 1) + [(354, b"go")])
    client.esmtp_features = {"size": "", "smtputf8": "", "8bitmime": ""}
    client.mail(sender, options)
    for rcpt in recipients:
        client.rcpt(rcpt)
    client.putcmd("data")
    assert commands(sender, recipients, options, smtputf8="SMTPUTF8" in options) == b"".join(client.written)


@settings(max_examples=100, deadline=None)
@given(sender=ADDRESSES, recipients=st.lists(ADDRESSES, min_size=1, max_size=4),
       notify=st.sampled_from([("failure",), ("failure", "delay"), ("never",), ("success", "failure", "delay")]),
       ret=st.sampled_from(["", "hdrs", "full"]))
def test_dsn_parameters_are_written_as_smtplib_writes_them(sender, recipients, notify, ret):
    """RFC 3461: RET and ENVID after MAIL FROM, NOTIFY and ORCPT after each RCPT TO."""
    request = DsnRequest(notify, ret, "<4f2a+b=c@clinic.example>")
    client = _Recorder([(250, b"ok")] * (len(recipients) + 1) + [(354, b"go")])
    client.esmtp_features = {"dsn": ""}
    client.mail(sender, request.mail_options())
    for rcpt in recipients:
        client.rcpt(rcpt, request.rcpt_options(rcpt))
    client.putcmd("data")
    wire = commands(sender, recipients, request.mail_options(), False, request.rcpt_options)
    assert wire == b"".join(client.written)
    assert b"ENVID=<4f2a+2Bb+3Dc@clinic.example>" in wire  # xtext: + and = escaped


@settings(max_examples=200, deadline=None)
@given(message=st.lists(st.sampled_from([b".", b"..", b"a", b".a", b"\r\n", b"\n", b"\r", b"x.y", b" ."]),
                        max_size=30).map(b"".join))
def test_dot_stuffing_matches_smtplib_data(message):
    client = _Recorder([(354, b"go"), (250, b"queued")])
    client.data(message)
    sent_by_smtplib = b"".join(client.written[1:])  # after the DATA command
    assert b"".join(dot_stuffed(message)) == sent_by_smtplib


def test_a_big_message_goes_in_two_writes_and_the_next_group_follows_the_dot():
    big = b"x" * 70000 + b"\r\n.line\r\n"
    writes = dot_stuffed(big, b"mail FROM:<a@example.com>\r\n")
    assert len(writes) == 2 and writes[0].endswith(b"\r\n..line\r\n")
    assert writes[1] == b".\r\nmail FROM:<a@example.com>\r\n"
    assert dot_stuffed(b"hi", b"") == [b"hi\r\n.\r\n"]


@settings(max_examples=300, deadline=None)
@given(address=ADDRESSES)
def test_addresses_are_quoted_as_smtplib_quotes_them(address):
    assert quoteaddr(address) == smtplib.quoteaddr(address)


@pytest.mark.parametrize("wire", [
    b"250 2.1.0 Ok\r\n", b"250-first\r\n250-second\r\n250 last\r\n", b"354 \r\n", b"xyz garbage\r\n",
    b"421 4.3.2 Shutting down\r\n", b"250 " + b"x" * 9000 + b"\r\n", b"250-cut", b"",
])
def test_replies_are_read_as_smtplib_reads_them(wire):
    def outcome(read):
        client = smtplib.SMTP()
        client.file = io.BytesIO(wire)
        try:
            return read(client)
        except smtplib.SMTPException as exc:
            return type(exc), str(exc)

    assert outcome(getreply) == outcome(smtplib.SMTP.getreply)
