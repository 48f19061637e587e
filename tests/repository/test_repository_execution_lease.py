"""The lease of a running execution (revision 0003: host, pid, heartbeat) and the connector
counts recorded with it, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from postroom.repository import ExecutionRecord, Repository, open_repository
from postroom.repository._migrate import MIGRATIONS_DIR

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def _record(id: str = "e1", **kw: object) -> ExecutionRecord:
    return ExecutionRecord(id=id, process_id="proc", process_version=1, started_at=T0, **kw)


@pytest.mark.fast_on_sqlite
def test_a_new_execution_carries_its_lease_and_counts(repo: Repository) -> None:
    repo.create_execution(_record(lease_host="host-a", lease_pid=4242, heartbeat_at=T0))
    got = repo.get_execution("e1")
    assert (got.lease_host, got.lease_pid, got.heartbeat_at, got.connector_counts) == ("host-a", 4242, T0, {})
    repo.update_execution("e1", connector_counts={"send": {"completed": 2, "failed": 1}})
    assert repo.get_execution("e1").connector_counts == {"send": {"completed": 2, "failed": 1}}


@pytest.mark.fast_on_sqlite
def test_heartbeat_only_by_the_holder(repo: Repository) -> None:
    repo.create_execution(_record(lease_host="host-a", lease_pid=4242, heartbeat_at=T0))
    assert repo.heartbeat_execution("e1", "host-a", 4242) is True
    beat = repo.get_execution("e1").heartbeat_at
    assert beat > T0
    assert repo.heartbeat_execution("e1", "host-a", 999) is False
    assert repo.heartbeat_execution("e1", "host-b", 4242) is False
    assert repo.get_execution("e1").heartbeat_at == beat


@pytest.mark.fast_on_sqlite
def test_claim_is_a_compare_and_set(repo: Repository) -> None:
    repo.create_execution(_record(lease_host="host-a", lease_pid=4242, heartbeat_at=T0, status="stopped",
                                  ended_at=T0))
    seen = repo.get_execution("e1")
    held_by = (seen.lease_host, seen.lease_pid, seen.heartbeat_at)
    assert repo.claim_execution("e1", "host-b", 7, held_by) is True
    got = repo.get_execution("e1")
    assert (got.lease_host, got.lease_pid, got.status, got.ended_at) == ("host-b", 7, "running", None)
    # a second resume that read the same old lease loses
    assert repo.claim_execution("e1", "host-c", 8, held_by) is False
    assert repo.get_execution("e1").lease_pid == 7


@pytest.mark.fast_on_sqlite
def test_an_execution_without_a_lease_can_be_claimed_once(repo: Repository) -> None:
    repo.create_execution(_record())
    assert repo.claim_execution("e1", "host-b", 7, (None, None, None)) is True
    assert repo.claim_execution("e1", "host-c", 8, (None, None, None)) is False


@pytest.mark.fast_on_sqlite
def test_racing_claims_have_one_winner(repo: Repository) -> None:
    repo.create_execution(_record(lease_host="host-a", lease_pid=1, heartbeat_at=T0))
    wins: list[int] = []
    barrier = threading.Barrier(6)

    def claim(pid: int) -> None:
        barrier.wait()
        if repo.claim_execution("e1", "host-x", pid, ("host-a", 1, T0)):
            wins.append(pid)

    threads = [threading.Thread(target=claim, args=(pid,)) for pid in range(100, 106)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(wins) == 1
    assert repo.get_execution("e1").lease_pid == wins[0]


def test_executions_recorded_before_0003_keep_their_rows(database_url: str, home: Path) -> None:
    """A database at revision 0002 with an execution in it upgrades; the row reads back
    with no lease and no connector counts."""
    from alembic import command
    from alembic.config import Config

    engine = create_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
        conn.execute(text(
            "INSERT INTO executions (id, process_id, process_version, process_name, status, mode, started_at, "
            "documents_in, documents_out, documents_failed, node, request, truncated) VALUES "
            "('old', 'proc', 1, 'P', 'running', 'normal', :t, 3, 2, 1, 'h', '{}', false)"), {"t": T0})
    engine.dispose()
    repo = open_repository(database_url, home=home)
    try:
        got = repo.get_execution("old")
        assert (got.status, got.documents_out, got.lease_pid, got.heartbeat_at, got.connector_counts) == (
            "running", 2, None, None, {})
    finally:
        repo.close()
