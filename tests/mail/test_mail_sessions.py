"""Session reuse, reconnects, retries and the rate limit; Postfix's smtp-sink as a second server."""

from __future__ import annotations

import logging

import pytest

from postroom.connectors.mail._oauth import TokenSource
from postroom.connectors.mail._smtp import RateLimiter, SmtpPool
from postroom.connectors.mail.send import journal_key
from postroom.connectors.mail.spec import MailConnection
from postroom.errors import AuthenticationFailed, ConnectionFailed
from postroom.sdk import Document, Failed
from postroom.sdk.testing import MemoryContext
from support.mailkit import SinkDump, operation, plain_connection
from support.sendkit import run


def _docs(count: int, prefix: str = "p") -> list[Document]:
    return [Document(f"Dear {prefix}{n},\n.leading dot\n", {"mail.to_address": f"{prefix}{n}@example.com"})
            for n in range(count)]


# -- aiosmtpd with scripted replies ----------------------------------------------------------


def test_session_is_reused_between_messages(smtp_server):
    server = smtp_server()
    results = run(plain_connection(server.port, max_sessions=1), operation(), _docs(3))
    assert not any(isinstance(r, Failed) for r in results)
    assert [m.rcpt_tos for m in server.messages] == [["p0@example.com"], ["p1@example.com"], ["p2@example.com"]]
    assert len(server.recorder.sessions) == 1
    assert all(b"\r\n.leading dot\r\n" in m.data for m in server.messages)  # dot-stuffing undone by the server


def test_421_on_data_reconnects_and_delivers_once(smtp_server):
    server = smtp_server()
    server.recorder.data_replies = ["421 4.3.2 Service shutting down"]
    [result] = run(plain_connection(server.port), operation(), _docs(1))
    assert not isinstance(result, Failed)
    assert len(server.messages) == 1 and len(server.recorder.sessions) == 2


def test_4xx_on_data_is_retried(smtp_server, caplog):
    server = smtp_server()
    server.recorder.data_replies = ["451 4.3.0 Try again later", "452 4.3.1 Still busy"]
    with caplog.at_level(logging.INFO):
        [result] = run(plain_connection(server.port, max_retries=3), operation(), _docs(1))
    assert not isinstance(result, Failed)
    assert len(server.messages) == 1 and server.messages[0].rcpt_tos == ["p0@example.com"]
    assert "retry 1 of 3" in caplog.text and "retry 2 of 3" in caplog.text


def test_5xx_on_data_fails_the_document(smtp_server):
    server = smtp_server()
    server.recorder.data_replies = ["554 5.7.1 Message refused as spam"]
    failed, ok = run(plain_connection(server.port, max_sessions=1), operation(), _docs(2))
    assert isinstance(failed, Failed) and "p0@example.com: 554 5.7.1 Message refused as spam" in failed.message
    assert not isinstance(ok, Failed) and [m.rcpt_tos for m in server.messages] == [["p1@example.com"]]


def test_mixed_recipient_replies(smtp_server):
    server = smtp_server()
    server.recorder.rcpt_replies = {"later@example.com": ["450 4.2.1 Mailbox busy"],
                                    "never@example.com": ["550 5.1.1 No such user"]}
    [result] = run(plain_connection(server.port), operation(),
                   [Document("x", {"mail.to_address": "now@example.com; later@example.com; never@example.com"})])
    assert not isinstance(result, Failed)
    assert result.properties["mail.refused_recipients"] == "never@example.com: 550 5.1.1 No such user"
    assert [m.rcpt_tos for m in server.messages] == [["now@example.com"], ["later@example.com"]]
    assert [a for a, _ in server.recorder.rcpt_log].count("never@example.com") == 1  # a 5xx is not retried


def test_backoff_doubles(smtp_server):
    server = smtp_server()
    server.recorder.rcpt_replies = {"a@example.com": ["451 busy"] * 3}
    delays: list[float] = []
    pool = SmtpPool(plain_connection(server.port, retry_delay_seconds=0.5, max_retries=3), sleep=delays.append)
    try:
        delivery = pool.send("clinic@example.com", ["a@example.com"], b"Subject: x\r\n\r\nbody\r\n")
    finally:
        pool.close()
    assert delays == [0.5, 1.0, 2.0]
    assert delivery.accepted == ["a@example.com"] and delivery.attempts == 4


def test_server_gone_raises_connection_failed_after_retries(smtp_server):
    server = smtp_server()
    connection = plain_connection(server.port, max_retries=2, max_sessions=1)
    context = MemoryContext()
    from postroom.connectors.mail import connector

    session = connector.open(connection, operation(), context)
    server.recorder.data_replies = [None] + ["421 4.3.2 going away"] * 5  # the first email passes
    try:
        outputs = session.execute(_docs(2), "send")
        assert not isinstance(next(outputs), Failed)  # results before the fatal error still come
        with pytest.raises(ConnectionFailed, match="kept dropping"):
            next(outputs)
    finally:
        session.close()
    entries = context.journal().entries()
    first, second = (journal_key("send", operation(), doc, 0) for doc in _docs(2))
    assert (entries[first].status, entries[second].status) == ("sent", "failed")


# -- smtp-sink (Postfix) -----------------------------------------------------------------------


