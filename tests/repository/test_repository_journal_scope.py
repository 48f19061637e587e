"""Journal scopes (revision 0009_once): entries shared by every execution of a scope, so a
side effect keyed by an inbound message is begun once whichever execution reads it."""

from __future__ import annotations

import threading

import pytest

from postroom.errors import NotFound
from postroom.repository import Repository


@pytest.mark.fast_on_sqlite
def test_a_later_execution_gets_the_entry_an_earlier_one_began(repo: Repository) -> None:
    first = repo.journal_begin_scoped("acks", "e1", [("ack/<r1@x>#0", "<ack-1@clinic>"),
                                                     ("ack/<r2@x>#0", "<ack-2@clinic>")])
    assert {k: (e.execution_id, e.message_id, e.status) for k, e in first.items()} == {
        "ack/<r1@x>#0": ("e1", "<ack-1@clinic>", "pending"), "ack/<r2@x>#0": ("e1", "<ack-2@clinic>", "pending")}
    repo.journal_finish_scoped("acks", [("ack/<r1@x>#0", "sent", "250 queued as A")])

    # e1 died; e2 reads the same replies again and offers Message-IDs of its own
    second = repo.journal_begin_scoped("acks", "e2", [("ack/<r1@x>#0", "<other-1@clinic>"),
                                                      ("ack/<r2@x>#0", "<other-2@clinic>"),
                                                      ("ack/<r3@x>#0", "<ack-3@clinic>")])
    sent, in_flight, new = second["ack/<r1@x>#0"], second["ack/<r2@x>#0"], second["ack/<r3@x>#0"]
    assert (sent.execution_id, sent.message_id, sent.status, sent.reply) == (
        "e1", "<ack-1@clinic>", "sent", "250 queued as A")  # stays with the execution that sent it
    assert (in_flight.execution_id, in_flight.message_id, in_flight.status) == (
        "e2", "<ack-2@clinic>", "pending")  # taken over, same Message-ID
    assert (new.execution_id, new.message_id) == ("e2", "<ack-3@clinic>")
    assert sorted(repo.journal_entries("e2")) == ["ack/<r2@x>#0", "ack/<r3@x>#0"]
    assert sorted(repo.journal_entries("e1")) == ["ack/<r1@x>#0"]
    assert sorted(repo.journal_scoped_entries("acks")) == ["ack/<r1@x>#0", "ack/<r2@x>#0", "ack/<r3@x>#0"]


@pytest.mark.fast_on_sqlite
def test_scopes_and_executions_keep_apart(repo: Repository) -> None:
    repo.journal_begin_scoped("process-a", "e1", [("send/k", "<a@x>")])
    other = repo.journal_begin_scoped("process-b", "e2", [("send/k", "<b@x>")])  # same key, other scope
    assert other["send/k"].message_id == "<b@x>"
    # an execution's own entries (no scope) are untouched by scopes, and the reverse
    repo.journal_begin_many("e9", [("send/k", "<own@x>")])
    assert repo.journal_entries("e9")["send/k"].message_id == "<own@x>"
    assert repo.journal_scoped_entries("process-a")["send/k"].message_id == "<a@x>"
    assert repo.journal_begin_scoped("process-a", "e1", []) == {}
    repo.journal_finish_scoped("process-a", [])
    with pytest.raises(NotFound):
        repo.journal_finish_scoped("process-a", [("never/begun", "sent", "")])
    # the same execution beginning again (a resume) gets its entry back
    again = repo.journal_begin_scoped("process-a", "e1", [("send/k", "<later@x>")])
    assert (again["send/k"].execution_id, again["send/k"].message_id) == ("e1", "<a@x>")


def test_two_executions_racing_for_one_key_get_one_entry(repo: Repository) -> None:
    """Two runs reading the same message at once: one Message-ID between them."""
    got: dict[str, str] = {}
    gate = threading.Barrier(8)

    def begin(execution: str) -> None:
        gate.wait()
        entries = repo.journal_begin_scoped("race", execution, [(f"ack/<r{n}@x>#0", f"<{execution}-{n}@x>")
                                                                 for n in range(20)])
        got[execution] = "".join(entries[f"ack/<r{n}@x>#0"].message_id for n in range(20))

    threads = [threading.Thread(target=begin, args=(f"e{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    entries = repo.journal_scoped_entries("race")
    assert len(entries) == 20
    # every execution was answered the one entry of each key, whoever inserted it
    assert len(set(got.values())) == 1, got
    assert got["e0"] == "".join(entries[f"ack/<r{n}@x>#0"].message_id for n in range(20))
