"""Helpers of the Get operation's tests: raw message fixtures, reading a mailbox, processes.

The raw messages are written out byte for byte (not built with the ``email`` package) so
that what is tested is what mailers really send: RFC 2231 continuations, RFC 2047 names
in quoted parameters, raw 8-bit headers, ISO-8859-1 quoted-printable, a broken base64 part.
"""

from __future__ import annotations

import base64
import textwrap
from pathlib import Path
from typing import Any

from postroom.connectors.mail import MailConnection, MailOperation, connector
from postroom.sdk import Document, Failed
from postroom.sdk.testing import MemoryContext

CLINIC = "clinic@example.com"
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(200))


def _b64(data: bytes) -> str:
    return base64.encodebytes(data).decode().rstrip("\n").replace("\n", "\r\n")


def crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def alternative(n: int = 1) -> bytes:
    """multipart/alternative, UTF-8 subject and display name in encoded words."""
    return crlf(f"""From: =?UTF-8?Q?Zo=C3=AB_M=C3=BCller?= <zoe.mueller@example.org>
To: Clinic <{CLINIC}>
Cc: Dr Smith <smith@example.com>, records@example.com
Reply-To: zoe.private@example.net
Subject: =?UTF-8?B?w5xiZXJ3ZWlzdW5nIG1laW5lciBBa3RlbiDinJM=?=
Date: Mon, 23 Nov 2026 09:15:00 +0100
Message-ID: <alt-{n}@example.org>
X-Patient-Id: P0042
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="alt-boundary"

--alt-boundary
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Bitte =C3=BCbertragen Sie meine Akten an Dr. J=C3=B6rg Weber.
Danke!
--alt-boundary
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: 8bit

<p>Bitte übertragen Sie meine Akten an Dr. Jörg Weber.</p>
<p>Danke!</p>
--alt-boundary--
""")


def nested() -> bytes:
    """mixed > related > alternative, an inline image, a PDF with an RFC 2231 name in
    continuations, a CSV with an RFC 2047 name, and an attached email."""
    return crlf(f"""From: Bob Nguyen <bob.nguyen@example.org>
To: {CLINIC}
Subject: Records transfer, documents attached
Date: Mon, 23 Nov 2026 10:00:00 +0000
Message-ID: <nested@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

This is a multi-part message in MIME format.
--outer
Content-Type: multipart/related; boundary="rel"

--rel
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=us-ascii

Please send my records to the clinic in Lyon.
--alt
Content-Type: text/html; charset=us-ascii

<p>Please send my records to the clinic in <b>Lyon</b>.</p><img src="cid:logo">
--alt--

--rel
Content-Type: image/png; name="logo.png"
Content-Transfer-Encoding: base64
Content-ID: <logo>
Content-Disposition: inline; filename="logo.png"

{_b64(PNG)}
--rel--

--outer
Content-Type: application/pdf
Content-Transfer-Encoding: base64
Content-Disposition: attachment;
 filename*0*=UTF-8''R%C3%A9sum%C3%A9%20m%C3%A9dical%20;
 filename*1*=de%20Bob%20%E2%80%94%202026.pdf

{_b64(PDF)}
--outer
Content-Type: text/csv; charset=utf-8; name="=?UTF-8?Q?m=C3=A9dicaments.csv?="
Content-Disposition: attachment; filename="=?UTF-8?Q?m=C3=A9dicaments.csv?="

drug,dose
Paracétamol,500mg
--outer
Content-Type: message/rfc822
Content-Disposition: attachment

From: old@example.org
To: bob.nguyen@example.org
Subject: Earlier letter
Message-ID: <inner@example.org>

The earlier letter.
--outer--
Epilogue text.
""")


def latin1() -> bytes:
    """ISO-8859-1: encoded-word subject, quoted-printable body."""
    return crlf(f"""From: =?ISO-8859-1?Q?Fran=E7ois_Lef=E8vre?= <francois@example.fr>
To: {CLINIC}
Subject: =?ISO-8859-1?Q?R=E9sultats_d=27analyse_=E0_transf=E9rer?=
Date: Tue, 24 Nov 2026 08:00:00 +0100
Message-ID: <latin1@example.fr>
MIME-Version: 1.0
Content-Type: text/plain; charset=ISO-8859-1
Content-Transfer-Encoding: quoted-printable

Bonjour, pourriez-vous transf=E9rer mon dossier =E0 l'h=F4pital ?
Merci.
""")


def raw_utf8() -> bytes:
    """An SMTPUTF8-style message: raw UTF-8 in the headers, 8bit body."""
    return crlf(f"""From: Jürgen Groß <juergen@example.de>
To: {CLINIC}
Subject: Überweisung: meine Unterlagen (日本語)
Date: Tue, 24 Nov 2026 09:00:00 +0100
Message-ID: <utf8@example.de>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Grüße aus München.
""")


def broken() -> bytes:
    """A base64 part that is not base64."""
    return crlf(f"""From: mallory@example.org
To: {CLINIC}
Subject: Broken attachment
Message-ID: <broken@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain

See attachment.
--b
Content-Type: application/pdf; name="x.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQK!!!this is not base64@@@
--b--
""")


def no_message_id() -> bytes:
    return crlf(f"""From: anon@example.org
To: {CLINIC}
Subject: no id
Date: Tue, 24 Nov 2026 10:00:00 +0000

hello
""")


def simple(n: int, subject: str | None = None, sender: str = "patient@example.org", body: str | None = None,
           date: str = "Tue, 24 Nov 2026 10:00:00 +0000") -> bytes:
    return crlf(f"""From: {sender}
To: {CLINIC}
Subject: {subject if subject is not None else f"Message {n}"}
Date: {date}
Message-ID: <msg-{n}@example.org>

{body if body is not None else f"Body of message {n}."}
""")


