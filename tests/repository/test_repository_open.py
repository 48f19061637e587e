"""Opening the repository: home and URL resolution, errors, migrations, the public API."""

from __future__ import annotations

import multiprocessing
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

import postroom.repository as repository_pkg
from postroom.errors import ConfigError
from postroom.repository import ComponentRecord, data_home, open_repository
from postroom.repository._engine import normalize_url
from postroom.repository._migrate import HEAD, MIGRATIONS_DIR
from postroom.repository._schema import metadata


@pytest.mark.fast_on_sqlite
def test_public_api_is_pinned() -> None:
    assert sorted(repository_pkg.__all__) == sorted([
        "Repository", "ComponentRecord", "ExecutionRecord", "LogEntry", "DocumentErrorRecord",
        "ShapeDocumentRecord", "DryRunRecord", "JournalEntry", "ListenerHealth", "WatermarkRecord", "open_repository",
        "UserRecord", "SessionRecord", "ApiTokenRecord", "ScheduleFiring", "DeploymentRecord", "MailReport", "data_home",
        "default_database_url", "ComponentSummary", "Listing", "open_listing", "ChunkRecord", "open_run_repository",
    ])
    for name in repository_pkg.__all__:
        assert getattr(repository_pkg, name) is not None


def test_importing_the_package_does_not_import_sqlalchemy() -> None:
    """Every CLI command imports it; SQLAlchemy waits until a repository is opened."""
    code = "import sys, postroom.repository; print('sqlalchemy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.fast_on_sqlite
def test_defaults_come_from_postroom_home(home: Path) -> None:
    assert data_home() == home.resolve()
    repo = open_repository()
    repo.save_components([ComponentRecord(id="a", type="process", name="A", body={})])
    repo.close()
    assert (home / "postroom.db").stat().st_size > 0


@pytest.mark.fast_on_sqlite
def test_home_is_created_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "deep" / "postroom-home"
    monkeypatch.setenv("POSTROOM_HOME", str(target))
    monkeypatch.delenv("POSTROOM_DATABASE_URL", raising=False)
    old = os.umask(0o022)
    try:
        assert data_home() == target.resolve()
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    # An argument wins over the environment.
    other = tmp_path / "other"
    repo = open_repository(home=other)
    repo.close()
    assert (other / "postroom.db").exists() and not (target / "postroom.db").exists()


