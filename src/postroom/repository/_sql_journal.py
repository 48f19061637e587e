"""The send journal in the SQL repository: one entry per side effect, begun before it and
finished after, written on the driver's own connection where speed matters."""

from __future__ import annotations

import os
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import Row, select, update

from ..errors import ConnectionFailed, NotFound
from ._engine import URL_ENV
from ._records import (
    JournalEntry,
)
from ._schema import (
    send_journal,
    utcnow,
)
from ._sql_core import IN_CHUNK, SqlCore, driver_message, in_chunks


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
        """One transaction for the whole list: insert-or-get as ``journal_begin`` does.

        The insert runs on the driver's connection (see ``journal_finish_many``); when it
        inserted every key (a first run: nothing was there), the entries are what it wrote
        and nothing is read back."""
        if not items:
            return {}
        now = utcnow()
        unique = dict(items)  # the first message id of a key repeated in the list
        if len(unique) < len(items):
            unique = {}
            for key, message_id in items:
                unique.setdefault(key, message_id)
        at = self._journal_time(now)
        rows = [(execution_id, key, message_id, "pending", "", at) for key, message_id in unique.items()]
        if self._raw_executemany(self._journal_insert_sql, rows) == len(rows):
            return {key: JournalEntry(execution_id=execution_id, key=key, message_id=message_id, status="pending",
                                      reply="", updated_at=now) for key, message_id in unique.items()}
        entries: dict[str, JournalEntry] = {}
        with self._read() as conn:
            for keys in in_chunks(unique, IN_CHUNK):
                query = select(send_journal).where(send_journal.c.execution_id == execution_id,
                                                   send_journal.c.key.in_(keys))
                entries.update((r.key, self._journal(r)) for r in conn.execute(query))
        return entries

    @cached_property
    def _journal_insert_sql(self) -> str:
        dialect = self.engine.dialect
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        quote = dialect.identifier_preparer.quote
        columns = ["execution_id", "key", "message_id", "status", "reply", "updated_at"]
        return (f"INSERT INTO {quote(send_journal.name)} ({', '.join(quote(c) for c in columns)}) "
                f"VALUES ({', '.join([mark] * len(columns))}) "
                f"ON CONFLICT ({quote('execution_id')}, {quote('key')}) DO NOTHING")

    def journal_finish_many(self, execution_id: str, items: list[tuple[str, str, str]]) -> None:
        """One transaction for the whole list; NotFound when a key was never begun.

        A sender calls this once per email or small group of emails and waits for it
        before its next email may be accepted (so a crash repeats at most one email per
        session), so it runs on the driver's own connection and cursor: one prepared
        UPDATE, executemany, commit. Through SQLAlchemy's Connection the same transaction
        costs five to ten times as much, which capped how fast mail could go out."""
        if not items:
            return
        at = self._journal_time(utcnow())
        rows = [(status, reply or "", at, execution_id, key) for key, status, reply in items]
        count = self._raw_executemany(self._journal_update_sql, rows)
        if count >= 0 and count < len(rows):  # the others are committed, as one by one they would be
            raise NotFound(f"some of {len(rows)} journal entries of execution {execution_id!r} were never begun",
                           fix="call journal_begin before the side effect")

    @cached_property
    def _journal_update_sql(self) -> str:
        dialect = self.engine.dialect
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        quote = dialect.identifier_preparer.quote
        return (f"UPDATE {quote(send_journal.name)} SET {quote('status')} = {mark}, {quote('reply')} = {mark}, "
                f"{quote('updated_at')} = {mark} WHERE {quote('execution_id')} = {mark} AND {quote('key')} = {mark}")

    def _journal_time(self, value: datetime) -> Any:
        """``value`` as SQLAlchemy would bind it to send_journal.updated_at on this database."""
        processor = self._journal_time_processor
        return processor(value) if processor else value

    @cached_property
    def _journal_time_processor(self) -> Any:
        return send_journal.c.updated_at.type.bind_processor(self.engine.dialect)

    def _raw_executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> int:
        """One write transaction on the journal's driver connection; the rows changed (-1: unknown).

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
                    cursor.executemany(sql, rows)
                    count = cursor.rowcount if cursor.rowcount is not None else -1
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
        return count

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
