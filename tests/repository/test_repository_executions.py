"""Executions and what is recorded with them: logs, document errors, test-mode shape
documents, dry runs; batch writes; purge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import IntegrityError

from postroom.errors import NotFound
from postroom.repository import (
    DocumentErrorRecord,
    DryRunRecord,
    ExecutionRecord,
    LogEntry,
    Repository,
    ShapeDocumentRecord,
)

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def execution(id: str, *, process_id: str = "proc", started: datetime | None = T0, **kw: object) -> ExecutionRecord:
    return ExecutionRecord(id=id, process_id=process_id, process_version=1, started_at=started, **kw)


@pytest.mark.fast_on_sqlite
def test_create_get_update(repo: Repository) -> None:
    repo.create_execution(execution("e1", process_name="Dr Smith", mode="test", node="host-1",
                                    request={"inputs": ["a.csv"], "options": {"test": True}}))
    got = repo.get_execution("e1")
    assert got == ExecutionRecord(id="e1", process_id="proc", process_version=1, process_name="Dr Smith",
                                  status="running", mode="test", started_at=T0, node="host-1",
                                  request={"inputs": ["a.csv"], "options": {"test": True}})

    ended = T0 + timedelta(seconds=5)
    repo.update_execution("e1", status="complete_with_errors", ended_at=ended, documents_in=3,
                          documents_out=2, documents_failed=1, error="one failed", truncated=True)
    got = repo.get_execution("e1")
    assert (got.status, got.ended_at, got.documents_in, got.documents_out, got.documents_failed,
            got.error, got.truncated) == ("complete_with_errors", ended, 3, 2, 1, "one failed", True)
    assert got.request == {"inputs": ["a.csv"], "options": {"test": True}}
    assert repo.get_execution("nope") is None


@pytest.mark.fast_on_sqlite
def test_started_at_defaults_to_now(repo: Repository) -> None:
    before = datetime.now(UTC)
    repo.create_execution(execution("e1", started=None))
    started = repo.get_execution("e1").started_at
    assert before - timedelta(seconds=1) <= started <= datetime.now(UTC) + timedelta(seconds=1)


@pytest.mark.fast_on_sqlite
def test_times_come_back_aware_in_utc(repo: Repository) -> None:
    paris = timezone(timedelta(hours=2))
    repo.create_execution(execution("e1", started=datetime(2026, 6, 1, 14, 30, tzinfo=paris)))
    started = repo.get_execution("e1").started_at
    assert started == datetime(2026, 6, 1, 12, 30, tzinfo=UTC)
    assert started.utcoffset() == timedelta(0)


@pytest.mark.fast_on_sqlite
def test_update_rejects_unknown_fields_and_missing_executions(repo: Repository) -> None:
    repo.create_execution(execution("e1"))
    with pytest.raises(TypeError, match="colour"):
        repo.update_execution("e1", colour="red")
    with pytest.raises(TypeError, match="id"):
        repo.update_execution("e1", id="e2")
    with pytest.raises(NotFound):
        repo.update_execution("missing", status="complete")
    with pytest.raises(NotFound):
        repo.update_execution("missing")
    repo.update_execution("e1")  # nothing to set: fine
    assert repo.get_execution("e1").status == "running"


@pytest.mark.fast_on_sqlite
def test_list_newest_first_with_filters_and_limit(repo: Repository) -> None:
    for i in range(6):
        repo.create_execution(execution(f"e{i}", process_id="even" if i % 2 == 0 else "odd",
                                        started=T0 + timedelta(minutes=i),
                                        status="complete" if i < 4 else "failed"))
    assert [e.id for e in repo.list_executions()] == ["e5", "e4", "e3", "e2", "e1", "e0"]
    assert [e.id for e in repo.list_executions(process_id="even")] == ["e4", "e2", "e0"]
    assert [e.id for e in repo.list_executions(status="failed")] == ["e5", "e4"]
    assert [e.id for e in repo.list_executions(process_id="odd", status="complete")] == ["e3", "e1"]
    assert [e.id for e in repo.list_executions(limit=2)] == ["e5", "e4"]
    assert len(repo.list_executions(limit=0)) == 6


@pytest.mark.fast_on_sqlite
def test_logs_errors_shape_documents_and_dry_runs_round_trip_in_order(repo: Repository) -> None:
    repo.create_execution(execution("e1"))
    logs = [LogEntry(time=T0 + timedelta(seconds=i), level=lvl, message=f"line {i} ünïcode", shape=shape)
            for i, (lvl, shape) in enumerate([("info", None), ("warning", "send"), ("error", "send")])]
    repo.add_logs("e1", logs)
    repo.add_logs("e1", [LogEntry(time=T0, level="info", message="later call")])
    assert repo.get_logs("e1") == [*logs, LogEntry(time=T0, level="info", message="later call")]

    errors = [DocumentErrorRecord(shape="send", document=2, message="To address is missing", time=T0),
              DocumentErrorRecord(shape="send", document=5, message="From address is missing")]
    repo.add_document_errors("e1", errors)
    got = repo.get_document_errors("e1")
    assert [(e.shape, e.document, e.message) for e in got] == [(e.shape, e.document, e.message) for e in errors]
    assert got[0].time == T0 and got[1].time is not None  # stamped when missing

    binary = bytes(range(256)) + b"\x00\xff\xfe"
    docs = [ShapeDocumentRecord(shape="message", seq=0, document=0, data=b"Dear Alice",
                                properties={"mail.to_address": "alice@example.com"}, dynamic={"patient": "Alice"}),
            ShapeDocumentRecord(shape="send", seq=1, document=1, data=binary, properties={}, dynamic={}),
            ShapeDocumentRecord(shape="send", seq=0, document=0, data=b"", properties={"é": "ü"}, dynamic={})]
    repo.add_shape_documents("e1", docs)
    assert repo.get_shape_documents("e1") == docs
    assert repo.get_shape_documents("e1", shape="send") == [docs[2], docs[1]]  # by seq
    assert repo.get_shape_documents("e1", shape="nothing") == []
    assert isinstance(repo.get_shape_documents("e1")[1].data, bytes)

    runs = [DryRunRecord(shape="send", document=0, action="mail.send", payload=b"From: a\r\n\r\nbody"),
            DryRunRecord(shape="write", document=1, action="disk.write", payload=binary)]
    repo.add_dry_runs("e1", runs)
    assert repo.get_dry_runs("e1") == runs

    # Records of another execution are separate.
    assert repo.get_logs("other") == [] and repo.get_shape_documents("other") == []


@pytest.mark.fast_on_sqlite
def test_empty_batches_are_fine(repo: Repository) -> None:
    repo.add_logs("e1", [])
    repo.add_document_errors("e1", iter(()))
    repo.add_shape_documents("e1", [])
    repo.add_dry_runs("e1", [])
    assert repo.get_logs("e1") == []


def test_tens_of_thousands_of_rows_from_generators(repo: Repository) -> None:
    """The engine streams; the repository must take a generator and keep the order."""
    n = 25_000
    repo.create_execution(execution("big"))
    repo.add_logs("big", (LogEntry(time=T0, level="info", message=f"m{i}", shape="s") for i in range(n)))
    repo.add_document_errors("big", (DocumentErrorRecord(shape="s", document=i, message="x", time=T0)
                                     for i in range(n)))
    repo.add_shape_documents("big", (ShapeDocumentRecord(shape="s", seq=i, document=i, data=b"%d" % i,
                                                         properties={"i": str(i)}, dynamic={})
                                     for i in range(n)))
    logs = repo.get_logs("big")
    assert len(logs) == n and logs[0].message == "m0" and logs[-1].message == f"m{n - 1}"
    assert [e.document for e in repo.get_document_errors("big")] == list(range(n))
    docs = repo.get_shape_documents("big", shape="s")
    assert len(docs) == n and docs[-1].data == b"%d" % (n - 1) and docs[-1].properties == {"i": str(n - 1)}


@pytest.mark.fast_on_sqlite
def test_a_failing_batch_stores_none_of_its_rows(repo: Repository) -> None:
    def entries():
        for i in range(2500):  # more than one executemany chunk before the failure
            yield LogEntry(time=T0, level="info", message=f"m{i}")
        yield LogEntry(time=T0, level="info", message=None)  # type: ignore[arg-type]  # NOT NULL

    with pytest.raises(IntegrityError):  # a programming error: the database's own message
        repo.add_logs("e1", entries())
    assert repo.get_logs("e1") == []


@pytest.mark.fast_on_sqlite
def test_purge_deletes_old_executions_and_everything_recorded_with_them(repo: Repository) -> None:
    now = datetime.now(UTC)
    repo.create_execution(execution("old", started=now - timedelta(days=40), status="complete",
                                    ended_at=now - timedelta(days=40)))
    repo.create_execution(execution("old2", started=now - timedelta(days=35)))
    repo.update_execution("old2", status="failed", ended_at=now - timedelta(days=35))
    repo.create_execution(execution("recent", started=now - timedelta(days=1), ended_at=now - timedelta(days=1)))
    repo.create_execution(execution("running", started=now - timedelta(days=90)))  # never ended: kept
    for eid in ("old", "old2", "recent", "running"):
        repo.add_logs(eid, [LogEntry(time=now, level="info", message=eid)])
        repo.add_document_errors(eid, [DocumentErrorRecord(shape="s", document=0, message=eid)])
        repo.add_shape_documents(eid, [ShapeDocumentRecord(shape="s", seq=0, document=0, data=b"d",
                                                           properties={}, dynamic={})])
        repo.add_dry_runs(eid, [DryRunRecord(shape="s", document=0, action="mail.send", payload=b"p")])
        repo.journal_begin(eid, "s/0/a@example.com", f"<{eid}@postroom>")

    assert repo.purge_executions(now - timedelta(days=30)) == 2

    assert repo.get_execution("old") is None and repo.get_execution("old2") is None
    for eid in ("old", "old2"):
        assert repo.get_logs(eid) == [] and repo.get_document_errors(eid) == []
        assert repo.get_shape_documents(eid) == [] and repo.get_dry_runs(eid) == []
        assert repo.journal_entries(eid) == {}
    for eid in ("recent", "running"):
        assert repo.get_execution(eid) is not None
        assert [e.message for e in repo.get_logs(eid)] == [eid]
        assert len(repo.get_document_errors(eid)) == 1 and len(repo.get_shape_documents(eid)) == 1
        assert len(repo.get_dry_runs(eid)) == 1 and len(repo.journal_entries(eid)) == 1
    assert repo.purge_executions(now - timedelta(days=30)) == 0
    assert repo.purge_executions(now) == 1  # "recent"
    assert [e.id for e in repo.list_executions()] == ["running"]
