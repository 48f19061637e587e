"""Bounces and complaints in the repository (revision 0008_bounce), on SQLite and PostgreSQL:
the send journal found by Message-ID across executions, reports kept by the execution that
sent the letter, a report read again replacing itself, and purge taking them with the send
(and a report about a letter no execution here sent once the retention time has passed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from postroom.repository import ExecutionRecord, MailReport, Repository


def _report(report_id: str, recipient: str, execution_id: str, **kw: object) -> MailReport:
    return MailReport(report_id=report_id, recipient=recipient, kind="bounce", action="failed", status="5.1.1",
                      diagnostic="550 5.1.1 no such user", original_message_id="<letter-1@clinic.example>",
                      execution_id=execution_id, journal_key="send/abc.0", reported_at="2026-12-04T10:00:00+00:00",
                      read_by="reader", **kw)


@pytest.mark.fast_on_sqlite
def test_the_journal_is_found_by_message_id_in_any_execution(repo: Repository) -> None:
    repo.journal_begin_many("e1", [("send/a.0", "<a@clinic.example>"), ("send/b.0", "<b@clinic.example>")])
    repo.journal_finish_many("e1", [("send/a.0", "sent", "250 ok"), ("send/b.0", "sent", "250 ok")])
    repo.journal_begin("e2", "send/c.0", "<c@clinic.example>")
    found = repo.journal_find("<b@clinic.example>")
    assert found is not None and (found.execution_id, found.key, found.status) == ("e1", "send/b.0", "sent")
    found = repo.journal_find("<c@clinic.example>")
    assert found is not None and found.execution_id == "e2"
    assert repo.journal_find("<nobody@clinic.example>") is None
    assert repo.journal_find("b@clinic.example") is None  # Message-IDs are compared with their brackets


@pytest.mark.fast_on_sqlite
def test_reports_are_kept_by_the_sending_execution_and_a_reread_replaces_itself(repo: Repository) -> None:
    repo.add_mail_report(_report("<dsn-1@mta>", "bob@example.net", "e1"))
    repo.add_mail_report(_report("<dsn-2@mta>", "eve@example.net", "e1"))
    repo.add_mail_report(_report("<dsn-3@mta>", "zed@example.net", "e2"))
    repo.add_mail_report(_report("<dsn-1@mta>", "bob@example.net", "e1"))  # the same report read again
    reports = repo.mail_reports("e1")
    assert sorted((r.report_id, r.recipient, r.status, r.read_by) for r in reports) == [
        ("<dsn-1@mta>", "bob@example.net", "5.1.1", "reader"), ("<dsn-2@mta>", "eve@example.net", "5.1.1", "reader")]
    assert all(r.recorded_at is not None and r.recorded_at.utcoffset() == timedelta(0) for r in reports)
    assert [r.recipient for r in repo.mail_reports("e2")] == ["zed@example.net"]
    assert repo.mail_reports("e3") == []


@pytest.mark.fast_on_sqlite
def test_purge_takes_the_reports_with_the_send(repo: Repository) -> None:
    old = datetime.now(UTC) - timedelta(days=40)
    repo.create_execution(ExecutionRecord(id="old", process_id="p", process_version=1, started_at=old,
                                          ended_at=old, status="complete"))
    repo.add_mail_report(_report("<dsn-1@mta>", "bob@example.net", "old"))
    repo.add_mail_report(_report("<dsn-2@mta>", "eve@example.net", "kept"))
    repo.add_mail_report(_report("<dsn-3@mta>", "old@example.net", "", recorded_at=old))  # no letter of ours
    repo.add_mail_report(_report("<dsn-4@mta>", "new@example.net", ""))
    assert repo.purge_executions(datetime.now(UTC) - timedelta(days=30)) == 1
    assert repo.mail_reports("old") == []
    assert [r.recipient for r in repo.mail_reports("kept")] == ["eve@example.net"]
    assert [r.recipient for r in repo.mail_reports("")] == ["new@example.net"], "an unknown letter's report " \
        "goes after the retention time too"
