"""A run's own reads and writes (repository/_plain.py), on SQLite through sqlite3 without
SQLAlchemy (repository/_runstore.py) and on PostgreSQL through SQLAlchemy's driver
connection: they store exactly what SQLAlchemy's Core tables store, read back what they
read, and everything else goes to the full repository."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from postroom.errors import ConfigError, NotFound
from postroom.repository import (
    ComponentRecord,
    ExecutionRecord,
    LogEntry,
    Repository,
    ShapeDocumentRecord,
    open_repository,
    open_run_repository,
)
from postroom.repository._migrate import HEAD, MIGRATIONS_DIR
from postroom.repository._runstore import SqliteRunStore
from postroom.repository._schema import executions, send_journal

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
PARIS = timezone(timedelta(hours=2))


def full_record(execution_id: str) -> ExecutionRecord:
    return ExecutionRecord(
        id=execution_id, process_id="p1", process_version=3, process_name="Annonce é", status="running",
        mode="test", started_at=T0.astimezone(PARIS), documents_in=4, documents_out=3, documents_failed=1,
        error="boom «x»", node="host-1", request={"inputs": ["a.csv"], "ünïcode": True}, truncated=True,
        lease_host="host-1", lease_pid=4242, heartbeat_at=T0 + timedelta(seconds=1),
        connector_counts={"send": {"completed": 3, "failed": 1}})


@pytest.fixture
def store(repo: Repository, database_url: str, home: Path) -> Repository:
    """The run's repository on the database ``repo`` created (at the current schema)."""
    opened = open_run_repository(database_url, home=home)
    yield opened
    opened.close()


