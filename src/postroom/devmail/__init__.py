"""The built-in development mail server: SMTP, SMTPS, POP3, POP3S and a web inbox over
one mail store, for the demo (``postroom devmail``) and for tests (the ``devmail``
pytest fixture).

Exports are loaded lazily: the pytest plugin imports this package in every test
session, and aiosmtpd, cryptography and http.server are paid for only when used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "CertificateFiles",
    "DevMail",
    "MailStore",
    "RecipientDecision",
    "SERVE_DEFAULT_USERS",
    "StoredMessage",
    "ensure_certificates",
    "read_state",
    "default_state_file",
    "serve",
]

_WHERE = {
    "CertificateFiles": "._tls",
    "ensure_certificates": "._tls",
    "DevMail": "._controller",
    "serve": "._controller",
    "SERVE_DEFAULT_USERS": "._controller",
    "MailStore": "._store",
    "RecipientDecision": "._store",
    "StoredMessage": "._store",
    "read_state": "._state",
    "default_state_file": "._state",
}

if TYPE_CHECKING:
    from ._controller import SERVE_DEFAULT_USERS, DevMail, serve
    from ._state import default_state_file, read_state
    from ._store import MailStore, RecipientDecision, StoredMessage
    from ._tls import CertificateFiles, ensure_certificates


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
