"""The Database connector: rows in and out of any SQLAlchemy database (docs/database.md)."""

from __future__ import annotations

from sqlalchemy import text

from ...errors import ConfigError
from ...sdk import Connector, OperationSession, RunContext, TestReport
from ._engines import POOLS, connect
from ._statement import DatabaseExecuteSession, DatabaseQuerySession
from ._write import DatabaseWriteSession
from .properties import DATABASE_PROPERTIES
from .spec import DatabaseConnection, DatabaseOperation

__all__ = ["DatabaseConnector", "connector", "DatabaseConnection", "DatabaseOperation"]


class DatabaseConnector(Connector[DatabaseConnection, DatabaseOperation]):
    name = "database"
    title = "Database"
    connection_model = DatabaseConnection
    operation_model = DatabaseOperation
    document_properties = DATABASE_PROPERTIES

    def open(self, connection: DatabaseConnection, operation: DatabaseOperation,
             context: RunContext) -> OperationSession:
        if operation.action in ("insert", "upsert"):
            return DatabaseWriteSession(connection, operation, context)
        if operation.action == "query":
            return DatabaseQuerySession(connection, operation, context)
        if operation.action == "execute":
            return DatabaseExecuteSession(connection, operation, context)
        raise ConfigError(f"unknown database action {operation.action!r}", field="action",
                          fix="use insert, upsert, query or execute")

    def test(self, connection: DatabaseConnection) -> TestReport:
        """Connect, log in and ask the server its version."""
        engine = POOLS.take(connection)
        try:
            with connect(engine, connection) as conn:
                dialect = conn.dialect
                version = _server_version(conn)
            facts = [("url", engine.url.render_as_string(hide_password=True)), ("dialect", dialect.name),
                     ("driver", dialect.driver), ("server version", version)]
            return TestReport(ok=True, facts=facts)
        finally:
            POOLS.give_back(engine)


def _server_version(conn) -> str:  # noqa: ANN001 - a SQLAlchemy Connection
    if conn.dialect.name == "sqlite":
        return "SQLite " + str(conn.execute(text("select sqlite_version()")).scalar())
    if conn.dialect.name == "postgresql":
        return str(conn.execute(text("select version()")).scalar())
    info = conn.dialect.server_version_info
    return ".".join(map(str, info)) if info else "unknown"


connector = DatabaseConnector()
