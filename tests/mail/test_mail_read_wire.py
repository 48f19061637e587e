"""Reading many messages off the wire (issue 13, read speed): POP3 answers read in large
chunks with RETR pipelined in batches, IMAP FETCH over a range; every message comes back
whole, byte for byte, with its own properties, over each transport of a real Dovecot."""

from __future__ import annotations

import pytest

from support.getkit import CLINIC, by_id, crlf, read

TRANSPORTS = ["pop3", "pop3s", "imap", "imaps"]

# Dots at the start of lines are stuffed on the wire (RFC 1939 3): a leading dot, a lone dot,
# a line of dots, a dot then CR LF; the body's first line is a dot line too.
DOTS = ".first line\r\n.\r\n...\r\n.\r\n\r\nmiddle . dot\r\n..\r\n.x"


def _message(n: int, body: str) -> bytes:
    return crlf(f"""From: Patient {n} <patient{n}@example.org>
To: {CLINIC}
Subject: Message {n}
Date: Tue, 24 Nov 2026 10:{n % 60:02d}:00 +0000
Message-ID: <wire-{n}@example.org>
Content-Type: text/plain; charset=utf-8

""") + body.encode() + b"\r\n"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_every_message_comes_back_whole_with_its_own_properties(mailbox, transport):
    # sizes from one line to past a chunk of the reader (256 KB), dots in every one of them
    bodies = {n: DOTS + "\r\n" + (f"line of text {n}\r\n") * (n ** 3 // 4) + DOTS for n in range(1, 41)}
    for n, body in bodies.items():
        mailbox.deliver(_message(n, body))
    documents, failed, _ = read(mailbox.connection(transport), body="text")
    assert failed == []
    docs = by_id(documents)
    assert len(documents) == 40
    for n, body in bodies.items():
        [document] = docs[f"<wire-{n}@example.org>"]
        assert document.data == (body + "\r\n").replace("\r\n", "\n").encode(), f"message {n}"
        p = document.properties
        assert p["mail.from_address"] == f"patient{n}@example.org" and p["mail.from_name"] == f"Patient {n}"
        assert p["mail.subject"] == p["mail.headers.Subject"] == f"Message {n}"
        assert p["mail.to_address"] == CLINIC


def test_a_message_that_is_only_dots_over_pop3(mailbox):
    raw = b"Subject: dots\r\nMessage-ID: <dots@example.org>\r\n\r\n.\r\n..\r\n.\r\n"
    mailbox.deliver(raw)
    for transport in ("pop3s", "imaps"):
        documents, failed, _ = read(mailbox.connection(transport), body="text")
        assert failed == [] and [d.data for d in documents] == [b".\n..\n.\n"], transport
