"""Side effects once per inbound message under a listener (issue 12, item 5): ``postroom
serve`` runs the acknowledgement process whenever replies arrive; a reply whose document
fails at the end (it asks to hold) is not committed, so the listener's next look reads it
again in a new execution, which neither acknowledges it again, nor tells the staff again,
nor keeps a second copy (real Dovecot over IMAP, two SMTP servers, the disk)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from postroom.repository import open_repository
from support.listenerkit import Serve, wait_for
from support.oncekit import components, reply
from support.smtpkit import TinySmtp


def _listening(text: str) -> str:
    start = "start: {type: start, mode: connector, connection: clinic-mailbox, operation: take-replies, next: ack}"
    assert start in text
    return text.replace(start, start.replace("mode: connector", "mode: listener, interval_seconds: 1"))


def _executions(home: Path) -> list:  # noqa: ANN001
    records = open_repository(home=home)
    try:
        return [e for e in records.list_executions(process_id="acknowledge-replies") if e.ended_at]
    finally:
        records.close()


def test_a_listener_reading_a_held_reply_again_acknowledges_it_once(cli, workdir: Path, home: Path,  # noqa: ANN001
                                                                     mailbox) -> None:  # noqa: ANN001
    acks, notes = TinySmtp().start(), TinySmtp().start()
    archive = workdir / "archive"
    archive.mkdir()
    text = components(mailbox.connection("imaps"), mailbox.user, mailbox.password, acks.port, notes.port, archive)
    (workdir / "c.yaml").write_text(_listening(text), encoding="utf-8")
    assert cli("import", "c.yaml").code == 0
    for n in (1, 2, 3):
        mailbox.deliver(reply(n, "Re: please hold my appointment" if n == 2 else ""))
    serve = Serve(workdir, {"POSTROOM_HOME": str(home)}, "--lease-seconds", "6", login=False)
    try:
        serve.wait_ready()
        # the first execution takes the three replies; later ones read the held reply 2 again
        # (the process has no start: key, so its start shape is "start", the model's default)
        wait_for(lambda: len(_executions(home)) >= 3, 90, "three executions of the listener")
    finally:
        serve.close()
        acks.stop()
        notes.stop()
    executions = _executions(home)
    assert sorted(e.documents_in for e in executions)[:2] == [1, 1], executions  # reply 2 alone, again
    assert acks.recipients() == Counter({f"patient{n}@example.org": 1 for n in (1, 2, 3)})
    assert notes.count() == 3
    assert sorted(p.name for p in archive.iterdir()) == [f"patient{n}@example.org.txt" for n in (1, 2, 3)]
    assert mailbox.flags().count("S") == 2  # replies 1 and 3 committed, reply 2 still held
