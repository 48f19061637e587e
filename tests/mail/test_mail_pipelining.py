"""Sending fast and safely: PIPELINING (RFC 2920), parallel sessions, the journal's order.

What the servers received is checked byte for byte: Postfix's smtp-sink (which offers
PIPELINING), devmail told to offer it, and a small scripted server that records the very
bytes on the wire, so the pipelined and the one-by-one transactions can be compared.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
from aiosmtpd.controller import Controller

from postroom.connectors.mail import MailSendSession, connector
from postroom.connectors.mail._smtp import SmtpPool
from postroom.connectors.mail.mime import message_id_for
from postroom.connectors.mail.send import journal_key
from postroom.devmail import _smtp as devmail_smtp
from postroom.sdk import Document, Failed
from postroom.sdk.testing import MemoryContext
from support.mailkit import Recorder, SinkDump, free_port, operation, plain_connection
from support.sendkit import run, send_op, starttls
from support.smtpscript import Script

# Leading dots (stuffed on the wire), a lone dot line, a line of dots, no final CRLF.
BODY = b"Subject: dots\r\nTo: b@example.com\r\n\r\n.leading\r\n.\r\n...\r\nmiddle . dot\r\nlast line"


def _wire_of_one_send(scripted, *, pipelining: bool) -> tuple[bytes, Script, SmtpPool]:
    script = Script(pipelining=pipelining)
    pool = SmtpPool(plain_connection(scripted(script)))
    try:
        delivery = pool.send("clinic@example.com", ["b@example.com", "c@example.org"], BODY)
    finally:
        pool.close()
    assert delivery.accepted == ["b@example.com", "c@example.org"]
    assert delivery.replies == ["250 2.0.0 Ok: queued as M1"]
    wire = bytes(script.wire)
    start = wire.index(b"mail FROM")
    return wire[start : wire.rindex(b".\r\n") + 3], script, pool


def test_pipelined_transaction_puts_the_same_bytes_on_the_wire(scripted):
    pipelined, script, pool = _wire_of_one_send(scripted, pipelining=True)
    one_by_one, _, plain_pool = _wire_of_one_send(scripted, pipelining=False)
    assert pool.pipelined == 1 and plain_pool.pipelined == 0
    assert pipelined == one_by_one == (
        f"mail FROM:<clinic@example.com> SIZE={len(BODY)}\r\n".encode()
        + b"rcpt TO:<b@example.com>\r\nrcpt TO:<c@example.org>\r\ndata\r\n"
        + b"Subject: dots\r\nTo: b@example.com\r\n\r\n..leading\r\n..\r\n....\r\nmiddle . dot\r\nlast line\r\n.\r\n"
    )
    assert script.messages == [BODY + b"\r\n"]  # un-stuffed: the message itself, CRLF-ended


def test_pipelined_replies_map_to_their_recipients(scripted):
    script = Script(rcpt={"gone@example.com": ["550 5.1.1 No such user"], "later@example.com": ["451 4.2.0 Busy"]})
    delays: list[float] = []
    pool = SmtpPool(plain_connection(scripted(script), max_sessions=1), sleep=delays.append)
    try:
        delivery = pool.send("clinic@example.com", ["now@example.com", "gone@example.com", "later@example.com"], BODY)
    finally:
        pool.close()
    assert pool.pipelined == 2 and delays == [0.01]
    assert delivery.accepted == ["now@example.com", "later@example.com"]  # later on the retry
    assert delivery.refused == {"gone@example.com": "550 5.1.1 No such user"}
    assert len(script.messages) == 2 and script.sessions == 1


def test_354_without_any_recipient_ends_with_a_lone_dot(scripted):
    """RFC 2920 3.1: a server may answer 354 to a pipelined DATA although every RCPT failed."""
    script = Script(rcpt={"gone@example.com": ["550 5.1.1 No such user"]}, data_without_rcpt="354 go ahead")
    pool = SmtpPool(plain_connection(scripted(script), max_sessions=1))
    try:
        refused = pool.send("clinic@example.com", ["gone@example.com"], BODY)
        ok = pool.send("clinic@example.com", ["b@example.com"], BODY)  # the session is still in step
    finally:
        pool.close()
    assert refused.accepted == [] and refused.refused == {"gone@example.com": "550 5.1.1 No such user"}
    assert ok.accepted == ["b@example.com"] and script.messages == [BODY + b"\r\n"] and script.sessions == 1
    assert b"data\r\n.\r\n" in bytes(script.wire)  # the empty message, nothing of the letter


def test_a_session_left_mid_transaction_is_reset_before_reuse(scripted):
    script = Script(rcpt={"gone@example.com": ["550 5.1.1 No such user"]})
    pool = SmtpPool(plain_connection(scripted(script), max_sessions=1))
    try:
        pool.send("clinic@example.com", ["gone@example.com"], BODY)  # DATA refused: MAIL still open
        pool.send("clinic@example.com", ["b@example.com"], BODY)
        pool.send("clinic@example.com", ["c@example.com"], BODY)
    finally:
        pool.close()
    wire = bytes(script.wire).lower()
    assert wire.count(b"rset\r\n") == 1 and wire.index(b"rset\r\n") < wire.index(b"rcpt to:<b@example.com>")
    assert len(script.messages) == 2 and script.sessions == 1


def test_a_reused_session_the_server_closed_while_idle_is_replaced_at_once():
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port, timeout=0.3)
    controller.start()
    delays: list[float] = []
    pool = SmtpPool(plain_connection(port, max_sessions=1), sleep=delays.append)
    try:
        pool.send("clinic@example.com", ["a@example.com"], BODY)
        time.sleep(0.8)  # the server hangs up on the idle session; the pool still thinks it fresh
        delivery = pool.send("clinic@example.com", ["b@example.com"], BODY)
    finally:
        pool.close()
        controller.stop()
    assert delivery.accepted == ["b@example.com"]
    assert delays == [] and pool.opened == 2  # no backoff, no retry counted: nothing had been sent
    assert [m.rcpt_tos for m in recorder.messages] == [["a@example.com"], ["b@example.com"]]


# -- smtp-sink and devmail ---------------------------------------------------------------------


def test_smtp_sink_gets_the_same_message_pipelined_or_not(smtp_sink):
    dumps = []
    for options in ((), ("-p",)):  # -p: smtp-sink does not offer PIPELINING
        sink = smtp_sink(*options)
        pool = SmtpPool(plain_connection(sink.port))
        try:
            pool.send("clinic@example.com", ["b@example.com"], BODY)
        finally:
            pool.close()
        assert pool.pipelined == (0 if options else 1)
        [text] = sink.dumps(1)
        dumps.append(SinkDump.parse(text))
    pipelined, plain = dumps
    assert pipelined.raw == plain.raw == BODY.replace(b"\r\n", b"\n") + b"\n"  # CRLF ended for DATA
    assert pipelined.rcpt_tos == plain.rcpt_tos == ["b@example.com"]


@pytest.fixture
def pipelining_devmail(devmail_factory, monkeypatch):
    """devmail (aiosmtpd) offering PIPELINING, as Gmail and Microsoft 365 do."""
    original = devmail_smtp._Handler.handle_EHLO

    async def handle_ehlo(self, server, session, envelope, hostname, responses):
        responses = await original(self, server, session, envelope, hostname, responses)
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    monkeypatch.setattr(devmail_smtp._Handler, "handle_EHLO", handle_ehlo)
    return devmail_factory


def test_devmail_pipelined_exact_bytes_and_per_recipient_results(pipelining_devmail):
    dm = pipelining_devmail(reject_recipients=["*@bounce.example.com"], defer_recipients={"slow@example.com": 2})
    pool = SmtpPool(starttls(dm, max_sessions=1))
    try:
        delivery = pool.send(
            "clinic@example.com", ["ok@example.com", "gone@bounce.example.com", "slow@example.com"], BODY
        )
    finally:
        pool.close()
    assert pool.pipelined == 3  # the first try and two retries for the deferred recipient
    assert delivery.accepted == ["ok@example.com", "slow@example.com"]
    assert list(delivery.refused) == ["gone@bounce.example.com"]
    assert delivery.refused["gone@bounce.example.com"].startswith("550 5.1.1")
    stored = dm.store.wait_for(2)
    assert [m.rcpt_tos for m in stored] == [("ok@example.com",), ("slow@example.com",)]
    assert all(m.raw == BODY + b"\r\n" for m in stored)  # exactly the bytes given, dots un-stuffed
    decisions = [(d.address, d.code) for d in dm.store.decisions()]
    assert decisions.count(("gone@bounce.example.com", 550)) == 1  # a 5xx is not retried
    assert [c for a, c in decisions if a == "slow@example.com"] == [451, 451, 250]


def test_devmail_pipelined_documents_report_per_recipient(pipelining_devmail):
    dm = pipelining_devmail(reject_recipients=["*@bounce.example.com"], defer_recipients={"slow@example.com": 1})
    documents = [
        Document("one", {"mail.to_address": "gone@bounce.example.com"}),
        Document("two", {"mail.to_address": "ok@example.com; gone2@bounce.example.com"}),
        Document("three", {"mail.to_address": "slow@example.com"}),
    ]
    context = MemoryContext(execution_id="exec-p")
    first, second, third = run(starttls(dm), send_op(), documents, context)
    assert isinstance(first, Failed) and "gone@bounce.example.com: 550 5.1.1" in first.message
    assert second.properties["mail.refused_recipients"].startswith("gone2@bounce.example.com: 550 5.1.1")
    assert not isinstance(third, Failed) and "mail.refused_recipients" not in third.properties
    stored = sorted(dm.store.wait_for(2), key=lambda m: m.rcpt_tos)
    assert [m.rcpt_tos for m in stored] == [("ok@example.com",), ("slow@example.com",)]
    keys = [journal_key("send", send_op(), doc, 0) for doc in documents]
    assert {k: e.status for k, e in context.journal().entries().items()} == {
        keys[0]: "failed", keys[1]: "sent", keys[2]: "sent"}


# -- parallel sessions ---------------------------------------------------------------------------


def test_two_thousand_documents_over_parallel_sessions(smtp_sink):
    count = 2000
    sink = smtp_sink()
    context = MemoryContext(execution_id="exec-2k")
    documents = [Document(f"Dear p{n},\n.dot\n", {"mail.to_address": f"p{n}@example.com"}) for n in range(count)]
    session = connector.open(plain_connection(sink.port, max_sessions=4), operation(), context)
    session._parallel = True  # no trial: every batch goes over the four sessions
    try:
        results = list(session.execute(documents[:1000], "send")) + list(session.execute(documents[1000:], "send"))
        pool = session._pool
    finally:
        session.close()
    # One result per document, in document order, carrying that document's own address.
    assert len(results) == count and not any(isinstance(r, Failed) for r in results)
    assert [r.properties["mail.to_address"] for r in results] == [f"p{n}@example.com" for n in range(count)]
    # Journal keys by content (shape/digest.k); each sent under the Message-ID derived from it.
    entries = context.journal().entries()
    keys = [journal_key("send", operation(), doc, 0) for doc in documents]
    assert sorted(entries) == sorted(keys)
    assert all(e.status == "sent" and e.reply.startswith("250 2.0.0 Ok") for e in entries.values())
    for key, result in zip(keys, results, strict=True):
        expected = message_id_for("exec-2k", key, "example.com")
        assert result.properties["mail.message_id"] == entries[key].message_id == expected
    # The sink got every letter exactly once, each with its own body.
    dumps = [SinkDump.parse(text) for text in sink.dumps(count, timeout=30)]
    assert len(dumps) == count
    received = Counter(d.rcpt_tos[0] for d in dumps)
    assert received == Counter(f"p{n}@example.com" for n in range(count))
    assert all(d.message.get_content() == f"Dear {d.rcpt_tos[0].split('@')[0]},\n.dot\n" for d in dumps)
    assert pool.pipelined >= count and pool.opened <= 4


class _JournalAtData(Recorder):
    """At each final dot, the session's previous email must already be journaled as sent."""

    def __init__(self, journal, pipelining: bool) -> None:
        super().__init__()
        self.journal = journal
        self.pipelining = pipelining
        self.last_on_session: dict[int, str] = {}
        self.violations: list[str] = []

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]] if self.pipelining else responses

    async def handle_DATA(self, server, session, envelope):
        previous = self.last_on_session.get(id(session))
        if previous is not None:
            key = _key(Document(previous.split("@")[0][1:], {"mail.to_address": previous}))
            entry = self.journal.items.get(key)
            if entry is None or entry.status != "sent":
                self.violations.append(f"{envelope.rcpt_tos[0]} arrived before {key} was journaled")
        self.last_on_session[id(session)] = envelope.rcpt_tos[0]
        return await super().handle_DATA(server, session, envelope)