def raw_rows(database_url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


@pytest.mark.fast_on_sqlite
def test_sqlite_at_head_gets_the_plain_store(store: Repository, database_url: str) -> None:
    assert isinstance(store, SqliteRunStore) == database_url.startswith("sqlite")


@pytest.mark.fast_on_sqlite
def test_an_execution_is_stored_as_sqlalchemy_stores_it(repo: Repository, store: Repository,
                                                         database_url: str) -> None:
    store.create_execution(full_record("plain"))
    core = full_record("core")
    with repo.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(executions.insert(), {name: getattr(core, name) for name in core.__dataclass_fields__})
    plain_row, core_row = (raw_rows(database_url, f"SELECT * FROM executions WHERE id = '{i}'")[0]
                           for i in ("plain", "core"))
    assert plain_row[1:] == core_row[1:]
    [read_by_core] = [r for r in repo.list_executions() if r.id == "plain"]  # SQLAlchemy's Core select
    assert read_by_core == store.get_execution("plain") == full_record("plain")


@pytest.mark.fast_on_sqlite
def test_updates_heartbeats_and_errors(repo: Repository, store: Repository) -> None:
    store.create_execution(ExecutionRecord(id="e1", process_id="p1", process_version=1))
    started = store.get_execution("e1").started_at
    assert started is not None and started.tzinfo is UTC
    ended = T0 + timedelta(minutes=5)
    store.update_execution("e1", status="complete", ended_at=ended.astimezone(PARIS), documents_out=7,
                           connector_counts={"send": {"completed": 7, "failed": 0}}, request=None, truncated=False)
    store.update_execution("e1")  # nothing to set: only checks it exists
    [record] = repo.list_executions()
    assert (record.status, record.ended_at, record.documents_out, record.request, record.truncated) == (
        "complete", ended, 7, {}, False)
    assert record == store.get_execution("e1")
    with pytest.raises(ConfigError, match="execution 'e1' already exists"):
        store.create_execution(ExecutionRecord(id="e1", process_id="p1", process_version=1))
    with pytest.raises(TypeError, match="not execution fields: colour"):
        store.update_execution("e1", colour="blue")
    with pytest.raises(NotFound, match="execution 'nope' does not exist"):
        store.update_execution("nope", status="failed")
    with pytest.raises(NotFound):
        store.update_execution("nope")
    assert store.get_execution("nope") is None
    repo.update_execution("e1", lease_host="h", lease_pid=7)
    assert store.heartbeat_execution("e1", "h", 7) is True
    assert store.heartbeat_execution("e1", "h", 8) is False
    beat = repo.list_executions()[0].heartbeat_at
    assert beat is not None and abs(beat - datetime.now(UTC)) < timedelta(minutes=5)


@pytest.mark.fast_on_sqlite
def test_components_secrets_and_properties(repo: Repository, store: Repository) -> None:
    repo.save_components([ComponentRecord(id="p1", type="process", name="Old", folder="F", body={"b": 1, "a": "é"},
                                          source_file="p1.yaml")])
    repo.save_components([ComponentRecord(id="p1", type="process", name="New", folder="F", body={"b": 2, "a": "é"})])
    versions = repo.component_versions("p1")  # SQLAlchemy's Core select
    assert store.get_component("p1") == versions[-1]
    assert store.get_component("p1", 1) == versions[0]
    assert list(store.get_component("p1", 1).body) == ["b", "a"]  # the order written
    assert store.get_component("p1", 9) is None and store.get_component("nope") is None
    repo.set_secret("pw", "s3cret é")
    assert store.get_secret("pw") == "s3cret é"
    assert store.get_secret("nope") is None
    repo.set_persisted_properties("p1", {"b": "2", "a": "1"})
    assert store.get_persisted_properties("p1") == {"a": "1", "b": "2"}
    assert store.get_persisted_properties("p2") == {}


@pytest.mark.fast_on_sqlite
def test_logs_and_the_send_journal(repo: Repository, store: Repository, database_url: str) -> None:
    store.create_execution(ExecutionRecord(id="e1", process_id="p1", process_version=1))
    logs = [LogEntry(time=T0 + timedelta(microseconds=i), level="info", message=f"line {i} é", shape="s" if i else None)
            for i in range(2500)]
    store.add_logs("e1", iter(logs))
    store.add_logs("e1", [])
    assert repo.get_logs("e1") == logs
    first = store.journal_begin_many("e1", [("k1", "<m1@x>"), ("k2", "<m2@x>"), ("k1", "<other@x>")])
    assert {k: e.message_id for k, e in first.items()} == {"k1": "<m1@x>", "k2": "<m2@x>"}
    store.journal_finish_many("e1", [("k1", "sent", "250 ok")])
    again = store.journal_begin_many("e1", [("k1", "<new@x>"), ("k3", "<m3@x>")])  # k1 keeps its letter
    assert (again["k1"].message_id, again["k1"].status, again["k1"].reply) == ("<m1@x>", "sent", "250 ok")
    assert again["k3"].message_id == "<m3@x>" and set(again) == {"k1", "k3"}
    with pytest.raises(NotFound, match="never begun"):
        store.journal_finish_many("e1", [("k2", "failed", "550 no"), ("ghost", "sent", "")])
    entries = repo.journal_entries("e1")  # SQLAlchemy's Core select
    assert {k: (e.message_id, e.status, e.reply) for k, e in entries.items()} == {
        "k1": ("<m1@x>", "sent", "250 ok"), "k2": ("<m2@x>", "failed", "550 no"), "k3": ("<m3@x>", "pending", "")}
    assert again["k1"].updated_at == entries["k1"].updated_at
    core_time = repo.engine.dialect.name  # type: ignore[attr-defined]
    with repo.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(send_journal.insert(), {"execution_id": "e1", "key": "core", "message_id": "<c@x>",
                                             "status": "sent", "reply": "", "updated_at": entries["k1"].updated_at})
    stored = dict(raw_rows(database_url, "SELECT \"key\", updated_at FROM send_journal WHERE \"key\" IN ('k1', 'core')"))
    assert stored["k1"] == stored["core"], core_time


@pytest.mark.fast_on_sqlite
def test_what_a_run_store_does_not_serve_goes_to_the_repository(store: Repository) -> None:
    store.create_execution(ExecutionRecord(id="e1", process_id="p1", process_version=1, mode="test"))
    store.add_shape_documents("e1", [ShapeDocumentRecord(shape="s", seq=0, document=0, data=b"x", properties={},
                                                         dynamic={})])
    assert [d.data for d in store.get_shape_documents("e1")] == [b"x"]
    assert [e.id for e in store.list_executions()] == ["e1"]


def test_a_run_on_an_old_database_migrates_it_first(home: Path) -> None:
    """The run's schema check sends an older SQLite database through Alembic, as the
    repository always has."""
    from alembic import command
    from alembic.config import Config

    url = f"sqlite:///{home / 'postroom.db'}"
    engine = create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
    engine.dispose()
    opened = open_run_repository(url, home=home)
    try:
        assert not isinstance(opened, SqliteRunStore)
        opened.create_execution(ExecutionRecord(id="e1", process_id="p1", process_version=1))
    finally:
        opened.close()
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
        assert conn.execute(select(executions.c.id)).scalars().all() == ["e1"]
    engine.dispose()
    store = open_run_repository(url, home=home)
    try:
        assert isinstance(store, SqliteRunStore)  # from then on: the plain store
    finally:
        store.close()


def test_a_new_home_is_created_by_the_repository(home: Path) -> None:
    opened = open_run_repository(home=home)
    try:
        assert not isinstance(opened, SqliteRunStore)
        assert opened.get_component("x") is None
    finally:
        opened.close()
    reopened = open_repository(home=home)
    reopened.close()
