"""The Database connector: rows in and out of any SQLAlchemy database (docs/database.md)."""

from __future__ import annotations

from ...errors import ConfigError
from ...sdk import Connector, OperationSession, RunContext, TestReport
from .connection import test_connection
from .get import DatabaseQuerySession
from .properties import DATABASE_PROPERTIES
from .send import DatabaseExecuteSession, DatabaseWriteSession
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
        return test_connection(connection)


connector = DatabaseConnector()