@pytest.mark.parametrize("pipelining", [True, False])
def test_each_session_journals_an_email_before_its_next_one_can_be_accepted(pipelining):
    """So a crash leaves at most one accepted-but-unrecorded email per session."""
    context = MemoryContext(execution_id="exec-order")
    recorder = _JournalAtData(context.journal(), pipelining)
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        documents = [Document(f"{n}", {"mail.to_address": f"p{n}@example.com"}) for n in range(300)]
        session = connector.open(plain_connection(port, max_sessions=3), operation(), context)
        session._parallel = True
        try:
            results = list(session.execute(documents, "send"))
        finally:
            session.close()
    finally:
        controller.stop()
    assert not any(isinstance(r, Failed) for r in results)
    assert len(recorder.messages) == 300 and len(recorder.sessions) == 3
    assert recorder.violations == []
    assert context.journal().entries()[journal_key("send", operation(), documents[299], 0)].status == "sent"


def test_a_document_that_cannot_be_sent_does_not_stop_the_others_in_parallel(smtp_sink):
    sink = smtp_sink()
    documents = [Document(f"n{n}", {"mail.to_address": f"p{n}@example.com"}) for n in range(40)]
    documents[7] = Document("x", {"mail.to_address": "not-an-address"})
    documents[23] = Document("x", {})
    results = run(plain_connection(sink.port, max_sessions=4), operation(), documents)
    assert [n for n, r in enumerate(results) if isinstance(r, Failed)] == [7, 23]
    assert len(sink.dumps(38)) == 38


