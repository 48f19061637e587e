"""The HTTP Client connector: a request per document (docs/http.md)."""

from __future__ import annotations

from ...sdk import Connector, OperationSession, RunContext, TestReport
from ._session import HttpReadSession, HttpSession
from .connection import test_connection
from .properties import HTTP_PROPERTIES
from .spec import HttpConnection, HttpOperation

__all__ = ["HttpConnector", "HttpConnection", "HttpOperation", "connector"]


class HttpConnector(Connector[HttpConnection, HttpOperation]):
    name = "http"
    title = "HTTP Client"
    connection_model = HttpConnection
    operation_model = HttpOperation
    document_properties = HTTP_PROPERTIES

    def open(self, connection: HttpConnection, operation: HttpOperation, context: RunContext) -> OperationSession:
        if operation.method in ("GET", "HEAD", "OPTIONS"):
            return HttpReadSession(connection, operation, context)
        return HttpSession(connection, operation, context)

    def test(self, connection: HttpConnection) -> TestReport:
        return test_connection(connection)


connector = HttpConnector()
