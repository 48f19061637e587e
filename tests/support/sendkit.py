"""Helpers of the Send operation's tests: devmail connections, a send operation, one run."""

from __future__ import annotations

from postroom.connectors.mail import MailConnection, MailOperation, connector
from postroom.devmail.pytest_plugin import DEVMAIL_PASSWORD, DEVMAIL_USER
from postroom.sdk.testing import MemoryContext

__all__ = ["SUBJECT", "gmail_like", "run", "send_op", "starttls"]

SUBJECT = "Announcement: Dr. Smith is Retiring"


def gmail_like(dm, **overrides) -> MailConnection:
    """The clinic's Gmail connection, pointed at devmail's implicit-TLS port."""
    values = dict(
        host=dm.client_host, port=dm.smtps_port, use_tls=True, use_ssl=True, user_password_auth=True,
        user_name=DEVMAIL_USER, password=DEVMAIL_PASSWORD, trusted_ca_file=str(dm.ca_file),
        retry_delay_seconds=0.01, timeout_seconds=5,
    )
    values.update(overrides)
    return MailConnection(**values)


def starttls(dm, **overrides) -> MailConnection:
    """devmail's plain port with STARTTLS, logged in (devmail, like Gmail, requires AUTH)."""
    values = dict(host=dm.client_host, port=dm.smtp_port, use_tls=True, trusted_ca_file=str(dm.ca_file),
                  retry_delay_seconds=0.01, timeout_seconds=5, user_password_auth=True, user_name=DEVMAIL_USER,
                  password=DEVMAIL_PASSWORD)
    values.update(overrides)
    return MailConnection(**values)


def send_op(**overrides) -> MailOperation:
    values = {"action": "send", "from": DEVMAIL_USER, "to": "", "subject": SUBJECT, "disposition": "inline",
              "attachment_content_type": "text/plain", "body_content_type": "text/plain"}
    values.update(overrides)
    return MailOperation.model_validate(values)


def run(connection, operation, documents, context=None, shape="send"):
    context = context or MemoryContext(execution_id="exec-1")
    session = connector.open(connection, operation, context)
    try:
        return list(session.execute(documents, shape))
    finally:
        session.close()
