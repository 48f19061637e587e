"""Secrets are encrypted at rest; the key comes from POSTROOM_SECRET_KEY or a 0600 key file."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from postroom.errors import ConfigError
from postroom.repository import Repository, open_repository
from postroom.repository._crypto import _create_key_file

CLEAR = "s3cr3t-Päss-word-4711"


def _query(url: str, sql: str) -> list:
    """Read the tables directly, bypassing the repository."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)))
    finally:
        engine.dispose()


@pytest.mark.fast_on_sqlite
def test_set_get_list_delete(repo: Repository) -> None:
    assert repo.get_secret("gmail") is None
    repo.set_secret("gmail", CLEAR)
    repo.set_secret("another", "x")
    assert repo.get_secret("gmail") == CLEAR
    listed = repo.list_secrets()
    assert [name for name, _ in listed] == ["another", "gmail"]
    assert all(when.tzinfo is not None for _, when in listed)
    assert CLEAR not in repr(listed)

    before = dict(listed)["gmail"]
    repo.set_secret("gmail", "changed")
    assert repo.get_secret("gmail") == "changed"
    assert dict(repo.list_secrets())["gmail"] >= before

    assert repo.delete_secret("gmail") is True
    assert repo.get_secret("gmail") is None
    assert repo.delete_secret("gmail") is False


@pytest.mark.fast_on_sqlite
def test_only_ciphertext_is_stored(repo: Repository, database_url: str) -> None:
    repo.set_secret("gmail", CLEAR)
    rows = _query(database_url, "SELECT name, ciphertext FROM secrets")
    assert [r.name for r in rows] == ["gmail"]
    assert CLEAR not in rows[0].ciphertext
    assert rows[0].ciphertext.startswith("gAAAA")  # a Fernet token


@pytest.mark.fast_on_sqlite
def test_clear_text_is_nowhere_in_the_sqlite_files(home: Path) -> None:
    repo = open_repository(home=home)
    repo.set_secret("gmail", CLEAR)
    repo.set_secret("gmail", CLEAR + "-2")  # an update must not leave the old value behind either
    assert repo.get_secret("gmail") == CLEAR + "-2"
    files = sorted(home.glob("postroom.db*"))
    assert home / "postroom.db" in files
    for path in files:  # the database and its WAL, before the checkpoint ...
        data = path.read_bytes()
        assert CLEAR.encode() not in data, path
        assert CLEAR.encode("utf-16-le") not in data, path
    repo.close()  # ... and after it
    data = (home / "postroom.db").read_bytes()
    assert len(data) > 0 and CLEAR.encode() not in data


@pytest.mark.fast_on_sqlite
def test_key_file_is_created_on_first_use_with_mode_0600(home: Path) -> None:
    old = os.umask(0)  # even with a permissive umask
    try:
        repo = open_repository(home=home)
        assert not (home / "secret.key").exists()  # opening alone creates no key
        repo.set_secret("a", "b")
    finally:
        os.umask(old)
    key_file = home / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    Fernet(key_file.read_text().strip())  # a valid key
    assert not [p for p in home.iterdir() if p.name.startswith(".secret.key")]  # no temp file left
    repo.close()
    # The same home decrypts with the same key in a new process-like open.
    again = open_repository(home=home)
    assert again.get_secret("a") == "b"
    again.close()


@pytest.mark.fast_on_sqlite
def test_racing_key_file_creation_agrees_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "k" / "secret.key"
    barrier = threading.Barrier(8)
    keys: list[str] = []

    def create() -> None:
        barrier.wait()
        _create_key_file(path)
        keys.append(path.read_text())

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(keys) == 8 and len(set(keys)) == 1
    assert sorted(p.name for p in path.parent.iterdir()) == ["secret.key"]


@pytest.mark.fast_on_sqlite
def test_env_key_is_used_and_no_key_file_is_written(repo: Repository, home: Path,
                                                      monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("POSTROOM_SECRET_KEY", key)
    env_repo = open_repository(database_url, home=home)
    env_repo.set_secret("gmail", CLEAR)
    assert not (home / "secret.key").exists()
    [(token,)] = _query(database_url, "SELECT ciphertext FROM secrets")
    assert Fernet(key.encode()).decrypt(token.encode()).decode() == CLEAR
    env_repo.close()


@pytest.mark.fast_on_sqlite
def test_wrong_key_gives_a_clear_error_without_values(repo: Repository, home: Path,
                                                       monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    repo.set_secret("gmail", CLEAR)  # with the key file
    wrong = Fernet.generate_key().decode()
    monkeypatch.setenv("POSTROOM_SECRET_KEY", wrong)
    other = open_repository(database_url, home=home)
    with pytest.raises(ConfigError) as info:
        other.get_secret("gmail")
    message = str(info.value)
    assert "cannot be decrypted" in message
    assert "POSTROOM_SECRET_KEY" in message and "secret.key" in message
    assert "'gmail'" in message
    assert CLEAR not in message and wrong not in message and "gAAAA" not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert info.value.exit_code == 2
    other.close()


@pytest.mark.fast_on_sqlite
def test_key_rotation_decrypts_with_any_listed_key(repo: Repository, home: Path,
                                                    monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("POSTROOM_SECRET_KEY", old)
    first = open_repository(database_url, home=home)
    first.set_secret("s", CLEAR)
    first.close()
    monkeypatch.setenv("POSTROOM_SECRET_KEY", f"{new},{old}")
    rotated = open_repository(database_url, home=home)
    assert rotated.get_secret("s") == CLEAR
    rotated.set_secret("t", "fresh")  # encrypted with the first (new) key
    rotated.close()
    monkeypatch.setenv("POSTROOM_SECRET_KEY", new)
    only_new = open_repository(database_url, home=home)
    assert only_new.get_secret("t") == "fresh"
    with pytest.raises(ConfigError, match="cannot be decrypted"):
        only_new.get_secret("s")
    only_new.close()


@pytest.mark.fast_on_sqlite
def test_invalid_env_key_is_reported_without_echoing_it(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bogus = "not-a-key-but-maybe-a-password"
    monkeypatch.setenv("POSTROOM_SECRET_KEY", bogus)
    repo = open_repository(home=home)
    with pytest.raises(ConfigError, match="not a valid Fernet key") as info:
        repo.set_secret("a", CLEAR)
    assert bogus not in str(info.value) and CLEAR not in str(info.value)
    assert "POSTROOM_SECRET_KEY" in str(info.value)
    repo.close()


@pytest.mark.fast_on_sqlite
def test_set_secret_needs_a_name(repo: Repository) -> None:
    with pytest.raises(ConfigError):
        repo.set_secret("  ", CLEAR)
    assert repo.list_secrets() == []


def test_missing_key_file_is_not_replaced_while_secrets_exist(repo: Repository, home: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 7, item 17: reading a secret after secret.key was deleted made a new key (and
    then 'cannot be decrypted'); now it stops, names the secrets and makes no key."""
    monkeypatch.delenv("POSTROOM_SECRET_KEY", raising=False)
    repo.set_secret("smtp", CLEAR)
    url = repo.engine.url.render_as_string(hide_password=False)
    repo.close()
    (home / "secret.key").unlink()
    again = open_repository(url, home=home)
    try:
        with pytest.raises(ConfigError) as caught:
            again.get_secret("smtp")
        assert "is missing" in caught.value.message and "smtp" in caught.value.message
        assert CLEAR not in str(caught.value)
        assert not (home / "secret.key").exists()
    finally:
        again.close()