def test_server_gone_mid_batch_raises_after_the_results_before_it(scripted):
    script = Script()
    port = scripted(script)
    context = MemoryContext()
    session = connector.open(plain_connection(port, max_sessions=2, max_retries=1), operation(), context)
    documents = [Document(f"n{n}", {"mail.to_address": f"p{n}@example.com"}) for n in range(6)]
    try:
        outputs = session.execute(documents[:3], "send")
        assert not any(isinstance(r, Failed) for r in outputs)
        session._pool.close()  # sessions gone, and no new ones: as when the server vanishes
        outputs = session.execute(documents[3:], "send")
        with pytest.raises(Exception, match="closed"):
            list(outputs)
    finally:
        session.close()
    statuses = {k: e.status for k, e in context.journal().entries().items()}
    assert [statuses[_key(d)] for d in documents[:3]] == ["sent"] * 3
    assert "sent" not in [statuses[_key(d)] for d in documents[3:]]


@pytest.mark.parametrize("wire", [
    b"250 2.1.0 Ok\r\n", b"250-first\r\n250-second\r\n250 last\r\n", b"250\r\n", b"354 \r\n", b"xyz garbage\r\n",
    b"421 4.3.2 Shutting down\r\n", b"250 " + b"x" * 9000 + b"\r\n", b"250-cut", b"", b"25", b"250-a\r\n",
])
def test_the_short_reply_reader_answers_as_smtplib(wire):
    import io
    import smtplib

    from postroom.connectors.mail._smtp.wire import getreply as _getreply

    def outcome(read):
        client = smtplib.SMTP()
        client.file = io.BytesIO(wire)
        try:
            return read(client)
        except smtplib.SMTPException as exc:
            return type(exc), str(exc)

    assert outcome(_getreply) == outcome(smtplib.SMTP.getreply)


