"""The crash-between-read-and-ack kill test (issue 12, item 5): ``postroom run`` reads
patients' replies from a real Dovecot, acknowledges each sender (``send-ack``, one SMTP
server) and tells the staff (``send-note``, another), and is killed with SIGKILL at a seeded
point between the first acknowledgement and the Get's commit; then it runs again, in a new
execution that reads the same replies again (nothing was committed).

The moment is picked by the servers, not by a clock: the seeded ``k``-th message a server
takes is stored, then its ``250`` waits while the test kills the run (``oncekit.Gate``).
So the kill lands either

* at acknowledgement ``k`` (the in-flight window: the server has it, the journal does not
  know): the new execution skips acknowledgements ``1..k-1``, which the journal records as
  sent, and sends acknowledgement ``k`` again **with the same Message-ID**, so that one
  arrives twice, as one message; or
* at staff note ``k``: every acknowledgement is sent and recorded; the new execution sends
  none again (each arrived exactly once), and note ``k`` is repeated with its Message-ID.

Every reply gets its acknowledgement, threaded under it. 20 seeded trials: 3 here, 17 more
with ``-m slow``.
"""

from __future__ import annotations

import email
import email.policy
import os
import random
import subprocess
import sys
from collections import Counter

import pytest

from postroom.repository import open_repository
from support.oncekit import Gate, components, reply, reply_id
from support.smtpkit import TinySmtp

TRIALS = 20
DEFAULT = 3
SEEDS = [pytest.param(seed, id=f"seed{seed}", marks=[] if seed <= DEFAULT else [pytest.mark.slow])
         for seed in range(1, TRIALS + 1)]


def _patient(address: str) -> int:
    return int(address.removeprefix("patient").split("@")[0])


@pytest.mark.parametrize("seed", SEEDS)
def test_sigkill_between_read_and_ack_sends_each_acknowledgement_once(seed, mailbox, cli, workdir, home):
    rng = random.Random(f"once-{seed}")
    replies = rng.randint(2, 5)
    target = rng.choice(["ack", "note"])
    k = rng.randint(1, replies)
    acks, notes = TinySmtp(), TinySmtp()
    gate = Gate(k)
    (acks if target == "ack" else notes).on_accept = gate
    acks.start()
    notes.start()
    try:
        _trial(mailbox, cli, workdir, home, acks, notes, gate, replies, target, k)
    finally:
        gate.open()
        acks.stop()
        notes.stop()


def _trial(mailbox, cli, workdir, home, acks, notes, gate, replies, target, k):  # noqa: ANN001, PLR0913
    archive = workdir / "archive"
    archive.mkdir()
    (workdir / "c.yaml").write_text(components(mailbox.connection("imaps"), mailbox.user, mailbox.password,
                                               acks.port, notes.port, archive), encoding="utf-8")
    assert cli("import", "c.yaml").code == 0
    for n in range(1, replies + 1):
        mailbox.deliver(reply(n))

    environment = dict(os.environ, POSTROOM_HOME=str(home))
    environment.pop("POSTROOM_DATABASE_URL", None)
    run = subprocess.Popen([sys.executable, "-m", "postroom", "run", "acknowledge-replies", "--quiet"],
                           cwd=workdir, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        reached = gate.reached.wait(120)
        stderr = b"" if reached else run.communicate(timeout=30)[1]
        assert reached, f"the run never reached {target} {k}: {stderr.decode()[-2000:]}"
        run.kill()  # SIGKILL, while the server holds the reply to the message it just stored
        run.wait(timeout=30)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        if run.stderr:
            run.stderr.close()
    gate.open()
    assert mailbox.flags().count("S") == 0, "killed before the commit: no reply is marked read"
    killed_acks = acks.count()
    assert killed_acks == (k if target == "ack" else replies)

    again = cli("run", "acknowledge-replies", "--json")
    assert again.code == 0, again
    assert again.json()["documents_in"] == replies  # every reply read again, by a new execution
    assert mailbox.flags().count("S") == replies  # now committed

    arrived = Counter(_patient(m.rcpt_tos[0]) for m in acks.messages)
    assert set(arrived) == set(range(1, replies + 1)), "every reply gets its acknowledgement"
    twice = {n: c for n, c in arrived.items() if c > 1}
    if target == "ack":  # the in-flight window: acknowledgement k twice, as one message
        assert twice == {k: 2}, arrived
        assert len(acks.message_ids(f"patient{k}@example.org")) == 1, "a repeat carries the same Message-ID"
    else:  # every acknowledgement was recorded as sent before the kill: none is sent again
        assert twice == {}, arrived
        notes_by_id = Counter(m.message_id for m in notes.messages)
        assert sorted(notes_by_id.values()) == [1] * (replies - 1) + [2], notes_by_id
    for message in acks.messages:
        parsed = email.message_from_bytes(message.data, policy=email.policy.default)
        assert parsed["In-Reply-To"] == reply_id(_patient(message.rcpt_tos[0]))
    # the copies on disk: one per reply (a second write would show as patientN@example.org-1.txt)
    assert sorted(p.name for p in archive.iterdir() if not p.name.startswith(".")) == sorted(
        f"patient{n}@example.org.txt" for n in range(1, replies + 1))
    records = open_repository(home=home)
    try:
        log = [entry.message for entry in records.get_logs(again.json()["id"])]
    finally:
        records.close()
    skipped = sum("sent by an earlier execution that read the same message; skipped" in line for line in log)
    assert skipped >= (k - 1 if target == "ack" else replies), log
    print(f"{target} {k} of {replies}: acknowledgements {dict(arrived)}")
