"""The acknowledgement process of the once-per-message tests: a real Dovecot mailbox holds
patients' replies; ``acknowledge-replies`` reads them (IMAP, start_from: all, marked read
after the execution), answers each sender (``ack``, to a small SMTP server), tells the staff
(``note``, to a second one), keeps a copy of each acknowledgement on disk (``unique`` names:
a second write would show as ``NAME-1``) and fails the documents of replies whose subject
says ``hold`` (so those replies are not committed and the next run reads them again)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from support.getkit import crlf

__all__ = ["Gate", "components", "reply", "reply_id"]


def reply_id(n: int) -> str:
    return f"<reply-{n}@patients.example.org>"


def reply(n: int, subject: str = "") -> bytes:
    return crlf(f"""From: Patient {n} <patient{n}@example.org>
To: clinic@example.com
Subject: {subject or f"Re: your appointment {n}"}
Message-ID: {reply_id(n)}
Date: Fri, 04 Dec 2026 10:00:00 +0000

I will be there, patient {n}.
""")


def components(settings: dict[str, Any], user: str, password: str, ack_port: int, note_port: int,
               archive: Path) -> str:
    """The components; ``settings``: the Dovecot connection (``Mailbox.connection``)."""
    return f"""\
type: connection
connector: mail
name: Clinic mailbox
id: clinic-mailbox
settings:
  host: "{settings["host"]}"
  port: {settings["port"]}
  use_ssl: true
  user_name: "{user}"
  password: "{password}"
  inbound_protocol: imap
  trusted_ca_file: "{settings["trusted_ca_file"]}"
---
type: operation
connector: mail
name: Take replies
id: take-replies
settings: {{action: get, start_from: all}}
---
type: connection
connector: mail
name: Patients relay
id: patients-relay
settings: {{host: 127.0.0.1, port: {ack_port}, use_ssl: false, use_tls: false, max_sessions: 1, timeout_seconds: 10}}
---
type: connection
connector: mail
name: Staff relay
id: staff-relay
settings: {{host: 127.0.0.1, port: {note_port}, use_ssl: false, use_tls: false, max_sessions: 1, timeout_seconds: 10}}
---
type: operation
connector: mail
name: Acknowledge
id: acknowledge
settings: {{action: send, from: clinic@example.com, subject: We received your reply}}
---
type: operation
connector: mail
name: Tell the staff
id: tell-staff
settings: {{action: send, from: clinic@example.com, to: desk@clinic.example, subject: A patient replied}}
---
type: connection
connector: disk
name: Archive
id: archive
settings: {{directory: "{archive}"}}
---
type: operation
connector: disk
name: Keep a copy
id: keep-copy
settings: {{action: send, write_option: unique}}
---
type: process
name: Acknowledge replies
id: acknowledge-replies
shapes:
  start: {{type: start, mode: connector, connection: clinic-mailbox, operation: take-replies, next: ack}}
  ack:
    type: message
    text: "Thank you, we received your reply ''{{1}}''."
    parameters: [{{document_property: mail.subject}}]
    next: address
  address:
    type: set_properties
    properties:
      - {{property: mail.to_address, value: [{{document_property: mail.from_address}}]}}
      - {{property: disk.file_name, value: [{{document_property: mail.from_address}}, .txt]}}
    next: send-ack
  send-ack: {{type: connector, connection: patients-relay, operation: acknowledge, next: copy}}
  copy: {{type: connector, connection: archive, operation: keep-copy, next: note}}
  note: {{type: message, text: "A patient replied.", next: send-note}}
  send-note: {{type: connector, connection: staff-relay, operation: tell-staff, next: hold}}
  hold: {{type: decision, first: {{document_property: mail.subject}}, comparison: wildcard, second: "*hold*",
          true: refuse}}
  refuse: {{type: exception, message: "held back: {{1}}", parameters: [{{document_property: mail.subject}}]}}
"""


class Gate:
    """``TinySmtp.on_accept``: the ``at``-th message the server takes is stored, then its 250
    reply waits until :meth:`open` (the test kills the client meanwhile). One-shot."""

    def __init__(self, at: int) -> None:
        self.at = at
        self.reached = threading.Event()
        self._release = threading.Event()

    def __call__(self, number: int) -> None:
        if number == self.at and not self.reached.is_set():
            self.reached.set()
            self._release.wait(60)

    def open(self) -> None:
        self._release.set()
