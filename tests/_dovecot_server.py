"""A real Dovecot (IMAP and POP3, plain+STARTTLS and implicit TLS) for tests (DESIGN principle 12).

Loaded as a pytest plugin by ``tests/conftest.py``; the server code is
``tests/support/dovecotkit.py`` (shared with ``bench/read.py``). Fixtures:

* ``dovecot`` (session): the running :class:`~dovecotkit.DovecotServer`, one for the
  whole session, stopped at the end.
* ``mailbox`` (function): a fresh user on it (:class:`Mailbox`), so tests never see each
  other's mail: ``mailbox.deliver(raw)``, ``mailbox.messages()``, ``mailbox.connection()``.
* ``dovecot_smtp`` (session): an SMTP server that delivers into the Dovecot maildirs, so
  mail can go in through Postroom's own Send operation.

Under ``CI=true`` a missing ``/usr/sbin/dovecot`` fails the tests that use these
fixtures instead of skipping them (``require_binary``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from support.dovecotkit import DOVECOT, DovecotServer, SmtpFront
from support.testsupport import require_binary

__all__ = ["Mailbox", "dovecot", "dovecot_smtp", "mailbox"]

#: Where each protocol and transport lives on the server, as Mail connection settings.
TRANSPORTS = {
    "pop3": ("pop3", "pop3_port", False, True),   # plain connect, then STLS
    "pop3s": ("pop3", "pop3s_port", True, False),  # implicit TLS
    "imap": ("imap", "imap_port", False, True),   # plain connect, then STARTTLS
    "imaps": ("imap", "imaps_port", True, False),  # implicit TLS
}


@dataclass
class Mailbox:
    """One user's mailbox on the session's Dovecot."""

    server: DovecotServer
    user: str
    password: str

    def deliver(self, raw: bytes | str, folder: str = "INBOX", **kw: Any) -> Path:
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        return self.server.deliver(self.user, raw, folder, **kw)

    def messages(self, folder: str = "INBOX") -> list[bytes]:
        return self.server.messages(self.user, folder)

    def flags(self, folder: str = "INBOX") -> list[str]:
        return self.server.flags(self.user, folder)

    def create_folder(self, folder: str) -> None:
        self.server.create_folder(self.user, folder)

    @property
    def ca_file(self) -> Path:
        assert self.server.ca_file is not None
        return self.server.ca_file

    def connection(self, transport: str = "imaps", **overrides: Any) -> dict[str, Any]:
        """Mail connection settings reading this mailbox over ``transport``
        (pop3 | pop3s | imap | imaps)."""
        protocol, port_attr, use_ssl, use_tls = TRANSPORTS[transport]
        values: dict[str, Any] = {
            "host": self.server.host,
            "port": getattr(self.server, port_attr),
            "use_ssl": use_ssl,
            "use_tls": use_tls,
            "user_password_auth": True,
            "user_name": self.user,
            "password": self.password,
            "inbound_protocol": protocol,
            "trusted_ca_file": str(self.ca_file),
            "timeout_seconds": 10,
        }
        values.update(overrides)
        return values


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    binary = require_binary("dovecot", DOVECOT)
    server = DovecotServer(users={"clinic@example.com": "clinic-Pass-1"}, binary=binary)
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def mailbox(dovecot: DovecotServer) -> Mailbox:
    user, password = dovecot.take_user()
    return Mailbox(dovecot, user, password)


@pytest.fixture(scope="session")
def dovecot_smtp(dovecot: DovecotServer) -> Iterator[SmtpFront]:
    front = SmtpFront(dovecot).start()
    try:
        yield front
    finally:
        front.stop()
