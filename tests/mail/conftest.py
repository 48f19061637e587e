"""Fixtures of the Mail connector's tests; the servers themselves live in mailkit.py."""

from mailkit import certs, context, smtp_server, smtp_sink  # noqa: F401 - fixtures
