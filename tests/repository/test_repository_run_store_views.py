"""The reads of `postroom run --json`'s view served by the run's own store (repository/_runstore.py,
without SQLAlchemy): an execution's log and failed documents read back exactly as the full
repository reads them; its bounce reports and chunks too, from the full repository when it has any."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from postroom.repository import (
    ChunkRecord,
    DocumentErrorRecord,
    ExecutionRecord,
    LogEntry,
    MailReport,
    Repository,
    open_run_repository,
)

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
def store(repo: Repository, database_url: str, home: Path) -> Iterator[Repository]:
    opened = open_run_repository(database_url, home=home)
    yield opened
    opened.close()


@pytest.mark.fast_on_sqlite
def test_log_and_failed_documents_read_as_the_repository_reads_them(repo: Repository, store: Repository) -> None:
    store.create_execution(ExecutionRecord(id="e1", process_id="p1", process_version=1))
    store.create_execution(ExecutionRecord(id="e2", process_id="p1", process_version=1))
    store.add_logs("e1", [LogEntry(time=T0 + timedelta(seconds=i), level=("info", "warning")[i % 2],
                                   message=f"line {i} «é»", shape="send" if i % 2 else None) for i in range(5)])
    store.add_logs("e2", [LogEntry(time=T0, level="info", message="other")])
    repo.add_document_errors("e1", [DocumentErrorRecord(shape="send", document=3, message="To address is missing",
                                                        time=T0),
                                    DocumentErrorRecord(shape="map", document=1, message="bad «row»")])  # stamped now
    assert store.get_logs("e1") == repo.get_logs("e1") and len(store.get_logs("e1")) == 5
    assert [e.time for e in store.get_logs("e1")] == [T0 + timedelta(seconds=i) for i in range(5)]
    assert store.get_document_errors("e1") == repo.get_document_errors("e1")
    assert [(e.document, e.message) for e in store.get_document_errors("e1")] == [(3, "To address is missing"),
                                                                                 (1, "bad «row»")]
    assert store.get_document_errors("e2") == [] and store.get_logs("e3") == []
    assert store.mail_reports("e1") == [] and store.list_chunks("e1") == []


@pytest.mark.fast_on_sqlite
def test_reports_and_chunks_when_there_are_some(repo: Repository, store: Repository) -> None:
    store.create_execution(ExecutionRecord(id="e1", process_id="p1", process_version=1))
    repo.add_mail_report(MailReport(report_id="<r1@x>", recipient="a@example.com", kind="bounce", action="failed",
                                    status="5.1.1", diagnostic="550 no such user", original_message_id="<m1@x>",
                                    execution_id="e1", journal_key="send/k.0"))
    repo.add_chunk(ChunkRecord(execution_id="e1", shape="fc", number=0), {"inputs": []})
    repo.add_chunk(ChunkRecord(execution_id="e1", shape="fc", number=1), {"inputs": []})
    assert store.mail_reports("e1") == repo.mail_reports("e1") and len(store.mail_reports("e1")) == 1
    assert store.list_chunks("e1") == repo.list_chunks("e1") and len(store.list_chunks("e1")) == 2
    assert store.list_chunks("e1", numbers=[1]) == repo.list_chunks("e1", numbers=[1])
