"""Watermarks per get operation (revision 0004), on SQLite and PostgreSQL: keys, listing,
reset, and an upgrade from 0002 that keeps the rows stored before."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from postroom.repository import Repository, open_repository
from postroom.repository._migrate import MIGRATIONS_DIR


@pytest.mark.fast_on_sqlite
def test_watermarks_are_kept_per_operation(repo: Repository) -> None:
    box = "imap://clinic%40example.com@mail.example.com:993/INBOX"
    repo.set_watermark(box, {"uid": 5}, operation="read-bodies")
    repo.set_watermark(box, {"uid": 9}, operation="read-attachments")
    repo.set_watermark("pop3://b@host:995", {"taken": ["x"]}, operation="read-bodies")
    assert repo.get_watermark(box, operation="read-bodies") == {"uid": 5}
    assert repo.get_watermark(box, operation="read-attachments") == {"uid": 9}
    assert repo.get_watermark(box) is None
    listed = [(w.operation, w.mailbox, w.value) for w in repo.list_watermarks()]
    assert listed == [("read-attachments", box, {"uid": 9}), ("read-bodies", box, {"uid": 5}),
                      ("read-bodies", "pop3://b@host:995", {"taken": ["x"]})]
    assert all(w.updated_at.tzinfo is not None for w in repo.list_watermarks())
    assert repo.delete_watermarks("read-bodies") == 2
    assert repo.delete_watermarks("read-bodies") == 0
    assert [w.operation for w in repo.list_watermarks()] == ["read-attachments"]


@pytest.mark.fast_on_sqlite
def test_an_upgrade_from_0002_keeps_the_watermarks_stored_before(database_url: str, home: Path) -> None:
    from alembic import command
    from alembic.config import Config

    engine = create_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
        conn.execute(text("INSERT INTO watermarks (mailbox, value, updated_at) VALUES "
                          "('imap://a@h:993/INBOX', '{\"uid\": 7}', CURRENT_TIMESTAMP)"))
    engine.dispose()
    repo = open_repository(database_url, home=home)
    try:
        [row] = repo.list_watermarks()
        assert (row.operation, row.mailbox, row.value) == ("", "imap://a@h:993/INBOX", {"uid": 7})
        assert repo.get_watermark("imap://a@h:993/INBOX") == {"uid": 7}
    finally:
        repo.close()


def test_the_api_lists_the_watermarks(repo: Repository) -> None:
    from postroom.web import create_app

    repo.set_watermark("pop3://b@host:995", {"protocol": "pop3", "taken": ["x", "y"], "kept": []}, operation="read")
    [route] = [r for r in create_app(repo).routes if getattr(r, "path", "") == "/api/watermarks"]
    [row] = route.endpoint()  # type: ignore[attr-defined] - no HTTP client (httpx) in the test environment
    assert (row["operation"], row["mailbox"], row["taken"]) == ("read", "pop3://b@host:995",
                                                                 "POP3: 2 UIDL(s) taken, 0 passed")
    assert row["updated_at"].endswith("+00:00")