def test_smtp_sink_receives_exactly_what_was_sent(smtp_sink):
    sink = smtp_sink()
    documents = [Document("Dear Alice,\n\nDr. Smith is retiring.\n", {
        "mail.to_address": '"Walker, Alice" <alice.walker@example.com>', "mail.bcc_address": "audit@example.com"})]
    [result] = run(plain_connection(sink.port), operation(cc="desk@example.com"), documents)
    assert not isinstance(result, Failed) and result.properties["mail.smtp_response"].startswith("250 2.0.0 Ok")
    [dump] = [SinkDump.parse(text) for text in sink.dumps(1)]
    assert dump.mail_from == "clinic@example.com"
    assert dump.rcpt_tos == ["alice.walker@example.com", "desk@example.com", "audit@example.com"]
    message = dump.message
    assert [n for n, _ in message.items()] == ["From", "To", "Cc", "Subject", "Date", "Message-ID", "MIME-Version",
                                               "Content-Type", "Content-Transfer-Encoding"]
    assert message["To"].addresses[0].display_name == "Walker, Alice"
    assert message["Subject"] == "Announcement: Dr. Smith is Retiring"
    assert message["Content-Type"] == 'text/plain; charset="utf-8"' and message["Content-Transfer-Encoding"] == "7bit"
    assert message.get_content() == "Dear Alice,\n\nDr. Smith is retiring.\n"
    assert b"audit@example.com" not in dump.raw


def test_smtp_sink_dropping_every_reused_session(smtp_sink, monkeypatch):
    """-q RSET: the sink hangs up on the RSET a reuse starts with (every reuse, with
    FRESH_SECONDS 0, as after a long idle); each email reconnects."""
    monkeypatch.setattr(SmtpPool, "FRESH_SECONDS", 0.0)
    sink = smtp_sink("-q", "RSET")
    results = run(plain_connection(sink.port), operation(), _docs(3))
    assert not any(isinstance(r, Failed) for r in results)
    dumps = [SinkDump.parse(text) for text in sink.dumps(3)]
    assert sorted(d.rcpt_tos[0] for d in dumps) == ["p0@example.com", "p1@example.com", "p2@example.com"]


def test_smtp_sink_hard_rejects(smtp_sink):
    sink = smtp_sink("-f", "RCPT")
    results = run(plain_connection(sink.port), operation(), _docs(2))
    assert all(isinstance(r, Failed) and "500 5.3.0" in r.message for r in results)
    assert [r.message.split(":")[1].strip() for r in results] == ["p0@example.com", "p1@example.com"]
    assert sink.dumps(0, timeout=0.2) == []


def test_smtp_sink_soft_rejects_until_retries_run_out(smtp_sink):
    sink = smtp_sink("-r", "RCPT")
    [result] = run(plain_connection(sink.port, max_retries=2), operation(), _docs(1))
    assert isinstance(result, Failed) and "p0@example.com: 450 4.3.0" in result.message
    assert sink.dumps(0, timeout=0.2) == []


def test_smtp_sink_one_email_per_recipient(smtp_sink):
    sink = smtp_sink()
    run(plain_connection(sink.port), operation(one_email_per_recipient=True),
        [Document("x", {"mail.to_address": "a@example.com, b@example.org"})])
    dumps = sorted((SinkDump.parse(t) for t in sink.dumps(2)), key=lambda d: d.rcpt_tos)
    assert [d.rcpt_tos for d in dumps] == [["a@example.com"], ["b@example.org"]]
    assert [str(d.message["To"]) for d in dumps] == ["a@example.com", "b@example.org"]


# -- units: the rate limiter and the token source ----------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_rate_limiter_spaces_evenly():
    clock = _Clock()
    limiter = RateLimiter(120, clock=clock, sleep=clock.sleep)  # one per 0.5 s
    waits = [limiter.acquire() for _ in range(5)]
    assert waits == [0.0, 0.5, 0.5, 0.5, 0.5]
    clock.now += 10  # idle time earns one slot, not a burst
    assert [limiter.acquire() for _ in range(2)] == [0.0, 0.5]
    assert RateLimiter(0, clock=clock, sleep=clock.sleep).acquire() == 0.0


class _Response:
    def __init__(self, payload: bytes) -> None:
        self.payload = payload

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def read(self) -> bytes:
        return self.payload


def test_token_source_refreshes_before_expiry():
    clock = _Clock()
    calls: list[bytes] = []

    def opener(request, timeout):
        calls.append(request.data)
        return _Response(f'{{"access_token": "t{len(calls)}", "expires_in": 300}}'.encode())

    connection = MailConnection(host="smtp.example.com", user_password_auth=True, user_name="u@example.com",
                                auth_mechanism="xoauth2", refresh_token="refresh-XYZ", client_id="c",
                                token_url="https://oauth.example.com/token")
    tokens = TokenSource(connection, opener=opener, clock=clock)
    assert tokens.token() == "t1"
    clock.now += 239  # 61 s before expiry: still good
    assert tokens.token() == "t1"
    clock.now += 1  # inside the last minute: renewed early
    assert tokens.token() == "t2"
    tokens.invalidate()
    assert tokens.token() == "t3" and len(calls) == 3
    assert "refresh-XYZ" not in repr(tokens)


def test_token_source_without_access_token_in_reply():
    connection = MailConnection(host="smtp.example.com", user_password_auth=True, user_name="u@example.com",
                                auth_mechanism="xoauth2", refresh_token="r", client_id="c",
                                token_url="https://oauth.example.com/token")
    tokens = TokenSource(connection, opener=lambda request, timeout: _Response(b'{"error": "nope"}'))
    with pytest.raises(AuthenticationFailed, match="without an access_token"):
        tokens.token()
