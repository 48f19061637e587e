"""Fixtures of the Mail connector's tests; the servers themselves live in tests/support/mailkit.py."""

from support.mailkit import certs, context, smtp_server, smtp_sink  # noqa: F401 - fixtures
from support.milterkit import dkim_mx  # noqa: F401 - fixture
from support.smtpscript import scripted  # noqa: F401 - fixture
