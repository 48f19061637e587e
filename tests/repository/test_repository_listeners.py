"""Listener health rows (revision 0002), on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from postroom.repository import ListenerHealth, Repository, open_repository


def _health(listener: str, instance: str, **fields) -> ListenerHealth:  # noqa: ANN003
    return ListenerHealth(listener=listener, instance=instance, **fields)


@pytest.mark.fast_on_sqlite
def test_save_replaces_the_row_of_a_listener_and_instance(repo: Repository) -> None:
    assert repo.list_listener_health() == []
    started = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    repo.save_listener_health(_health(
        "replies", "host:10:aa", state="starting", resource="listener:imap://clinic@mail:993/INBOX",
        node="host", mode="idle", interval_seconds=30, started_at=started, details={"pid": 10}))
    (row,) = repo.list_listener_health()
    assert (row.listener, row.instance, row.state, row.mode, row.interval_seconds) == (
        "replies", "host:10:aa", "starting", "idle", 30.0)
    assert row.resource == "listener:imap://clinic@mail:993/INBOX"
    assert row.started_at == started and row.started_at.tzinfo is not None
    assert row.updated_at is not None and row.updated_at.tzinfo is not None  # stamped
    assert (row.consecutive_failures, row.documents_taken, row.executions) == (0, 0, 0)
    assert row.last_error is None and row.last_check_at is None and row.details == {"pid": 10}

    checked = datetime(2026, 3, 1, 8, 5, tzinfo=UTC)
    row.state, row.last_check_at, row.documents_taken, row.executions = "running", checked, 7, 2
    row.last_error, row.last_error_at, row.consecutive_failures = "connection refused: ünïcode", checked, 3
    row.last_execution_id, row.updated_at = "e" * 32, None
    repo.save_listener_health(row)
    (again,) = repo.list_listener_health()
    assert (again.state, again.last_check_at, again.documents_taken, again.executions) == ("running", checked, 7, 2)
    assert (again.last_error, again.consecutive_failures, again.last_execution_id) == (
        "connection refused: ünïcode", 3, "e" * 32)


@pytest.mark.fast_on_sqlite
def test_rows_per_instance_listing_and_deleting(repo: Repository) -> None:
    old = datetime.now(UTC) - timedelta(days=3)
    repo.save_listener_health(_health("b", "i2", state="standby"))
    repo.save_listener_health(_health("a", "i2", state="running"))
    repo.save_listener_health(_health("a", "i1", state="stopped", updated_at=old))
    assert [(h.listener, h.instance) for h in repo.list_listener_health()] == [("a", "i1"), ("a", "i2"), ("b", "i2")]
    assert [h.instance for h in repo.list_listener_health("a")] == ["i1", "i2"]
    assert repo.list_listener_health("nobody") == []

    assert repo.delete_listener_health(updated_before=datetime.now(UTC) - timedelta(days=1)) == 1
    assert [(h.listener, h.instance) for h in repo.list_listener_health()] == [("a", "i2"), ("b", "i2")]
    assert repo.delete_listener_health(listener="a", instance="other") == 0
    assert repo.delete_listener_health(instance="i2") == 2
    assert repo.list_listener_health() == []


def _writer(url: str, home: str, instance: str, count: int) -> None:
    repo = open_repository(url, home=home)
    try:
        for n in range(count):
            repo.save_listener_health(_health("shared", instance, state="running", documents_taken=n))
    finally:
        repo.close()


def test_serve_processes_write_their_rows_concurrently(database_url: str, home: Path) -> None:
    """Two processes upserting their own rows of one listener at once: no lost row, no error."""
    repo = open_repository(database_url, home=home)  # migrate once before the writers race
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(database_url, str(home), f"i{n}", 40)) for n in range(2)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
        assert proc.exitcode == 0
    rows = repo.list_listener_health("shared")
    repo.close()
    assert [(h.instance, h.documents_taken) for h in rows] == [("i0", 39), ("i1", 39)]
