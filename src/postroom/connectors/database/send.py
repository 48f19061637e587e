"""The sends of the database connector: insert and upsert (each document a row, or an
array of rows) and execute (the operation's sql once per document).

Documents go in chunks, each chunk in one transaction. Its rows are first sent together
(a multi-row INSERT per run of rows with the same columns) under one SAVEPOINT; when the
database refuses any of them, that savepoint is rolled back and the chunk goes again with a
SAVEPOINT per document: a refused row (a constraint, a wrong type, an unknown column) rolls
back that document only and fails it; the others commit together. A document passes on only
once its chunk is committed. Values are bound parameters; the statement comes from SQLAlchemy's dialect
(``INSERT ... ON CONFLICT (key) DO UPDATE`` for an upsert on PostgreSQL and SQLite).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, MetaData, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, NoSuchTableError, SQLAlchemyError

from ...errors import ConfigError, ConnectionFailed, ConnectorError
from ...sdk import Document, Failed, OperationSession, RunContext
from ._rows import RowError, as_json, columns_problem, prepared, rows_of
from ._sql import UPSERT_DIALECTS, backend_name
from .connection import POOLS, connect, driver_message
from .get import StatementSession
from .properties import ROW_COUNT
from .spec import DatabaseConnection, DatabaseOperation

__all__ = ["CHUNK", "DatabaseExecuteSession", "DatabaseWriteSession"]

#: Documents per transaction.
CHUNK = 500


class DatabaseWriteSession(OperationSession):
    side_effects = True

    def __init__(self, connection: DatabaseConnection, operation: DatabaseOperation, context: RunContext) -> None:
        self.connection = connection
        self.op = operation
        self.context = context
        self.secrets = [connection.password] if connection.password else []
        backend = backend_name(connection.url)
        if operation.action == "upsert" and backend not in UPSERT_DIALECTS:
            raise ConfigError(
                f"upsert is not available on {backend}: Postroom upserts with ON CONFLICT, "
                f"which {', '.join(UPSERT_DIALECTS)} have", field="action",
                fix="use action insert, or an execute with your database's own MERGE statement")
        self.engine = POOLS.take(connection)
        self._open = True
        self._table: Table | None = None
        self._statements: dict[tuple[str, ...], Any] = {}

    def close(self) -> None:
        if self._open:
            self._open = False
            POOLS.give_back(self.engine)

    def execute(self, documents: list[Document], shape_id: str) -> Iterable[Document | Failed]:
        for start in range(0, len(documents), CHUNK):
            yield from self._chunk(documents[start:start + CHUNK], shape_id)

    def _chunk(self, documents: list[Document], shape_id: str) -> Iterator[Document | Failed]:
        parsed: list[tuple[Document, list[dict[str, Any]], bool]] = []
        for doc in documents:
            try:
                rows, many = rows_of(doc)
            except RowError as exc:
                yield Failed(doc, str(exc))
                continue
            parsed.append((doc, rows, many))
        if not parsed:
            return
        if self.context.dry_run:
            for doc, rows, _ in parsed:
                self.context.record_dry_run(shape_id, doc, f"database.{self.op.action}",
                                            lambda r=rows: json.dumps(r, ensure_ascii=False))
                yield doc
            return
        yield from self._store_all(parsed)

    def _store_all(self, parsed: list[tuple[Document, list[dict[str, Any]], bool]]) -> Iterator[Document | Failed]:
        results: list[Document | Failed] = []
        with connect(self.engine, self.connection) as conn:
            try:
                with conn.begin():
                    table = self._reflect(conn)
                    together = self._store_together(conn, table, parsed)
                    if together is not None:
                        results = together
                    else:
                        for doc, rows, many in parsed:
                            results.append(self._one(conn, table, doc, rows, many))
            except DBAPIError as exc:
                results = self._whole_chunk_failed(exc, parsed, len(results))
        yield from results

    def _whole_chunk_failed(self, exc: DBAPIError, parsed: list[tuple[Document, list[dict[str, Any]], bool]],
                            done: int) -> list[Document | Failed]:
        """A failure of the chunk's transaction, not of one row: the connection dropped
        (ConnectionFailed), the table could not be read (ConnectorError), or the COMMIT was
        refused (a deferred constraint): then every document of the chunk fails, none stored."""
        message = driver_message(exc, self.secrets)
        if exc.connection_invalidated:
            raise ConnectionFailed(f"the database connection was lost: {message}", field="url",
                                   fix="check the database server; run again") from None
        if done < len(parsed):
            raise ConnectorError(f"table {self.op.table} could not be written: {message}", field="table",
                                 fix="check the table and the database user's rights on it") from None
        return [Failed(doc, f"the database refused the transaction at commit: {message} (none of these "
                            f"{len(parsed)} documents was stored)") for doc, _, _ in parsed]

    def _store_together(self, conn: Connection, table: Table,
                        parsed: list[tuple[Document, list[dict[str, Any]], bool]]) -> list[Document | Failed] | None:
        """Every row of the chunk in one go under one savepoint: an executemany (a multi-row
        INSERT) per run of rows with the same columns, in the documents' order. None, with
        nothing stored, when a row does not fit or the database refuses any of them: then
        the chunk goes a document at a time (``_one``), so that a refused row fails alone."""
        if self.op.returning and not conn.dialect.insert_executemany_returning_sort_by_parameter_order:
            return None
        runs: list[tuple[tuple[str, ...], list[int], list[dict[str, Any]]]] = []
        try:
            for index, (_, rows, _) in enumerate(parsed):
                if columns_problem(rows, table):
                    return None
                for row in rows:
                    columns = tuple(row)
                    if not runs or runs[-1][0] != columns:
                        runs.append((columns, [], []))
                    runs[-1][1].append(index)
                    runs[-1][2].append(prepared(row, table))
        except RowError:
            return None
        stored: list[list[dict[str, Any]]] = [[] for _ in parsed]
        try:
            with conn.begin_nested():
                for columns, owners, params in runs:
                    result = conn.execute(self._statement(conn, table, columns), params)
                    written: Sequence[Mapping[Any, Any]] = result.mappings().all() if self.op.returning else params
                    for owner, one in zip(owners, written, strict=True):
                        stored[owner].append(dict(one))
        except SQLAlchemyError as exc:
            if isinstance(exc, DBAPIError) and exc.connection_invalidated:
                raise
            return None
        return [self._passed(doc, rows, many, done) for (doc, rows, many), done in zip(parsed, stored, strict=True)]

    def _passed(self, doc: Document, rows: list[dict[str, Any]], many: bool,
                stored: list[dict[str, Any]]) -> Document:
        """The document that passes on once its rows are stored: the stored rows with returning."""
        out = doc.copy()
        if self.op.returning:
            values = [{k: as_json(v) for k, v in row.items()} for row in stored]
            out = doc.with_data(json.dumps(values if many else values[0], ensure_ascii=False))
        out.properties[ROW_COUNT] = str(len(rows))
        return out

    def _one(self, conn: Connection, table: Table, doc: Document, rows: list[dict[str, Any]],
             many: bool) -> Document | Failed:
        problem = columns_problem(rows, table)
        if problem:
            return Failed(doc, problem)
        try:
            with conn.begin_nested():
                stored = [self._store(conn, table, prepared(row, table)) for row in rows]
        except RowError as exc:
            return Failed(doc, str(exc))
        except SQLAlchemyError as exc:
            if isinstance(exc, DBAPIError) and exc.connection_invalidated:
                raise
            return Failed(doc, f"table {table.name} refused the row: {driver_message(exc, self.secrets)}")
        return self._passed(doc, rows, many, stored)

    def _store(self, conn: Connection, table: Table, row: dict[str, Any]) -> dict[str, Any]:
        statement = self._statement(conn, table, tuple(row))
        if self.op.returning:
            return dict(conn.execute(statement, row).mappings().one())
        conn.execute(statement, row)
        return row

    def _statement(self, conn: Connection, table: Table, columns: tuple[str, ...]) -> Any:
        """The INSERT (or upsert) for rows with these columns, built once: the values are
        bound at execution, and SQLAlchemy reuses the compiled form."""
        statement = self._statements.get(columns)
        if statement is not None:
            return statement
        if self.op.action == "upsert":
            dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
            statement = dialect_insert(table)
            keys = self.op.key_columns
            updates = {name: statement.excluded[name] for name in columns if name not in keys} or {
                name: statement.excluded[name] for name in keys}
            statement = statement.on_conflict_do_update(index_elements=keys, set_=updates)
        else:
            statement = table.insert()
        if self.op.returning:
            statement = statement.returning(*table.columns, sort_by_parameter_order=True)
        self._statements[columns] = statement
        return statement

    def _reflect(self, conn: Connection) -> Table:
        if self._table is not None:
            return self._table
        name = self.op.table or ""
        schema, _, table_name = name.rpartition(".")
        try:
            table = Table(table_name, MetaData(), schema=schema or None, autoload_with=conn)
        except NoSuchTableError:
            raise ConfigError(f"table {name!r} does not exist in the database", field="table",
                              component=self.operation_id or None,
                              fix="create the table, or fix table in the operation") from None
        missing = [key for key in self.op.key_columns if key not in table.columns]
        if self.op.action == "upsert" and missing:
            raise ConfigError(f"key column {missing[0]!r} is not in table {name} (its columns: "
                              f"{', '.join(table.columns.keys())})", field="key_columns",
                              component=self.operation_id or None, fix="list columns of the table in key_columns")
        self._table = table
        return table


class DatabaseExecuteSession(StatementSession):
    side_effects = True

    def fetch(self) -> Iterator[Document | Failed]:
        """As a start shape: the statement once; one document with database.row_count."""
        yield self._execute_one(Document(b""), "start")

    def execute(self, documents: list[Document], shape_id: str) -> Iterable[Document | Failed]:
        for doc in documents:
            yield self._execute_one(doc, shape_id)

    def _execute_one(self, doc: Document, shape_id: str) -> Document | Failed:
        params = self._parameters(doc)
        if self.context.dry_run:
            self.context.record_dry_run(shape_id, doc, "database.execute",
                                        lambda: json.dumps({"sql": self.op.sql, "parameters": params}))
            return doc
        with connect(self.engine, self.connection) as conn:
            try:
                with conn.begin():
                    count: Any = conn.execute(self.statement, params).rowcount
            except SQLAlchemyError as exc:
                return self._refused(doc, exc)
        out = doc.copy()
        out.properties[ROW_COUNT] = str(count if isinstance(count, int) else -1)
        return out
