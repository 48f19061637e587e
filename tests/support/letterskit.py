"""The letters process of the send tests, written once: a CSV of patients split one a
document, the patient's address set as ``mail.to_address``, a letter ``Dear <first name>,``
each, sent by the operation ``send`` over a mail connection the caller gives.

Used by tests/cli/test_resume_after_kill.py, tests/cli/test_resume_source_changed.py and
:func:`support.smtpkit.letters_yaml`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["DATA_PASSTHROUGH", "SEND_OPERATION", "devmail_connection", "letters_yaml", "start_letters_run"]

#: The start of a process that takes its documents from ``--input``.
DATA_PASSTHROUGH = "{type: start, mode: data_passthrough, next: split}"

SEND_OPERATION = """\
type: operation
connector: mail
name: send
id: send
settings: {action: send, from: clinic@example.com, subject: "Announcement: Dr. Smith is Retiring"}
"""


def devmail_connection(port: int, ca_file: str | Path, *, connection_id: str = "devmail",
                       password: str = "app-password-123", max_sessions: int | None = 1) -> str:
    """The connection ``devmail`` (or ``connection_id``): devmail over implicit TLS with its login
    (``password`` may be a reference such as ``${secret:devmail-password}``), one session unless
    ``max_sessions`` says otherwise (None: the connector's default)."""
    sessions = "" if max_sessions is None else f", max_sessions: {max_sessions}"
    return f"""\
type: connection
connector: mail
name: devmail
id: {connection_id}
settings: {{host: localhost, port: {port}, use_ssl: true, user_password_auth: true, user_name: clinic@example.com,
            password: "{password}", trusted_ca_file: "{ca_file}"{sessions}}}
"""


def letters_yaml(connection: str, connection_id: str, *, start: str = DATA_PASSTHROUGH, before: str = "",
                 also_set: str = "", after_send: str = "", more_shapes: str = "") -> str:
    """The components: ``connection`` (YAML of the mail connection named ``connection_id``),
    ``before`` (more components, each ending in ``---``), the operation ``send`` and the
    process ``letters``. ``start`` is its start shape; ``also_set`` more properties set
    beside ``mail.to_address`` (``, {property: ...}``); ``after_send`` what follows the send
    (``, next: name``) and ``more_shapes`` the shapes and components after it."""
    return f"""{connection}---
{before}{SEND_OPERATION}---
type: process
name: letters
id: letters
shapes:
  start: {start}
  split: {{type: data_process, steps: [{{type: split, headers: retain}}], next: to}}
  to: {{type: set_properties, properties: [{{property: mail.to_address, value: [{{profile_element: email}}]}}{also_set}], next: letter}}
  letter: {{type: message, text: "Dear {{1}},", parameters: [{{profile_element: first_name}}], next: send}}
  send: {{type: connector, connection: {connection_id}, operation: send{after_send}}}{more_shapes}
"""


def start_letters_run(workdir: Path, home: Path, patients: Path, *options: str) -> subprocess.Popen:
    """``postroom run letters --input PATIENTS [options]`` as a subprocess on the SQLite home
    ``home`` (text output, both streams piped)."""
    env = dict(os.environ, POSTROOM_HOME=str(home))
    env.pop("POSTROOM_DATABASE_URL", None)
    return subprocess.Popen([sys.executable, "-m", "postroom", "run", "letters", "--input", str(patients), *options],
                            cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
