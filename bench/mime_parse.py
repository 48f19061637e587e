#!/usr/bin/env python3
"""MIME parse benchmark: the Get operation's streaming parser against the stdlib ``email`` parser.

    python bench/mime_parse.py              # 2,000 messages, a 12 MiB attachment
    python bench/mime_parse.py --messages 500 --mib 4

Builds one message as a patient's reply looks (a quoted-printable UTF-8 text body and a
base64 PDF-like attachment with an RFC 2231 file name) and times, per message:

* Postroom: ``parse_message`` (``connectors/mail/_parse.py``) keeping the text body and the
  attachments, then reading them back;
* stdlib: ``BytesParser(policy=policy.default)``, ``get_body`` and ``iter_attachments``
  with ``get_content()``: what a developer writes with the ``email`` package.

Then parses one message with a large attachment under ``tracemalloc`` and prints the peak
of each (the message bytes themselves are built before tracing starts, so neither counts
them). No server, no network. Used as evidence in docs/adr/0007.
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import sys
import time
import tracemalloc
from email import policy
from email.parser import BytesParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from postroom.connectors.mail._parse import parse_message  # noqa: E402


def message(attachment: bytes) -> bytes:
    encoded = base64.encodebytes(attachment).replace(b"\n", b"\r\n")
    return (
        b"From: Dr Smith <clinic@example.com>\r\nTo: p@example.com\r\n"
        b"Subject: =?utf-8?q?R=C3=A9sultats?=\r\nMessage-ID: <1@example.com>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"Bonjour,=0D=0Avoici vos r=C3=A9sultats.\r\n"
        b"--b1\r\nContent-Type: application/pdf\r\n"
        b"Content-Disposition: attachment; filename*=utf-8''R%C3%A9sultats.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + encoded + b"--b1--\r\n"
    )


def postroom(raw: bytes, read: bool = True) -> int:
    mail = parse_message(io.BytesIO(raw), {"text", "html", "attachment"})
    try:
        if not read:
            return sum(part.size for part in mail.parts())
        return sum(len(part.content.read()) for part in mail.parts())
    finally:
        mail.close()


def stdlib(raw: bytes, read: bool = True) -> int:
    parsed = BytesParser(policy=policy.default).parse(io.BytesIO(raw))
    body = parsed.get_body(("plain",))
    text = body.get_content() if body is not None else ""
    return len(text) + sum(len(part.get_content()) for part in parsed.iter_attachments())


def rate(parse, raw: bytes, count: int) -> float:  # noqa: ANN001 - one of the two above
    started = time.perf_counter()
    for _ in range(count):
        parse(raw)
    return count / (time.perf_counter() - started)


def peak(parse, raw: bytes, **kwargs: bool) -> float:  # noqa: ANN001
    tracemalloc.start()
    try:
        parse(raw, **kwargs)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--mib", type=int, default=12)
    args = parser.parse_args()
    small = message(os.urandom(20_000))
    ours, theirs = rate(postroom, small, args.messages), rate(stdlib, small, args.messages)
    print(f"mime parse: {args.messages:,} messages with a 20 KB attachment")
    print(f"  Postroom parse_message {ours:8,.0f} messages/s   stdlib email (policy default) {theirs:8,.0f} "
          f"messages/s   ratio {ours / theirs:.1f}x")
    big = message(os.urandom(args.mib * 2**20))
    print(f"mime parse: one message with a {args.mib} MiB attachment, peak traced memory")
    print(f"  Postroom, attachment left in its spooled file {peak(postroom, big, read=False):6.1f} MiB")
    print(f"  Postroom, attachment read back into memory    {peak(postroom, big):6.1f} MiB")
    print(f"  stdlib email, get_content()                   {peak(stdlib, big):6.1f} MiB")


if __name__ == "__main__":
    main()
