"""The Disk connector: read files as documents, write documents as files."""

from __future__ import annotations

from ...errors import ConfigError
from ...sdk import Connector, OperationSession, RunContext, TestReport
from ._session import DiskGetSession, DiskSendSession
from .properties import DISK_PROPERTIES
from .spec import DiskConnection, DiskOperation

__all__ = ["DiskConnector", "connector", "DiskConnection", "DiskOperation"]


class DiskConnector(Connector[DiskConnection, DiskOperation]):
    name = "disk"
    title = "Disk"
    connection_model = DiskConnection
    operation_model = DiskOperation
    document_properties = DISK_PROPERTIES

    def open(self, connection: DiskConnection, operation: DiskOperation, context: RunContext) -> OperationSession:
        if operation.action == "get":
            return DiskGetSession(connection, operation, context)
        if operation.action == "send":
            return DiskSendSession(connection, operation, context)
        raise ConfigError(f"unknown disk action {operation.action!r}", field="action", fix="use get or send")

    def test(self, connection: DiskConnection) -> TestReport:
        import os
        from pathlib import Path

        path = Path(connection.directory).expanduser()
        facts = [("directory", str(path)), ("exists", str(path.is_dir()).lower())]
        if path.is_dir():
            facts += [("readable", str(os.access(path, os.R_OK)).lower()),
                      ("writable", str(os.access(path, os.W_OK)).lower())]
        return TestReport(ok=path.is_dir(), facts=facts,
                          message="" if path.is_dir() else f"{path} is not a folder")


connector = DiskConnector()
