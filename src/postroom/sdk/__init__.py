"""The connector SDK: what a connector author imports (docs/connectors.md).

* :class:`Connector` ``[ConnectionSettings, OperationSettings]``: the plugin, registered in
  the ``postroom.connectors`` entry point group (the only place connectors are found).
* :class:`OperationSession`, :class:`ListeningSession`: what ``Connector.open`` returns.
* :class:`RunContext` with its :class:`Journal` and :class:`WatermarkStore`: what the
  engine hands a session (typed protocols; every member is always there).
* :class:`Failed`, and the errors: ``ConnectorError`` for a failure of the session,
  ``Failed`` for one document. ``retryable`` on both says whether the same attempt may
  pass later: a connector's own retry loop acts on it, and a listener (a failure that is
  not retryable shows it failed at once); a Try/Catch retries every failed document
  whatever it says (see :mod:`postroom.errors`).
* :data:`ValueSourceSetting`: a setting written as a value source, resolved per document
  with ``RunContext.value``.
* :mod:`postroom.sdk.testing`: an in-memory context and the connector contract test.
"""

from ..errors import (
    AuthenticationFailed,
    ConfigError,
    ConnectionFailed,
    ConnectorError,
    DocumentError,
    PostroomError,
)
from ._context import Journal, JournalRecord, RunContext, SentMail, WatermarkStore
from ._document import SPOOL_THRESHOLD, Document, spool_directory
from ._spec import (
    Connector,
    DocumentProperty,
    Failed,
    ListeningSession,
    OperationSession,
    Settings,
    TestReport,
    secret_fields,
    setting,
    setting_error,
)
from ._values import VALUE_SOURCE_KINDS, ValueSourceSetting, check_value_source

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
    "Journal",
    "JournalRecord",
    "ListeningSession",
    "OperationSession",
    "PostroomError",
    "RunContext",
    "SPOOL_THRESHOLD",
    "SentMail",
    "Settings",
    "TestReport",
    "VALUE_SOURCE_KINDS",
    "ValueSourceSetting",
    "WatermarkStore",
    "check_value_source",
    "secret_fields",
    "setting",
    "setting_error",
    "spool_directory",
]
