"""The send journal in the SQL repository: one entry per side effect, begun before it and
finished after, written on the driver's own connection where speed matters."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Row, and_, select, update

from ..errors import ConnectionFailed, NotFound
from . import _plain as plain
from ._engine import URL_ENV
from ._records import (
    JournalEntry,
)
from ._schema import (
    send_journal,
    utcnow,
)
from ._sql_core import IN_CHUNK, SqlCore, driver_message, in_chunks

T = TypeVar("T")


class _CursorDb:
    """A driver cursor running ``_plain.py``'s statements (``?`` marks; ``%s`` for psycopg)."""

    def __init__(self, cursor: Any, sqlite: bool) -> None:
        self.cursor, self.sqlite = cursor, sqlite

    def _sql(self, sql: str) -> str:
        return sql if self.sqlite else sql.replace("?", "%s")

    def execute(self, sql: str, params: Any = ()) -> Any:
        self.cursor.execute(self._sql(sql), tuple(params))
        return self.cursor

    def executemany(self, sql: str, rows: Any) -> Any:
        self.cursor.executemany(self._sql(sql), rows)
        return self.cursor


class JournalStore(SqlCore):
    """The send journal (exactly-once bookkeeping for sends)."""

    # -- send journal ---------------------------------------------------------------------------------
    @staticmethod
    def _journal(row: Row[Any]) -> JournalEntry:
        return JournalEntry(execution_id=row.execution_id, key=row.key, message_id=row.message_id,
                            status=row.status, reply=row.reply, updated_at=row.updated_at)

    def journal_begin(self, execution_id: str, key: str, message_id: str) -> JournalEntry:
        """Insert-or-get on the primary key (execution_id, key): safe when two workers race,
        the loser gets the winner's entry (and so its Message-ID)."""
        stmt = self._insert(send_journal).on_conflict_do_nothing(index_elements=["execution_id", "key"])
        with self._write() as conn:
            conn.execute(stmt, {"execution_id": execution_id, "key": key, "message_id": message_id,
                                "status": "pending", "reply": "", "updated_at": utcnow()})
            row = conn.execute(select(send_journal).where(send_journal.c.execution_id == execution_id,
                                                          send_journal.c.key == key)).one()
        return self._journal(row)

    def journal_finish(self, execution_id: str, key: str, status: str, reply: str = "") -> None:
        """NotFound when ``journal_begin`` was not called for the key."""
        with self._write() as conn:
            count = conn.execute(update(send_journal)
                                 .where(send_journal.c.execution_id == execution_id, send_journal.c.key == key)
                                 .values(status=status, reply=reply or "", updated_at=utcnow())).rowcount
        if count == 0:
            raise NotFound(f"no journal entry {key!r} in execution {execution_id!r}",
                           fix="call journal_begin before the side effect")

    def journal_begin_many(self, execution_id: str, items: list[tuple[str, str]]) -> dict[str, JournalEntry]:
        """One transaction for the whole list: insert-or-get as ``journal_begin`` does
        (``_plain.begin_journal``), on the driver's connection (see ``journal_finish_many``)."""
        if not items:
            return {}
        now = utcnow()
        return self._raw_write(lambda db: plain.begin_journal(db, execution_id, items, now))

    def journal_finish_many(self, execution_id: str, items: list[tuple[str, str, str]]) -> None:
        """One transaction for the whole list; NotFound when a key was never begun.

        A sender calls this once per email or small group of emails and waits for it
        before its next email may be accepted (so a crash repeats at most one email per
        session), so it runs on the driver's own connection and cursor: one prepared
        UPDATE, executemany, commit. Through SQLAlchemy's Connection the same transaction
        costs five to ten times as much, which capped how fast mail could go out."""
        if not items:
            return
        now = utcnow()
        count = self._raw_write(lambda db: plain.finish_journal(db, execution_id, items, now))
        plain.check_finished(execution_id, items, count)

    def _raw_write(self, work: Callable[[plain.Db], T]) -> T:
        """``work`` in one write transaction on the journal's driver connection.

        The journal keeps one pooled connection checked out (per process: a forked child
        takes its own), so a write costs no pool checkout and return; calls take turns."""
        dbapi = self.engine.dialect.loaded_dbapi
        sqlite = self._dialect == "sqlite"
        with self._journal_lock:
            try:
                held = self._journal_raw
                if held is None or held[0] != os.getpid():
                    held = self._journal_raw = (os.getpid(), self.engine.raw_connection())
                raw = held[1]
                cursor = raw.cursor()
                try:
                    if sqlite:  # autocommit mode (see _engine): take the write lock up front
                        cursor.execute("BEGIN IMMEDIATE")
                    result = work(_CursorDb(cursor, sqlite))
                    raw.commit()
                except BaseException:
                    self._journal_raw = None
                    for undo in (cursor.close, raw.rollback):
                        try:
                            undo()
                        except Exception:  # noqa: BLE001, S110 - the first error is the one to report
                            pass
                    raw.invalidate()  # not back to the pool: its state is unknown
                    raise
                cursor.close()
            except (dbapi.OperationalError, dbapi.InterfaceError) as exc:
                raise ConnectionFailed(
                    f"the repository database {self.display_url} failed: "
                    f"{driver_message(exc, self._url.password)}",
                    fix=f"check that the database in {URL_ENV} is running and reachable; retry",
                ) from None
        return result

    def journal_find(self, message_id: str) -> JournalEntry | None:
        stmt = (select(send_journal).where(send_journal.c.message_id == message_id)
                .order_by(send_journal.c.updated_at.desc()).limit(1))
        with self._read() as conn:
            row = conn.execute(stmt).first()
        return self._journal(row) if row is not None else None

    def journal_entries(self, execution_id: str) -> dict[str, JournalEntry]:
        stmt = (select(send_journal).where(send_journal.c.execution_id == execution_id)
                .order_by(send_journal.c.key))
        with self._read() as conn:
            return {r.key: self._journal(r) for r in conn.execute(stmt)}

    # -- journal scopes: entries shared by the executions of a scope ---------------------------------
    def journal_begin_scoped(self, scope: str, execution_id: str,
                             items: list[tuple[str, str]]) -> dict[str, JournalEntry]:
        """One transaction: insert what is new (a conflict on ``(scope, key)``: another
        execution began it; on ``(execution_id, key)``: this one did), read every entry back,
        and move those not ``sent`` to ``execution_id``."""
        if not items:
            return {}
        unique: dict[str, str] = {}
        for key, message_id in items:
            unique.setdefault(key, message_id)
        now = utcnow()
        stmt = self._insert(send_journal).on_conflict_do_nothing()
        rows = [{"execution_id": execution_id, "key": key, "message_id": message_id, "status": "pending",
                 "reply": "", "updated_at": now, "scope": scope} for key, message_id in unique.items()]
        entries: dict[str, JournalEntry] = {}
        with self._write() as conn:
            conn.execute(stmt, rows)
            for keys in in_chunks(unique, IN_CHUNK):
                query = select(send_journal).where(send_journal.c.scope == scope, send_journal.c.key.in_(keys))
                entries.update((r.key, self._journal(r)) for r in conn.execute(query))
            moved = [key for key, entry in entries.items()
                     if entry.status != "sent" and entry.execution_id != execution_id]
            for key in moved:
                conn.execute(update(send_journal)
                             .where(and_(send_journal.c.scope == scope, send_journal.c.key == key))
                             .values(execution_id=execution_id))
                entries[key].execution_id = execution_id
        return entries

    def journal_finish_scoped(self, scope: str, items: list[tuple[str, str, str]]) -> None:
        if not items:
            return
        now = utcnow()
        missing = []
        with self._write() as conn:
            for key, status, reply in items:
                count = conn.execute(update(send_journal)
                                     .where(send_journal.c.scope == scope, send_journal.c.key == key)
                                     .values(status=status, reply=reply or "", updated_at=now)).rowcount
                if count == 0:
                    missing.append(key)
        if missing:
            raise NotFound(f"no journal entry {missing[0]!r} in scope {scope!r}",
                           fix="call journal_begin_scoped before the side effect")

    def journal_scoped_entries(self, scope: str) -> dict[str, JournalEntry]:
        stmt = select(send_journal).where(send_journal.c.scope == scope).order_by(send_journal.c.key)
        with self._read() as conn:
            return {r.key: self._journal(r) for r in conn.execute(stmt)}
