"""The Mail connector: send email over SMTP (reading mail, POP3 and IMAP, arrives with issue 4).

Role files (DESIGN.md principle 3): ``spec.py`` the settings models, ``_smtp.py``
sessions, TLS, login and the pool, ``mime.py`` message building, ``send.py`` the Send
operation.
"""

from __future__ import annotations

from ...errors import ConfigError
from ...sdk import Connector, OperationSession, RunContext, Settings, TestReport
from ._smtp import PoolRegistry, test_connection
from .send import MailSendSession
from .spec import InboundEndpoint, MailConnection, MailOperation

__all__ = ["MailConnector", "MailConnection", "MailOperation", "MailSendSession", "InboundEndpoint", "connector"]


class MailConnector(Connector):
    """Send documents as email; one connection holds the server, login and limits."""

    name = "mail"
    title = "Mail"
    connection_model = MailConnection
    operation_model = MailOperation

    def __init__(self) -> None:
        # Sessions of every execution in this process share one pool per connection, so
        # max_sessions and max_messages_per_minute hold across them.
        self.pools = PoolRegistry()

    def open(self, connection: Settings, operation: Settings, context: RunContext) -> OperationSession:
        connection = _as(MailConnection, connection)
        operation = _as(MailOperation, operation)
        if operation.action == "get":
            raise ConfigError(
                "the Mail connector's get action (reading mail over POP3 or IMAP) is not available yet; "
                "this release sends mail only",
                field="action",
                fix="use action: send, or read mail with a later release",
            )
        return MailSendSession(connection, operation, context, self.pools)

    def test(self, connection: Settings) -> TestReport:
        """Connect, secure and log in as a send would; raise ConnectorError on failure."""
        return test_connection(_as(MailConnection, connection))


def _as(model: type, settings: Settings):  # noqa: ANN202 - returns an instance of model
    """Accept the model itself or a mapping (settings read straight from a component file)."""
    if isinstance(settings, model):
        return settings
    if isinstance(settings, dict):
        return model.model_validate(settings)
    raise ConfigError(f"expected {model.__name__} settings, got {type(settings).__name__}")


connector = MailConnector()