class _SlowRecorder(Recorder):
    """A server that takes 20 ms to accept each message, as a distant or filtering one does."""

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        await asyncio.sleep(0.02)
        return await super().handle_DATA(server, session, envelope)


def test_parallel_sessions_are_kept_when_they_are_faster(monkeypatch, caplog):
    import logging

    monkeypatch.setattr(MailSendSession, "PROBE", 10)
    recorder = _SlowRecorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    context = MemoryContext()
    documents = [Document(f"n{n}", {"mail.to_address": f"p{n}@example.com"}) for n in range(60)]
    try:
        session = connector.open(plain_connection(port, max_sessions=3), operation(), context)
        try:
            with caplog.at_level(logging.INFO, logger=context.log.name):
                results = list(session.execute(documents, "send"))
            assert session._parallel is True
        finally:
            session.close()
    finally:
        controller.stop()
    assert [r.properties["mail.to_address"] for r in results] == [f"p{n}@example.com" for n in range(60)]
    assert sorted(m.rcpt_tos[0] for m in recorder.messages) == sorted(f"p{n}@example.com" for n in range(60))
    assert len(recorder.sessions) == 3 and "sending over 3 sessions took" in caplog.text


def test_one_session_is_kept_when_parallel_ones_are_no_faster(monkeypatch, scripted):
    """The trial is for a server without PIPELINING (each session in a thread of its own)."""
    monkeypatch.setattr(MailSendSession, "PROBE", 10)
    timings = iter([0.001, 0.002])  # one session: 1 ms a document; three: 2 ms
    monkeypatch.setattr(MailSendSession, "_timed", lambda self, plans, width, pool, writer: (
        self._senders(plans, width, pool, writer), writer.flush(), next(timings))[-1])
    script = Script(pipelining=False)
    context = MemoryContext()
    session = connector.open(plain_connection(scripted(script), max_sessions=3), operation(), context)
    try:
        documents = [Document(f"n{n}", {"mail.to_address": f"p{n}@example.com"}) for n in range(40)]
        results = list(session.execute(documents, "send"))
        assert session._parallel is False
        more = list(session.execute(documents[:5], "send2"))  # decided once for the execution
    finally:
        session.close()
    assert not any(isinstance(r, Failed) for r in results + more)
    assert len(script.messages) == 45
    assert sorted(context.journal().entries()) == sorted([_key(d) for d in documents] +
                                                         [_key(d, "send2") for d in documents[:5]])


