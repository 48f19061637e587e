"""The send journal's batch calls: what a sender uses to journal a whole batch at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from postroom.errors import NotFound
from postroom.repository import Repository


@pytest.mark.fast_on_sqlite
def test_begin_many_inserts_new_and_returns_existing_entries_unchanged(repo: Repository) -> None:
    repo.journal_begin("e1", "send/1", "<old-1@x>")
    repo.journal_finish("e1", "send/1", "sent", "250 queued as A")
    items = [(f"send/{n}", f"<new-{n}@x>") for n in range(1200)]  # more than one chunk
    entries = repo.journal_begin_many("e1", items)
    assert len(entries) == 1200
    assert (entries["send/1"].message_id, entries["send/1"].status, entries["send/1"].reply) == (
        "<old-1@x>", "sent", "250 queued as A")
    assert (entries["send/0"].message_id, entries["send/0"].status) == ("<new-0@x>", "pending")
    assert entries["send/1199"].message_id == "<new-1199@x>"
    # Nothing leaks into another execution; an empty list is no transaction at all.
    assert repo.journal_entries("e2") == {}
    assert repo.journal_begin_many("e2", []) == {}
    # A second call is a no-op that answers the same entries.
    again = repo.journal_begin_many("e1", [("send/0", "<other@x>")])
    assert again["send/0"].message_id == "<new-0@x>"


@pytest.mark.fast_on_sqlite
def test_finish_many_updates_each_entry(repo: Repository) -> None:
    repo.journal_begin_many("e1", [("a", "<a@x>"), ("b", "<b@x>"), ("c", "<c@x>")])
    repo.journal_finish_many("e1", [("a", "sent", "250 ok"), ("b", "failed", "550 no such user")])
    entries = repo.journal_entries("e1")
    assert [(k, e.status, e.reply) for k, e in sorted(entries.items())] == [
        ("a", "sent", "250 ok"), ("b", "failed", "550 no such user"), ("c", "pending", "")]
    # The driver-level write stores the time as SQLAlchemy would: read back aware, in UTC, not before begin.
    assert entries["a"].updated_at.utcoffset() == timedelta(0)
    assert entries["c"].updated_at <= entries["a"].updated_at <= datetime.now(UTC)
    repo.journal_finish_many("e1", [])


@pytest.mark.fast_on_sqlite
def test_finish_many_of_a_key_never_begun_raises_and_keeps_the_others(repo: Repository) -> None:
    repo.journal_begin("e1", "a", "<a@x>")
    with pytest.raises(NotFound):
        repo.journal_finish_many("e1", [("a", "sent", "250 ok"), ("never-begun", "sent", "")])
    assert repo.journal_entries("e1")["a"].status == "sent"


@pytest.mark.fast_on_sqlite
def test_a_failed_journal_write_is_reported_and_the_next_one_reconnects(repo: Repository) -> None:
    import os

    from postroom.errors import ConnectionFailed

    dbapi = repo.engine.dialect.dbapi  # type: ignore[attr-defined]

    class Broken:
        invalidated = False

        def cursor(self):
            return self

        def execute(self, *args):
            raise dbapi.OperationalError("disk I/O error")

        executemany = execute

        def close(self):
            pass

        def rollback(self):
            pass

        def invalidate(self):
            Broken.invalidated = True

    repo.journal_begin_many("e1", [("a", "<a@x>")])
    repo._journal_raw = (os.getpid(), Broken())  # type: ignore[attr-defined]
    with pytest.raises(ConnectionFailed, match="disk I/O error"):
        repo.journal_finish_many("e1", [("a", "sent", "250 ok")])
    assert Broken.invalidated
    repo.journal_finish_many("e1", [("a", "sent", "250 ok")])
    assert repo.journal_entries("e1")["a"].status == "sent"


def test_a_forked_child_writes_the_journal_on_its_own_connection(repo: Repository) -> None:
    import multiprocessing

    repo.journal_begin_many("e1", [("parent", "<p@x>"), ("child", "<c@x>")])
    repo.journal_finish_many("e1", [("parent", "sent", "")])  # the parent now holds its connection

    def child() -> None:
        repo.journal_finish_many("e1", [("child", "sent", "from the child")])

    process = multiprocessing.get_context("fork").Process(target=child)
    process.start()
    process.join(30)
    assert process.exitcode == 0
    repo.journal_finish_many("e1", [("parent", "sent", "still fine")])
    entries = repo.journal_entries("e1")
    assert (entries["child"].reply, entries["parent"].reply) == ("from the child", "still fine")
