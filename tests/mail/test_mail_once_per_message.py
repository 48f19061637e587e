"""Side effects once per inbound message (issue 12, item 5), on real servers: Dovecot holds
patients' replies; a process reads them, acknowledges each sender, tells the staff and keeps a
copy on disk. A reply whose document fails later is not committed, so the next execution
reads it again: its acknowledgement, staff note and copy were made by the first execution and
are not made again (the journal keys them by the reply's Message-ID in the process's scope)."""

from __future__ import annotations

import email
import email.policy
import hashlib
from collections import Counter

import pytest

from postroom.connectors.mail import connector
from postroom.sdk import Document, Failed
from postroom.sdk.testing import MemoryContext, MemoryJournal
from support.oncekit import components, reply, reply_id
from support.sendkit import run, send_op, starttls
from support.smtpkit import TinySmtp


@pytest.fixture
def relays():
    acks, notes = TinySmtp().start(), TinySmtp().start()
    try:
        yield acks, notes
    finally:
        acks.stop()
        notes.stop()


def _headers(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def test_a_reply_read_again_is_not_acknowledged_again(mailbox, cli, workdir, relays):
    acks, notes = relays
    archive = workdir / "archive"
    archive.mkdir()
    (workdir / "c.yaml").write_text(components(mailbox.connection("imaps"), mailbox.user, mailbox.password,
                                               acks.port, notes.port, archive), encoding="utf-8")
    assert cli("import", "c.yaml").code == 0
    for n in (1, 2, 3):
        mailbox.deliver(reply(n, "Re: please hold my appointment" if n == 2 else ""))

    first = cli("run", "acknowledge-replies", "--json")
    assert first.code == 1, first  # complete with errors: reply 2's document was held back
    assert first.json()["status"] == "complete_with_errors"
    assert sorted(acks.recipients()) == ["patient1@example.org", "patient2@example.org", "patient3@example.org"]
    assert notes.count() == 3
    assert sorted(p.name for p in archive.iterdir()) == [f"patient{n}@example.org.txt" for n in (1, 2, 3)]
    assert mailbox.flags().count("S") == 2  # replies 1 and 3 committed (read); reply 2 left unread

    second = cli("run", "acknowledge-replies", "--json")
    assert second.code == 1, second
    record = second.json()
    assert record["documents_in"] == 1, record  # reply 2 read again, by a new execution
    assert record["id"] != first.json()["id"]
    # nothing sent or written twice: no second acknowledgement, note, or patient2...-1.txt
    assert acks.recipients() == Counter({f"patient{n}@example.org": 1 for n in (1, 2, 3)})
    assert notes.count() == 3
    assert sorted(p.name for p in archive.iterdir()) == [f"patient{n}@example.org.txt" for n in (1, 2, 3)]
    log = [entry["message"] for entry in cli("executions", "show", record["id"], "--json").json()["log"]]
    ack_id = next(iter(acks.message_ids("patient2@example.org")))
    assert any(f"{ack_id} was sent by an earlier execution that read the same message; skipped" in line
               for line in log), log
    assert any("patient2@example.org.txt was written by an earlier execution that read the same message" in line
               for line in log), log
    # each acknowledgement answers its own reply
    for message in acks.messages:
        n = message.rcpt_tos[0].removeprefix("patient").split("@")[0]
        assert _headers(message.data)["In-Reply-To"] == reply_id(int(n))


def test_a_process_not_started_from_a_mailbox_sends_per_execution_as_before(cli, workdir, relays):
    """Two runs of a --input process send twice: nothing outside a mailbox changes."""
    acks, _ = relays
    (workdir / "c.yaml").write_text(f"""\
type: connection
connector: mail
name: relay
id: relay
settings: {{host: 127.0.0.1, port: {acks.port}, use_ssl: false, use_tls: false}}
---
type: operation
connector: mail
name: tell
id: tell
settings: {{action: send, from: clinic@example.com, to: desk@clinic.example, subject: Hello}}
---
type: process
name: tell twice
id: tell-twice
shapes:
  start: {{type: start, next: send}}
  send: {{type: connector, connection: relay, operation: tell}}
""", encoding="utf-8")
    assert cli("import", "c.yaml").code == 0
    for _ in range(2):
        assert cli("run", "tell-twice").code == 0
    assert acks.recipients() == Counter({"desk@clinic.example": 2})
    assert len({m.message_id for m in acks.messages}) == 2


def _read(n: int, data: str = "Thank you.", inbound: str | None = None, **more: str) -> Document:
    """A document as a mail Get made it from reply ``n`` (then addressed for the send)."""
    document = Document(data, {"mail.inbound_message_id": inbound or reply_id(n), "mail.to_address": ""})
    document.mark_inbound()
    for name, value in {"mail.to_address": f"patient{n}@example.org", **more}.items():
        document.set_property(name, value)
    return document


def test_the_send_keys_by_message_shape_and_place_in_a_scope_executions_share(devmail):
    """Two executions (contexts sharing one journal scope) sending for the same replies: the
    second sends nothing; per recipient, groups and very long Message-IDs are keyed too."""
    scoped: dict[str, MemoryJournal] = {}
    long_id = "<" + "x" * 400 + "@patients.example.org>"
    single = [_read(1), _read(1, "Second part."), _read(2, inbound=long_id)]
    per_recipient = send_op(one_email_per_recipient=True, cc="desk@clinic.example")
    grouped = [_read(3, "a", **{"mail.group": "g"}), _read(3, "b", **{"mail.group": "g"})]
    attaching = send_op(disposition="attachment")
    for execution in ("e1", "e2"):
        context = MemoryContext(execution_id=execution, process_id="acks", scoped=scoped)
        results = run(starttls(devmail), per_recipient, [d.copy() for d in single], context, shape="ack")
        results += run(starttls(devmail), attaching, [d.copy() for d in grouped], context, shape="files")
        assert all(not isinstance(r, Failed) for r in results), results
        assert context.journal().entries() == {}  # nothing in the execution's own journal
    keys = sorted(scoped["process:acks"].items)
    assert keys[:4] == ["ack/msg:<reply-1@patients.example.org>#0/patient1@example.org",
                        "ack/msg:<reply-1@patients.example.org>#1/patient1@example.org",
                        f"ack/msg:sha256:{hashlib.sha256(long_id.encode()).hexdigest()}#0/patient2@example.org",
                        "files/msg:<reply-3@patients.example.org>#0+" + keys[3].rsplit("+", 1)[1]]
    assert all(item.status == "sent" for item in scoped["process:acks"].items.values())
    recipients = Counter(r for m in devmail.messages() for r in m.rcpt_tos)
    # per recipient emails also go to the Cc once each; e2 sent nothing
    assert recipients == Counter({"patient1@example.org": 2, "patient2@example.org": 1,
                                  "patient3@example.org": 1, "desk@clinic.example": 3})


def test_a_retried_acknowledgement_is_not_sent_again_by_a_later_execution(devmail_factory):
    """A Try/Catch retry of an acknowledgement the server deferred takes the failed attempt's
    key (and Message-ID): a later execution reading the reply again skips it."""
    server = devmail_factory(defer_recipients={"patient1@example.org": 1})
    scoped: dict[str, MemoryJournal] = {}
    connection = starttls(server, max_retries=0)
    first = MemoryContext(execution_id="e1", process_id="acks", scoped=scoped)
    session = connector.open(connection, send_op(), first)
    try:
        [deferred] = list(session.execute([_read(1)], "ack"))
        assert isinstance(deferred, Failed) and deferred.retryable
        [sent] = list(session.execute([_read(1)], "ack"))  # the Try/Catch retry
    finally:
        session.close()
    assert not isinstance(sent, Failed)
    assert list(scoped["process:acks"].items) == ["ack/msg:<reply-1@patients.example.org>#0"]
    [again] = run(connection, send_op(), [_read(1)], MemoryContext(execution_id="e2", process_id="acks",
                                                                    scoped=scoped), shape="ack")
    assert again.properties["mail.message_id"] == sent.properties["mail.message_id"]
    assert [m.header("Message-ID") for m in server.messages()] == [sent.properties["mail.message_id"]]
