"""The connector SDK: what a connector author imports."""

from ..errors import (
    AuthenticationFailed,
    ConfigError,
    ConnectionFailed,
    ConnectorError,
    DocumentError,
    PostroomError,
)
from ._document import SPOOL_THRESHOLD, Document, spool_directory
from ._spec import (
    Connector,
    DocumentProperty,
    Failed,
    OperationSession,
    RunContext,
    Settings,
    TestReport,
    secret_fields,
    setting,
)

__all__ = [
    "AuthenticationFailed",
    "ConfigError",
    "ConnectionFailed",
    "Connector",
    "ConnectorError",
    "Document",
    "DocumentProperty",
    "DocumentError",
    "Failed",
    "OperationSession",
    "PostroomError",
    "RunContext",
    "SPOOL_THRESHOLD",
    "Settings",
    "TestReport",
    "secret_fields",
    "setting",
    "spool_directory",
]