def test_a_pipelining_server_gets_every_session_without_a_trial(monkeypatch, scripted, caplog):
    """Sessions taking turns in one thread cost no more than one (ADR 0020): no trial needed."""
    import logging

    monkeypatch.setattr(MailSendSession, "PROBE", 10)
    monkeypatch.setattr(MailSendSession, "_timed", lambda *args: pytest.fail("no trial for a pipelining server"))
    script = Script()
    context = MemoryContext()
    session = connector.open(plain_connection(scripted(script), max_sessions=3), operation(), context)
    try:
        documents = [Document(f"n{n}", {"mail.to_address": f"p{n}@example.com"}) for n in range(40)]
        with caplog.at_level(logging.INFO, logger=context.log.name):
            results = list(session.execute(documents, "send"))
        assert session._parallel is True
    finally:
        session.close()
    assert not any(isinstance(r, Failed) for r in results)
    assert len(script.messages) == 40 and script.sessions == 3
    assert "the server pipelines: 3 sessions take turns" in caplog.text


# -- one round trip per email: the message and the next email's commands in one write ------------


def _key(document: Document, shape: str = "send") -> str:
    """The journal key of the first email like ``document`` sent with ``operation()``."""
    return journal_key(shape, operation(), document, 0)


def _letters(count: int) -> list[Document]:
    return [Document(f"Dear p{n},\n.dot\n", {"mail.to_address": f"p{n}@example.com"}) for n in range(count)]


def _one_session_run(port: int, documents, sleep=None, **connection) -> tuple[list, MemoryContext, SmtpPool]:
    context = MemoryContext(execution_id="exec-chain")
    settings = plain_connection(port, max_sessions=1, **connection)
    session = connector.open(settings, operation(), context)
    if sleep is not None:
        session._pool = SmtpPool(settings, sleep=sleep)  # closed by session.close(), as not shared
    try:
        results = list(session.execute(documents, "send"))
        pool = session._pool
    finally:
        session.close()
    return results, context, pool


