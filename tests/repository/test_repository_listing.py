"""Listings for the commands that only read (repository/_listing.py): on a current SQLite
database they read with plain sqlite3 and give exactly what the repository gives; a new,
old or PostgreSQL database goes through the repository, which creates or upgrades it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

import postroom.repository as repository_pkg
from postroom.repository import (
    ComponentRecord,
    ComponentSummary,
    ExecutionRecord,
    Repository,
    open_listing,
    open_repository,
)
from postroom.repository._migrate import HEAD, MIGRATIONS_DIR

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def fill(repo: Repository) -> None:
    repo.save_components([
        ComponentRecord(id="p1", type="process", name="Announcement", folder="Tutorials/Dr Smith", body={"v": 1}),
        ComponentRecord(id="c1", type="connection", name="Mail", folder="Tutorials", body={"s": "é"}),
        ComponentRecord(id="p2", type="process", name="Top level", body={}),
        ComponentRecord(id="p3", type="process", name="Elsewhere", folder="TutorialsX", body={}),
    ])
    repo.save_components([ComponentRecord(id="p1", type="process", name="Announcement v2",
                                          folder="Tutorials/Dr Smith", body={"v": 2})])
    for i in range(12):
        repo.create_execution(ExecutionRecord(
            id=f"e{i:02d}", process_id="p1" if i % 3 else "p2", process_version=1, process_name="A",
            status=("complete", "failed", "complete_with_errors")[i % 3], started_at=T0 + timedelta(minutes=i // 2),
            ended_at=None if i == 5 else T0 + timedelta(minutes=i, seconds=3), documents_in=i, documents_out=i // 2,
            error="boom" if i == 4 else None, request={"trigger": "listener", "n": i} if i % 2 else {},
            truncated=i == 7, connector_counts={"send": {"completed": i, "failed": 0}} if i % 4 else {}))


def summaries(records: list[ComponentRecord]) -> list[ComponentSummary]:
    return [ComponentSummary(r.id, r.type, r.name, r.folder, r.version, r.created_at) for r in records]


FILTERS = [(None, None), ("process", None), (None, "Tutorials"), (None, "/Tutorials/"), (None, ""),
           ("connection", "Tutorials"), (None, "Nowhere")]
EXECUTION_FILTERS = [(None, None, 50), ("p1", None, 50), (None, "failed", 50), ("p2", "complete", 2), (None, None, 0),
                     (None, None, 3)]


@pytest.mark.fast_on_sqlite
def test_a_listing_gives_what_the_repository_gives(repo: Repository, database_url: str, home: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    fill(repo)
    expected_components = {f: summaries(repo.list_components(*f)) for f in FILTERS}
    expected_executions = {f: repo.list_executions(*f) for f in EXECUTION_FILTERS}
    if database_url.startswith("sqlite"):  # the quick path: the repository is never opened
        def refuse(*_a: object, **_k: object) -> None:
            raise AssertionError("the listing opened the full repository on a current SQLite database")

        monkeypatch.setattr(repository_pkg, "open_repository", refuse)
    listing = open_listing(database_url, home=home)
    try:
        for f, expected in expected_components.items():
            assert listing.components(*f) == expected, f
        for g, wanted in expected_executions.items():
            assert listing.executions(*g) == wanted, g
    finally:
        listing.close()
    if not database_url.startswith("sqlite"):
        assert [repo.list_component_summaries(*f) for f in FILTERS] == list(expected_components.values())


@pytest.mark.fast_on_sqlite
def test_a_listing_of_a_new_database_creates_it(database_url: str, home: Path) -> None:
    listing = open_listing(database_url, home=home)
    try:
        assert (listing.components(), listing.executions()) == ([], [])
    finally:
        listing.close()
    assert revision(database_url) == HEAD


@pytest.mark.fast_on_sqlite
def test_a_listing_of_an_old_database_upgrades_it_first(database_url: str, home: Path) -> None:
    """The schema check that skips migrations at head still sends an older database (here
    0002, with an execution and a component in it) through Alembic before it is read."""
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
            "('old', 'proc', 1, 'P', 'complete', 'normal', :t, 3, 2, 1, 'h', '{}', false)"),
            {"t": T0.replace(tzinfo=None)})
        conn.execute(text("INSERT INTO components (id, version, type, name, folder, body, created_at) VALUES "
                          "('old-c', 1, 'process', 'Old', '', '{}', :t)"), {"t": T0.replace(tzinfo=None)})
    engine.dispose()
    assert revision(database_url) == "0002"
    listing = open_listing(database_url, home=home)
    try:
        [execution] = listing.executions()
        assert (execution.id, execution.started_at, execution.connector_counts, execution.lease_pid) == (
            "old", T0, {}, None)
        assert listing.components() == [ComponentSummary("old-c", "process", "Old", "", 1, T0)]
    finally:
        listing.close()
    assert revision(database_url) == HEAD


@pytest.mark.fast
@pytest.mark.parametrize("stored", ["2026-03-01 12:00:00.5", "2026-03-01 14:00:00.123456+02:00", "2026-03-01T12:00:00",
                                    "2026-03-01"])
def test_times_written_by_others_read_as_the_repository_reads_them(home: Path, stored: str) -> None:
    repo = open_repository(home=home)
    engine = create_engine(f"sqlite:///{home / 'postroom.db'}")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO components (id, version, type, name, folder, body, created_at) VALUES "
                          "('odd', 1, 'process', 'Odd', '', '{}', :t)"), {"t": stored})
    engine.dispose()
    listing = open_listing(home=home)
    try:
        assert listing.components() == summaries(repo.list_components())
    finally:
        listing.close()
        repo.close()


def revision(url: str) -> str:
    engine = create_engine(url)
    with engine.connect() as conn:
        value = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    return str(value)
