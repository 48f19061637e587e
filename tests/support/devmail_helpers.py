"""Helpers for the devmail tests: the stdlib's real clients, nothing mocked, and a
check that every server thread a test started is gone when it ends.

Imported by the devmail tests as ``support.devmail_helpers``; ``no_leaked_threads`` is an
autouse fixture they import by name (there is no conftest.py in tests/devmail).
"""

from __future__ import annotations

import poplib
import smtplib
import ssl
import threading
import time
from collections.abc import Iterator

import pytest

from postroom.devmail import DevMail
from postroom.devmail.pytest_plugin import DEVMAIL_PASSWORD, DEVMAIL_USER

USER = DEVMAIL_USER
PASSWORD = DEVMAIL_PASSWORD


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Fail a test that leaves a thread running after its fixtures are torn down.

    Autouse fixtures are set up first, so this one is torn down after ``devmail``.
    Each test module imports it to switch it on.
    """
    before = set(threading.enumerate())
    yield
    leaked = [t for t in threading.enumerate() if t not in before]
    for thread in leaked:
        thread.join(timeout=5)
    alive = [t.name for t in leaked if t.is_alive()]
    assert not alive, f"threads still running after the test: {alive}"


def ca_context(devmail: DevMail) -> ssl.SSLContext:
    """What a user does with the printed CA file: trust it, hostname checks on."""
    assert devmail.ca_file is not None
    return ssl.create_default_context(cafile=str(devmail.ca_file))


def smtp(devmail: DevMail, *, login: bool = True) -> smtplib.SMTP:
    """A plain SMTP session, logged in as a real client must be when devmail requires AUTH
    (its default with users); ``login=False`` for tests of what comes before AUTH."""
    client = smtplib.SMTP("127.0.0.1", devmail.smtp_port, timeout=10)
    if login and devmail.auth_required:
        client.login(*next(iter(devmail.users.items())))
    return client


def pop3(
    devmail: DevMail, user: str = USER, password: str = PASSWORD, *, timeout: float = 5.0
) -> poplib.POP3:
    """A logged-in POP3 session.

    The server releases a mailbox lock when it notices a client hung up, a moment after
    the client closed its socket; a login in that moment gets [IN-USE], so it is retried
    until ``timeout`` (bounded, and only for that reply).
    """
    deadline = time.monotonic() + timeout
    while True:
        client = poplib.POP3("127.0.0.1", devmail.pop3_port, timeout=10)
        client.user(user)
        try:
            client.pass_(password)
            return client
        except poplib.error_proto as error:
            client.close()
            if b"[IN-USE]" not in error.args[0] or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def send(
    devmail: DevMail, raw: bytes, to: list[str] | None = None, sender: str = "sender@example.com"
) -> dict:
    with smtp(devmail) as client:
        return client.sendmail(sender, to or [USER], raw)