def test_chained_emails_put_the_same_bytes_on_the_wire_in_fewer_writes(scripted, monkeypatch):
    import smtplib

    writes: list[bytes] = []
    real_send = smtplib.SMTP.send
    monkeypatch.setattr(smtplib.SMTP, "send", lambda self, data: (
        writes.append(data if isinstance(data, bytes) else data.encode()), real_send(self, data))[1])
    chained, plain = Script(), Script(pipelining=False)
    results, _, pool = _one_session_run(scripted(chained), _letters(5))
    chain_writes = [w for w in writes if not w.lower().startswith((b"ehlo", b"quit"))]
    writes.clear()
    plain_results, _, _ = _one_session_run(scripted(plain), _letters(5))
    assert not any(isinstance(r, Failed) for r in results + plain_results)
    assert [r.properties["mail.to_address"] for r in results] == [f"p{n}@example.com" for n in range(5)]
    assert len(chained.messages) == 5 and chained.sessions == 1

    def transactions(wire: bytes) -> bytes:  # the Date header differs between the two runs
        start = wire.index(b"mail FROM")
        lines = wire[start : wire.rindex(b".\r\n") + 3].split(b"\r\n")
        return b"\r\n".join(line for line in lines if not line.startswith(b"Date: "))

    assert transactions(bytes(chained.wire)) == transactions(bytes(plain.wire))
    assert len(chain_writes) == 6 and pool.pipelined == 5  # one group, then message + next group
    assert chain_writes[1].startswith(b"From: ") and b"\r\n.\r\nmail FROM:<clinic@example.com>" in chain_writes[1]


def test_a_refusal_mid_chain_fails_its_document_alone(scripted):
    script = Script(rcpt={"p2@example.com": ["550 5.1.1 No such user"]})
    results, context, _ = _one_session_run(scripted(script), _letters(5))
    assert [isinstance(r, Failed) for r in results] == [False, False, True, False, False]
    assert "p2@example.com: 550 5.1.1 No such user" in results[2].message
    assert sorted(_dear(m) for m in script.messages) == ["p0", "p1", "p3", "p4"]
    wire = bytes(script.wire).lower()
    assert wire.count(b"rset\r\n") == 1  # the refused transaction was left open: reset before the next
    assert {k: e.status for k, e in context.journal().entries().items()} == {
        _key(d): status for d, status in zip(_letters(5), ["sent", "sent", "failed", "sent", "sent"], strict=True)}


def test_a_deferral_mid_chain_is_retried_with_backoff_and_the_rest_go_on(scripted):
    delays: list[float] = []
    script = Script(rcpt={"p1@example.com": ["451 4.2.0 Busy", "451 4.2.0 Busy"]})
    results, context, _ = _one_session_run(scripted(script), _letters(4), sleep=delays.append,
                                           retry_delay_seconds=0.5)
    assert not any(isinstance(r, Failed) for r in results)
    assert delays == [0.5, 1.0]  # the first retry waits, as when sent one by one
    assert sorted(_dear(m) for m in script.messages) == ["p0", "p1", "p2", "p3"]
    assert all(e.status == "sent" for e in context.journal().entries().values())


def test_a_deferred_final_dot_mid_chain_is_retried(scripted):
    delays: list[float] = []
    script = Script(dot_replies=["250 2.0.0 Ok: first", "452 4.3.1 Insufficient storage"])
    results, context, _ = _one_session_run(scripted(script), _letters(3), sleep=delays.append)
    assert not any(isinstance(r, Failed) for r in results) and delays == [0.01]
    assert sorted(_dear(m) for m in script.messages) == ["p0", "p1", "p2"]
    assert bytes(script.wire).count(b"Dear p1,") == 2  # its 452 means not taken: sent again


def test_a_session_lost_mid_chain_resends_only_what_was_in_flight(scripted):
    script = Script(drop_at_dot=2)  # the server vanishes on the second message's final dot
    results, context, pool = _one_session_run(scripted(script), _letters(4))
    assert not any(isinstance(r, Failed) for r in results)
    assert sorted(_dear(m) for m in script.messages) == ["p0", "p1", "p2", "p3"]  # p1 once: dropped unstored
    assert script.sessions == 2 and pool.opened == 2
    ids = {r.properties["mail.to_address"]: r.properties["mail.message_id"] for r in results}
    assert ids["p1@example.com"] == context.journal().entries()[_key(_letters(4)[1])].message_id


def test_a_message_the_server_cannot_take_fails_alone_mid_chain(scripted):
    documents = _letters(4)
    documents[2] = Document("x" * 1_100_000, {"mail.to_address": "big@example.com"})  # over SIZE 1000000
    results, context, _ = _one_session_run(scripted(Script()), documents)
    assert [isinstance(r, Failed) for r in results] == [False, False, True, False]
    assert "over the 1000000 bytes" in results[2].message
    assert context.journal().entries()[_key(documents[2])].status == "failed"


def _dear(message: bytes) -> str:
    import re

    return re.search(rb"Dear (p\d+),", message).group(1).decode()
