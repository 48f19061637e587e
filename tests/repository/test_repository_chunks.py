"""Execution chunks in the repository (revision 0010_chunks), on SQLite and PostgreSQL: a chunk
is recorded once with its inputs, claimed by one lease only, renewed and ended only by that
lease, put back to queued by a compare-and-set on it, and purged with its execution. Its
send journal (``ChunkJournal``) keeps two chunks' identical letters apart and gives a chunk
sent again its own entries back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from postroom.repository import ChunkRecord, ExecutionRecord, Repository
from postroom.services._chunks import ChunkJournal


def _execution(repo: Repository, execution_id: str = "e1") -> None:
    repo.create_execution(ExecutionRecord(id=execution_id, process_id="letters", process_version=1,
                                          started_at=datetime.now(UTC)))


@pytest.mark.fast_on_sqlite
def test_a_chunk_is_claimed_once_and_ended_by_its_lease_only(repo: Repository) -> None:
    _execution(repo)
    inputs = {"target": "to", "units": [[{"seq": 1, "data": "SGk=", "properties": {}, "dynamic": {}}]]}
    added = repo.add_chunk(ChunkRecord("e1", "flow", 1, documents=1), inputs)
    assert (added.status, added.attempts, added.node) == ("queued", 0, None)
    again = repo.add_chunk(ChunkRecord("e1", "flow", 1, documents=99), {"other": True})  # a resumed execution
    assert again.documents == 1

    assert repo.claim_chunk("e1", "flow", 1, "w1@test", "host-a", 100) == inputs
    assert repo.claim_chunk("e1", "flow", 1, "w2@test", "host-b", 200) is None  # the second copy of its task
    assert repo.chunk_heartbeat("e1", "flow", 1, "host-a", 100)
    assert not repo.chunk_heartbeat("e1", "flow", 1, "host-b", 200)

    [running] = repo.list_chunks("e1")
    assert (running.status, running.node, running.attempts, running.lease_pid) == ("running", "w1@test", 1, 100)
    stale = ChunkRecord("e1", "flow", 1, lease_host="host-a", lease_pid=100, attempts=0)
    assert not repo.requeue_chunk(stale)  # not the attempt the row is at
    assert repo.requeue_chunk(running)
    assert repo.claim_chunk("e1", "flow", 1, "w2@test", "host-b", 200) == inputs

    ended = ChunkRecord("e1", "flow", 1, status="complete", lease_host="host-a", lease_pid=100,
                        counts={"out": 1})
    assert not repo.end_chunk(ended)  # the first lease lost it when it was put back
    assert repo.end_chunk(ChunkRecord("e1", "flow", 1, status="complete", lease_host="host-b", lease_pid=200,
                                      counts={"out": 1}, ended_at=datetime.now(UTC)))
    [done] = repo.list_chunks("e1", "flow", [1])
    assert (done.status, done.node, done.attempts, done.counts) == ("complete", "w2@test", 2, {"out": 1})
    assert repo.claim_chunk("e1", "flow", 1, "w1@test", "host-a", 100) is None  # ended: a late copy does nothing

    repo.add_chunk(ChunkRecord("e1", "flow", 2, documents=3), inputs)
    assert [c.number for c in repo.list_chunks("e1")] == [1, 2]
    assert [c.number for c in repo.list_chunks("e1", numbers=[2])] == [2]
    assert repo.list_chunks("e1", "other") == []


@pytest.mark.fast_on_sqlite
def test_chunk_journals_keep_identical_letters_of_two_chunks_apart(repo: Repository) -> None:
    _execution(repo)
    first, second = ChunkJournal(repo, "e1", "flow/1"), ChunkJournal(repo, "e1", "flow/2")
    mid = "<abc@clinic.example>"
    one = first.begin_many([("send/k.0", mid)])["send/k.0"]
    two = second.begin_many([("send/k.0", mid)])["send/k.0"]
    assert one.key == two.key == "send/k.0" and one.status == two.status == "pending"
    assert one.message_id != two.message_id and one.message_id.endswith("@clinic.example>")
    first.finish_many([("send/k.0", "sent", "250 ok")])
    again = ChunkJournal(repo, "e1", "flow/1").begin_many([("send/k.0", mid)])["send/k.0"]  # the chunk sent again
    assert (again.status, again.message_id) == ("sent", one.message_id)
    assert second.entries()["send/k.0"].status == "pending"
    assert set(repo.journal_entries("e1")) == {"send/k.0@flow/1", "send/k.0@flow/2"}


@pytest.mark.fast_on_sqlite
def test_chunks_are_purged_with_their_execution(repo: Repository) -> None:
    _execution(repo)
    repo.add_chunk(ChunkRecord("e1", "flow", 1), {})
    repo.update_execution("e1", status="complete", ended_at=datetime.now(UTC) - timedelta(days=40))
    assert repo.purge_executions(datetime.now(UTC) - timedelta(days=30)) == 1
    assert repo.list_chunks("e1") == []
