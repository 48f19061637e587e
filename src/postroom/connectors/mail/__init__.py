"""The Mail connector: send email over SMTP, read it over POP3 or IMAP.

Role files (DESIGN.md principle 3): ``spec.py`` the settings models; ``_tls.py`` TLS
contexts, ``_oauth.py`` OAuth tokens, ``_errors.py`` error kinds and redaction, for every
protocol; the ``_smtp`` package SMTP sessions, transactions and the pool; ``mime.py``
message building, ``send.py`` the Send operation; ``connection.py`` the connection test; ``_pop3.py`` and ``_imap.py`` reading sessions (``_inbound.py`` what they
share), ``_parse.py`` received messages into parts, ``get.py`` the Get operation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from ...errors import ConfigError
from ...sdk import Connector, OperationSession, RunContext, Settings, TestReport
from ._smtp import PoolRegistry
from .properties import MAIL_PROPERTIES
from .send import MailSendSession
from .spec import InboundEndpoint, MailConnection, MailOperation

if TYPE_CHECKING:
    from .get import MailGetSession

# Reading (get: IMAP, POP3, parsing), the connection test and DKIM's DNS helpers load on
# first use: a run that only sends does not import them.

_M = TypeVar("_M", MailConnection, MailOperation)

__all__ = [
    "MailConnector",
    "MailConnection",
    "MailOperation",
    "MailGetSession",
    "MailSendSession",
    "InboundEndpoint",
    "connector",
    "dkim_record",
]


class MailConnector(Connector[MailConnection, MailOperation]):
    """Send documents as email and read mail as documents; one connection holds the servers,
    login and limits."""

    name = "mail"
    title = "Mail"
    connection_model = MailConnection
    operation_model = MailOperation
    document_properties = MAIL_PROPERTIES

    def __init__(self) -> None:
        # Sessions of every execution in this process share one pool per connection, so
        # max_sessions and max_messages_per_minute hold across them.
        self.pools = PoolRegistry()

    def open(self, connection: MailConnection, operation: MailOperation, context: RunContext) -> OperationSession:
        connection = _as(MailConnection, connection)
        operation = _as(MailOperation, operation)
        if operation.action == "get":
            from .get import MailGetSession

            return MailGetSession.open(connection, operation, context)
        return MailSendSession(connection, operation, context, self.pools)

    def test(self, connection: MailConnection) -> TestReport:
        """Connect, secure and log in as a send (and, for a reading connection, a get) would;
        raise ConnectorError naming the side that failed."""
        from .connection import add_dkim_check
        from .get import test_mail_connection

        connection = _as(MailConnection, connection)
        return add_dkim_check(test_mail_connection(connection), connection)


def dkim_record(key_text: str, selector: str, domain: str, algorithm: str = "rsa-sha256") -> tuple[str, str, str]:
    """(name, value, zone-file line) of the DNS TXT record publishing the key's public half;
    ValueError naming dkim_private_key and the fix when the key cannot be used."""
    from ._dkim import load_key, txt_record
    from ._dkim_dns import zone_line

    name, value = txt_record(selector, domain, load_key(key_text, algorithm))
    return name, value, zone_line(name, value)


_S = TypeVar("_S", bound=Settings)


def _as(model: type[_S], settings: object) -> _S:
    """Accept the model itself or a mapping (settings read straight from a component file)."""
    if isinstance(settings, model):
        return settings
    if isinstance(settings, dict):
        return model.model_validate(settings)
    raise ConfigError(f"expected {model.__name__} settings, got {type(settings).__name__}")


connector = MailConnector()


def __getattr__(name: str) -> Any:
    """``MailGetSession`` (in ``__all__``) imports the read path on first use."""
    if name == "MailGetSession":
        from .get import MailGetSession

        return MailGetSession
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
