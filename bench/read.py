#!/usr/bin/env python3
"""Read benchmark: Postroom's Get operation against a bare imaplib / poplib loop, on Dovecot.

    python bench/read.py                    # 10,000 messages
    python bench/read.py --messages 2000

Starts a throwaway Dovecot (the same code as the tests' fixture, ``tests/support/dovecotkit.py``),
delivers N messages into one mailbox (a realistic mix of patients' replies: plain text,
multipart/alternative with an HTML body, and one in ten with a small PDF attached), then
reads the whole mailbox four times over TLS (IMAPS, POP3S):

* Postroom IMAP / POP3: the Get operation's session as an execution uses it (connect,
  log in, search or list, fetch every message, parse it into documents with their
  properties, commit). Nothing is marked or deleted, so every reader sees all N.
* bare imaplib / poplib: the loop a developer writes: log in, ``UID SEARCH ALL`` (or
  ``LIST``), then one ``UID FETCH BODY.PEEK[]`` (or ``RETR``) per message, bytes kept,
  nothing parsed.

A warm-up login builds Dovecot's index first, so no reader pays for it, and Postroom's modules
are imported before any clock starts, so the first reader does not pay for the imports
either (start-up has its own benchmark). Prints messages/second for each and the ratio
Postroom / bare.
"""

from __future__ import annotations

import argparse
import base64
import imaplib
import poplib
import ssl
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "src"))

from support.dovecotkit import DovecotServer, find_dovecot  # noqa: E402

USER = "clinic@example.com"
PASSWORD = "bench-Passw0rd"
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 64 + b"\n%%EOF\n"


def message(n: int) -> bytes:
    head = (f"From: Patient {n} <patient{n}@example.org>\r\nTo: {USER}\r\n"
            f"Subject: =?UTF-8?Q?R=C3=A9ponse_{n}?= - please transfer my records\r\n"
            f"Date: Tue, 24 Nov 2026 10:00:00 +0000\r\nMessage-ID: <bench-{n}@example.org>\r\n"
            "MIME-Version: 1.0\r\n")
    text = (f"Dear clinic,\r\n\r\nplease transfer my records (patient {n}) to Dr. Weber.\r\n"
            + "Thank you for the years of care.\r\n" * 20)
    if n % 10 == 0:
        pdf = base64.encodebytes(PDF).decode().replace("\n", "\r\n")
        body = ("Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n--m\r\n"
                "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text +
                "--m\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
                f"Content-Disposition: attachment; filename=\"records-{n}.pdf\"\r\n\r\n{pdf}--m--\r\n")
    elif n % 2:
        body = ("Content-Type: multipart/alternative; boundary=\"a\"\r\n\r\n--a\r\n"
                "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text +
                "--a\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>" + text.replace("\r\n", "<br>") +
                "</p>\r\n--a--\r\n")
    else:
        body = "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text
    return (head + body).encode()


def postroom_read(server: DovecotServer, protocol: str) -> int:
    from postroom.connectors.mail import MailConnection, MailOperation, connector  # imported in main()
    from postroom.sdk import Failed
    from postroom.sdk.testing import MemoryContext

    port = server.imaps_port if protocol == "imap" else server.pop3s_port
    connection = MailConnection(host=server.host, port=port, use_ssl=True, user_name=USER, password=PASSWORD,
                                inbound_protocol=protocol, trusted_ca_file=str(server.ca_file))
    operation = MailOperation.model_validate({"action": "get", "start_from": "all", "unread_only": False,
                                              "mark_as_read": False})
    session = connector.open(connection, operation, MemoryContext())
    count = 0
    try:
        for item in session.fetch():
            if isinstance(item, Failed):
                raise SystemExit(f"postroom {protocol}: {item.message}")
            count += 1
            item.data  # noqa: B018 - touch the bytes, as the next shape would
        session.commit()
    finally:
        session.close()
    return count


def bare_imap(server: DovecotServer) -> int:
    context = ssl.create_default_context(cafile=str(server.ca_file))
    imap = imaplib.IMAP4_SSL(server.host, server.imaps_port, ssl_context=context)
    imap.login(USER, PASSWORD)
    imap.select("INBOX")
    _, data = imap.uid("SEARCH", "ALL")
    count = 0
    for uid in data[0].split():
        _, fetched = imap.uid("FETCH", uid, "(BODY.PEEK[])")
        raw = fetched[0][1]
        count += bool(raw)
    imap.logout()
    return count


def bare_pop3(server: DovecotServer) -> int:
    context = ssl.create_default_context(cafile=str(server.ca_file))
    pop = poplib.POP3_SSL(server.host, server.pop3s_port, context=context)
    pop.user(USER)
    pop.pass_(PASSWORD)
    _, listing, _ = pop.list()
    count = 0
    for line in listing:
        _, lines, _ = pop.retr(int(line.split()[0]))
        count += bool(b"\r\n".join(lines))
    pop.quit()
    return count


def timed(label: str, function, expected: int) -> float:  # noqa: ANN001
    started = time.perf_counter()
    count = function()
    seconds = time.perf_counter() - started
    if count < expected:
        raise SystemExit(f"{label}: read {count} documents from {expected} messages")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    args = parser.parse_args(argv)
    n = args.messages
    binary = find_dovecot()
    if binary is None:
        print("read: dovecot is not installed (apt-get install dovecot-imapd dovecot-pop3d); skipped")
        return 1
    import postroom.connectors.mail  # noqa: F401 - before the clocks: each reader times its reading only
    import postroom.sdk.testing  # noqa: F401

    server = DovecotServer(users={USER: PASSWORD}, binary=binary, spare_users=0)
    try:
        server.start()
        started = time.perf_counter()
        size = 0
        for i in range(1, n + 1):
            raw = message(i)
            size += len(raw)
            server.deliver(USER, raw)
        delivered = time.perf_counter() - started
        bare_pop3(server)  # warm-up: Dovecot scans the maildir and builds its index once
        bare_imap(server)
        print(f"read: {n:,} messages ({size / n / 1024:.1f} KB on average, one in ten with a PDF attached) "
              f"delivered to Dovecot in {delivered:.1f} s; each reader reads all of them over TLS")
        documents = n  # inline, body text: one document per message
        results = {}
        for protocol, bare in (("imap", bare_imap), ("pop3", bare_pop3)):
            results[(protocol, "bare")] = timed(f"bare {protocol}", lambda b=bare: b(server), n)
            results[(protocol, "postroom")] = timed(f"postroom {protocol}",
                                                    lambda p=protocol: postroom_read(server, p), documents)
        for protocol, name in (("imap", "IMAPS"), ("pop3", "POP3S")):
            bare_s, ours_s = results[(protocol, "bare")], results[(protocol, "postroom")]
            library = "imaplib" if protocol == "imap" else "poplib"
            print(f"  {name}: Postroom get {n / ours_s:8,.0f} messages/s ({ours_s:6.2f} s)   "
                  f"bare {library} loop {n / bare_s:8,.0f} messages/s ({bare_s:6.2f} s)   "
                  f"ratio {bare_s / ours_s:.2f}x the bare loop's throughput")
        return 0
    finally:
        server.cleanup()


if __name__ == "__main__":
    sys.exit(main())
