"""query (the get of the database connector), and the statement session it shares with
execute (in send.py): the operation's sql with its parameters bound per document.

query gives a document per row, a JSON object, read through a server-side cursor
(``stream_results`` with ``yield_per``) so a large result never sits in memory whole.
execute runs the statement once per document, in its own transaction, and passes the
document on with ``database.row_count``. A statement the database refuses fails that
document with the database's words, the operation and the fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import TextClause, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from ...errors import ConnectionFailed
from ...sdk import Document, Failed, OperationSession, RunContext
from ._rows import row_to_bytes
from .connection import POOLS, connect, driver_message
from .spec import DatabaseConnection, DatabaseOperation

__all__ = ["DatabaseQuerySession", "StatementSession", "YIELD_PER"]

#: Rows fetched from the server-side cursor at a time.
YIELD_PER = 1000


class StatementSession(OperationSession):
    """What query and execute share: the statement, the engine, the parameters."""

    def __init__(self, connection: DatabaseConnection, operation: DatabaseOperation, context: RunContext) -> None:
        self.connection = connection
        self.op = operation
        self.context = context
        self.secrets = [connection.password] if connection.password else []
        self.statement: TextClause = text(operation.sql or "")
        self.engine = POOLS.take(connection)
        self._open = True

    def close(self) -> None:
        if self._open:
            self._open = False
            POOLS.give_back(self.engine)

    def _parameters(self, doc: Document) -> dict[str, str]:
        return {name: self.context.value(source, doc) for name, source in self.op.parameters.items()}

    def _refused(self, doc: Document, exc: SQLAlchemyError) -> Failed:
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            raise ConnectionFailed(f"the database connection was lost: {driver_message(exc, self.secrets)}",
                                   field="url", fix="check the database server; run again") from None
        where = f"operation {self.operation_id}: " if self.operation_id else ""
        return Failed(doc, f"{where}sql: the database refused the {self.op.action}: "
                           f"{driver_message(exc, self.secrets)} (fix sql in the operation and import it again)")

    def _query(self, doc: Document) -> Iterator[Document | Failed]:
        params = self._parameters(doc)
        with connect(self.engine, self.connection) as conn:
            streaming = conn.execution_options(stream_results=True, yield_per=YIELD_PER)
            try:
                result = streaming.execute(self.statement, params)
            except SQLAlchemyError as exc:
                yield self._refused(doc, exc)
                return
            if not result.returns_rows:
                yield self._refused(doc, _NoRows())
                return
            try:
                for row in result.mappings():
                    yield Document(row_to_bytes(row))
            except SQLAlchemyError as exc:  # met while fetching (a division by zero in row 5,000)
                yield self._refused(doc, exc)


class DatabaseQuerySession(StatementSession):
    side_effects = False

    def fetch(self) -> Iterator[Document | Failed]:
        """As a start shape: the rows (parameters resolved against an empty document)."""
        yield from self._query(Document(b""))

    def execute(self, documents: list[Document], shape_id: str) -> Iterable[Document | Failed]:
        for doc in documents:
            yield from self._query(doc)


class _NoRows(SQLAlchemyError):
    def __str__(self) -> str:
        return "the statement returns no rows; a query reads rows (use action execute for other statements)"