# -- reading ------------------------------------------------------------------------------------


def get_op(**settings: Any) -> MailOperation:
    values = {"action": "get", "start_from": "all"}
    values.update(settings)
    return MailOperation.model_validate(values)


def read(connection: dict[str, Any] | MailConnection, context: MemoryContext | None = None, *, commit: bool = True,
         **settings: Any) -> tuple[list[Document], list[Failed], MemoryContext]:
    """One execution's worth of reading: fetch everything, then commit (as after success)."""
    context = context or MemoryContext()
    conn = connection if isinstance(connection, MailConnection) else MailConnection.model_validate(connection)
    session = connector.open(conn, get_op(**settings), context)
    documents: list[Document] = []
    failed: list[Failed] = []
    try:
        for item in session.fetch():
            (failed if isinstance(item, Failed) else documents).append(item)
        if commit:
            session.commit()
    finally:
        session.close()
    return documents, failed, context


def by_id(documents: list[Document]) -> dict[str, list[Document]]:
    out: dict[str, list[Document]] = {}
    for document in documents:
        out.setdefault(document.properties["mail.message_id"], []).append(document)
    return out


def write_components(folder: Path, text: str) -> Path:
    path = folder / "components.yaml"
    path.write_text(textwrap.dedent(text))
    return path


# -- hostile messages (issue 7, item 9) --------------------------------------------------------


def deeply_nested(depth: int = 500, n: int = 1) -> bytes:
    """``depth`` multiparts, each the only part of the one around it (some 28 KB for 500)."""
    lines = [f"From: mallory@example.org\r\nTo: {CLINIC}\r\nSubject: Deep {n}\r\nMessage-ID: <deep-{n}@example.org>\r\n"
             f"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n"]
    for level in range(1, depth):
        lines.append(f"--b{level - 1}\r\nContent-Type: multipart/mixed; boundary=\"b{level}\"\r\n\r\n")
    lines.append(f"--b{depth - 1}\r\nContent-Type: text/plain\r\n\r\nthe bottom\r\n")
    lines += [f"--b{level}--\r\n" for level in range(depth - 1, -1, -1)]
    return "".join(lines).encode("ascii")


def many_headers(count: int = 100_000, n: int = 1) -> bytes:
    """``count`` short header fields, each with its own name (some 1.2 MB for 100,000)."""
    fields = "".join(f"X-H{i}: v\r\n" for i in range(count))
    return (f"From: mallory@example.org\r\nTo: {CLINIC}\r\nSubject: Headers {n}\r\n"
            f"Message-ID: <headers-{n}@example.org>\r\n{fields}\r\nbody\r\n").encode("ascii")


MAIL_TO_DISK = """
type: connection
connector: mail
name: Clinic mailbox
id: mailbox
settings: {{host: "{host}", port: {port}, use_ssl: true, user_name: "{user}", password: "{password}",
            inbound_protocol: {protocol}, trusted_ca_file: "{ca}"{timeout}}}
---
type: operation
connector: mail
name: Read
id: {operation}
settings: {{action: get, {extra}}}
---
type: connection
connector: disk
name: Out
id: out-{process}
settings: {{directory: "{out}"}}
---
type: operation
connector: disk
name: Write
id: write
settings: {{action: send, write_option: {write_option}, create_directories: true}}
---
type: process
name: Mail to disk
id: {process}
start: start
shapes:
  start: {{type: start, {mode}, connection: mailbox, operation: {operation}, next: {first}}}{check}
  name:
    type: set_properties
    properties: [{{property: disk.file_name, value: [{name}]}}]
    next: write
  write: {{type: connector, connection: out-{process}, operation: write}}
"""


_STOP_CHECK = """
  check: {{type: decision, first: {{document_property: mail.subject}}, comparison: regex, second: "{regex}",
          true: stop-all, false: name}}
  stop-all: {{type: exception, message: "refusing {{1}}", parameters: [{{document_property: mail.subject}}],
             stop_process: true}}"""


def mail_to_disk(mailbox: Any, folder: Path, transport: str = "imaps", extra: str = "", *, out: Path | None = None,
                 operation: str = "read", process: str = "mail-to-disk", write_option: str = "overwrite",
                 name: str = "{document_property: mail.message_id}", stop_on_subject: str | None = None,
                 listener_interval: float | None = None, password: str | None = None,
                 timeout_seconds: float | None = None) -> Path:
    """Component files of a process writing each document to ``out``/<Message-ID> (or ``name``).
    ``stop_on_subject`` (a regular expression): a document whose subject matches stops the
    execution (an Exception shape with ``stop_process: true``, "refusing <subject>").
    ``listener_interval``: the process starts as a listener checking every so many seconds
    (else a connector start); ``password`` replaces the mailbox's (a refused login)."""
    settings = mailbox.connection(transport)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{process}.yaml"
    mode = ("mode: connector" if listener_interval is None
            else f"mode: listener, interval_seconds: {listener_interval}")
    path.write_text(MAIL_TO_DISK.format(
        host=settings["host"], port=settings["port"], user=mailbox.user, password=password or mailbox.password,
        protocol=settings["inbound_protocol"], ca=settings["trusted_ca_file"],
        timeout="" if timeout_seconds is None else f", timeout_seconds: {timeout_seconds}",
        extra=extra if "start_from:" in extra else f"start_from: all, {extra}",
        out=out or folder / "out", operation=operation, process=process, write_option=write_option, name=name,
        mode=mode, first="check" if stop_on_subject else "name", check=_STOP_CHECK.format(regex=stop_on_subject)
        if stop_on_subject else ""))
    return path