@pytest.mark.fast_on_sqlite
def test_home_defaults_to_dot_postroom(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POSTROOM_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data_home() == (tmp_path / ".postroom").resolve()


@pytest.mark.fast_on_sqlite
def test_url_from_environment(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "elsewhere.db"
    monkeypatch.setenv("POSTROOM_DATABASE_URL", f"sqlite:///{db}")
    open_repository().close()
    assert db.exists() and not (home / "postroom.db").exists()


@pytest.mark.fast_on_sqlite
def test_postgres_urls_get_the_psycopg_driver() -> None:
    for raw in ("postgresql://u:pw@db.example:5433/postroom", "postgres://u:pw@db.example:5433/postroom",
                "postgresql+psycopg://u:pw@db.example:5433/postroom"):
        url = normalize_url(raw)
        assert url.drivername == "postgresql+psycopg"
        assert (url.host, url.port, url.database, url.username) == ("db.example", 5433, "postroom", "u")


@pytest.mark.parametrize("raw, expected", [
    ("mysql://root:hunter2@db/postroom", "not supported"),
    ("postgresql+asyncpg://root:hunter2@db/postroom", "not supported"),
    ("not a url with hunter2", "not a valid URL"),
])
@pytest.mark.fast_on_sqlite
def test_bad_urls_are_config_errors_without_the_password(raw: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected) as info:
        open_repository(raw)
    assert "hunter2" not in str(info.value)
    assert "POSTROOM_DATABASE_URL" in str(info.value)
    assert info.value.exit_code == 2


@pytest.mark.fast_on_sqlite
def test_unreachable_postgres_is_a_config_error_with_the_password_masked(home: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(ConfigError) as info:
        open_repository(f"postgresql://postroom:hunter2@127.0.0.1:{port}/postroom", home=home)
    message = str(info.value)
    assert "hunter2" not in message and "***" in message
    assert "cannot open the database" in message and "POSTROOM_DATABASE_URL" in message
    assert info.value.__cause__ is None
    assert time.monotonic() - started < 15


def test_a_refusal_by_the_postgres_server_is_masked(postgres_server, home: Path) -> None:
    # The server answers, and refuses: the database does not exist.
    with pytest.raises(ConfigError) as info:
        open_repository(f"postgresql://postroom:hunter2@127.0.0.1:{postgres_server.port}/no_such_db", home=home)
    assert "hunter2" not in str(info.value)
    assert "no_such_db" in str(info.value) and "does not exist" in str(info.value)


@pytest.mark.fast_on_sqlite
def test_sqlite_file_in_a_missing_folder_is_a_config_error(tmp_path: Path, home: Path) -> None:
    with pytest.raises(ConfigError, match="cannot open the database"):
        open_repository(f"sqlite:///{tmp_path / 'missing' / 'x.db'}", home=home)


@pytest.mark.fast_on_sqlite
def test_in_memory_sqlite_works_across_threads(home: Path) -> None:
    import threading

    repo = open_repository("sqlite://", home=home)
    thread = threading.Thread(target=repo.set_persisted_properties, args=("p", {"a": "1"}))
    thread.start()
    thread.join()
    assert repo.get_persisted_properties("p") == {"a": "1"}
    repo.close()


@pytest.mark.fast_on_sqlite
def test_sqlite_uses_wal(home: Path) -> None:
    open_repository(home=home).close()
    engine = create_engine(f"sqlite:///{home / 'postroom.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()


@pytest.mark.fast_on_sqlite
def test_head_matches_the_migration_scripts() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    assert ScriptDirectory.from_config(config).get_heads() == [HEAD]


@pytest.mark.fast_on_sqlite
def test_migrated_schema_matches_the_metadata(database_url: str, home: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    open_repository(database_url, home=home).close()
    engine = create_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
        tables = set(inspect(conn).get_table_names())
    engine.dispose()
    assert diff == []
    assert tables == set(metadata.tables) | {"alembic_version"}


@pytest.mark.fast_on_sqlite
def test_opening_a_migrated_database_skips_alembic(database_url: str, home: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    open_repository(database_url, home=home).close()
    import alembic.command

    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("alembic upgrade ran on a database already at head")

    monkeypatch.setattr(alembic.command, "upgrade", refuse)  # cheap at head: no migration runs
    repo = open_repository(database_url, home=home)
    repo.close()


@pytest.mark.fast_on_sqlite
def test_a_newer_database_is_refused_clearly(database_url: str, home: Path) -> None:
    open_repository(database_url, home=home).close()
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(ConfigError, match="newer Postroom"):
        open_repository(database_url, home=home)


def _open_and_save(url: str, home: str, n: int) -> None:
    repo = open_repository(url, home=home)
    repo.save_components([ComponentRecord(id=f"c{n}", type="process", name=f"C{n}", body={"n": n})])
    repo.close()


def test_several_processes_opening_a_fresh_database_at_once(database_url: str, home: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_open_and_save, args=(database_url, str(home), n)) for n in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    repo = open_repository(database_url, home=home)
    assert sorted(c.id for c in repo.list_components()) == ["c0", "c1", "c2", "c3"]
    repo.close()


@pytest.mark.fast_on_sqlite
def test_migrations_ship_as_packages() -> None:
    """A non-editable install includes env.py and the revisions only if setuptools sees
    them: both folders are regular packages."""
    assert (MIGRATIONS_DIR / "__init__.py").is_file()
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "versions" / "__init__.py").is_file()
    assert [p.name for p in (MIGRATIONS_DIR / "versions").glob(f"{HEAD}_*.py")]


@pytest.mark.fast_on_sqlite
def test_database_and_its_wal_files_are_created_0600(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 7, item 17: the database (and SQLite's -wal and -shm, which take its mode) is
    readable by its owner only, whatever the umask; the folder is 0700."""
    import stat

    monkeypatch.delenv("POSTROOM_DATABASE_URL", raising=False)
    home = tmp_path / "fresh-home"
    old = os.umask(0)
    try:
        repo = open_repository(home=home)
        repo.save_components([ComponentRecord(id="a", type="process", name="A", body={})])
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in home.iterdir()}
        repo.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert modes.get("postroom.db") == 0o600, modes
    assert modes.get("postroom.db-wal") == 0o600, modes
    assert modes.get("postroom.db-shm") == 0o600, modes
