"""pytest plugin (entry point ``postroom_devmail``): real mail servers as fixtures.

Fixtures:

``devmail``
    A started :class:`~postroom.devmail.DevMail`, function-scoped: SMTP, SMTPS, POP3,
    POP3S and the web inbox on ephemeral ports of 127.0.0.1, TLS on, one user
    ``clinic@example.com`` / ``app-password-123``, SMTP AUTH required before MAIL (pass
    ``auth_required=False`` or ``users={}`` in ``devmail_options`` to take mail without
    login). Override ``devmail_options`` to
    change any :class:`DevMail` argument for a module or a test.
``devmail_options``
    A dict of keyword arguments merged over those defaults (empty here).
``devmail_factory``
    ``devmail_factory(**kwargs) -> DevMail``: start more servers (same defaults);
    every one is stopped at teardown.
``devmail_cert_dir``
    Session-scoped folder holding the CA and certificate every devmail of the session
    shares, so keys are made once per session.

This module is imported by every pytest run of the project, so it imports nothing
heavy at module level: the server code loads when a fixture is first used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from postroom.devmail import DevMail

__all__ = [
    "DEVMAIL_PASSWORD",
    "DEVMAIL_USER",
    "devmail",
    "devmail_cert_dir",
    "devmail_factory",
    "devmail_options",
]

DEVMAIL_USER = "clinic@example.com"
DEVMAIL_PASSWORD = "app-password-123"


def _defaults(cert_dir: Path) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "smtp_port": 0,
        "smtps_port": 0,
        "pop3_port": 0,
        "pop3s_port": 0,
        "web_port": 0,
        "users": {DEVMAIL_USER: DEVMAIL_PASSWORD},
        "tls": True,
        "cert_dir": cert_dir,
    }


@pytest.fixture(scope="session")
def devmail_cert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One CA and server certificate for the whole session."""
    return tmp_path_factory.mktemp("devmail-tls")


@pytest.fixture
def devmail_options() -> dict[str, Any]:
    """Keyword arguments for :class:`DevMail` over the fixture's defaults; override me."""
    return {}


@pytest.fixture
def devmail_factory(devmail_cert_dir: Path) -> Iterator[Callable[..., DevMail]]:
    """Start extra devmail servers with other options; all are stopped at teardown."""
    from postroom.devmail import DevMail

    started: list[DevMail] = []

    def make(**options: Any) -> DevMail:
        kwargs = _defaults(devmail_cert_dir)
        kwargs.update(options)
        server = DevMail(**kwargs)
        server.start()
        started.append(server)
        return server

    yield make
    errors = []
    for server in reversed(started):
        try:
            server.stop()
        except Exception as error:  # stop the rest, then report
            errors.append(error)
    if errors:
        raise errors[0]


@pytest.fixture
def devmail(devmail_factory: Callable[..., DevMail], devmail_options: dict[str, Any]) -> DevMail:
    """A running devmail with every listener on an ephemeral port (see the module doc)."""
    return devmail_factory(**devmail_options)
