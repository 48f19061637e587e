"""The patients' replies of the listener tests: a Dovecot of their own (a test that stops its
server must not stop the session's), a reply message, and the components of a listener
storing each reply as ``reply-NNN.txt`` in a folder."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from support.dovecotkit import DovecotServer, find_dovecot

__all__ = ["USER", "IMAP_GET", "POP3_GET", "private_dovecot", "reply", "replies_listener"]

USER = "clinic@example.com"
IMAP_GET = "{action: get, folder: INBOX, start_from: all, mark_as_read: true}"
POP3_GET = "{action: get, start_from: all, delete_after_read: true}"

_COMPONENTS = """
type: connection
connector: mail
name: Clinic mailbox
id: clinic-inbox
settings: {{host: 127.0.0.1, port: {port}, use_ssl: true, user_password_auth: true, user_name: {user},
            password: "{password}", inbound_protocol: {protocol}, trusted_ca_file: "{ca}", timeout_seconds: 5}}
---
type: operation
connector: mail
name: Read replies
id: read-replies
settings: {operation}
---
type: connection
connector: disk
name: Stored replies
id: stored
settings: {{directory: "{out}"}}
---
type: operation
connector: disk
name: Store
id: store
settings: {{action: send, write_option: unique}}
---
type: process
name: Store patients' replies
id: store-replies
start: start
shapes:
  start: {{type: start, mode: listener, connection: clinic-inbox, operation: read-replies,
          interval_seconds: {interval}, next: {first}}}{check}
  name: {{type: set_properties, properties: [{{property: disk.file_name, value: [{{document_property: mail.subject}}, ".txt"]}}],
         next: write}}
  write: {{type: connector, connection: stored, operation: store}}
"""

_REFUSE = """
  check: {{type: decision, first: {{document_property: mail.subject}}, comparison: equals, second: {subject},
          true: refuse, false: name}}
  refuse: {{type: exception, message: "cannot store {{1}}", parameters: [{{document_property: mail.subject}}]}}"""


def reply(n: int) -> bytes:
    """Patient ``n``'s reply to the clinic: subject ``reply-NNN``, Message-ID ``<reply-n@example.org>``."""
    return (f"From: Patient {n} <patient{n}@example.org>\r\nTo: {USER}\r\nSubject: reply-{n:03}\r\n"
            f"Message-ID: <reply-{n}@example.org>\r\nDate: Mon, 2 Mar 2026 09:00:00 +0000\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\nPlease send my records ({n}).\r\n").encode()


def replies_listener(server: DovecotServer, password: str, out: Path, *, protocol: str = "imap",
                     interval: float = 60, refuse_subject: str | None = None) -> str:
    """The components (YAML) of a listener on ``server``'s clinic mailbox writing each reply to
    ``out``; ``refuse_subject``: the reply with that subject fails alone ("cannot store ...")."""
    return _COMPONENTS.format(
        port=server.imaps_port if protocol == "imap" else server.pop3s_port, user=USER, password=password,
        protocol=protocol, ca=server.ca_file, operation=IMAP_GET if protocol == "imap" else POP3_GET, out=out,
        interval=interval, first="check" if refuse_subject else "name",
        check=_REFUSE.format(subject=refuse_subject) if refuse_subject else "")


@contextmanager
def private_dovecot() -> Iterator[tuple[DovecotServer, str]]:
    """A Dovecot of the test's own with the clinic's mailbox, and its password. Not installed:
    a skip here, a failure under CI=true."""
    binary = find_dovecot()
    if not binary:
        message = "dovecot is not installed (apt-get install dovecot-imapd dovecot-pop3d; .ci/run does)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    password = "Listener-Secret-" + secrets.token_hex(6)
    server = DovecotServer(users={USER: password}, binary=binary)
    try:
        server.start()
        yield server, password
    finally:
        server.cleanup()
