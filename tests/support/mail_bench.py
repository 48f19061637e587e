"""MIME build speed: the naive stdlib way against :class:`MessageTemplate`.

Run: ``.venv/bin/python tests/support/mail_bench.py [COUNT]``

The workload is the clinic's: From and Subject from the operation, a different
patient in To for every document, a short letter as the inline text/plain body.
``naive_build`` is also the reference the equivalence tests compare against.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

from postroom.connectors.mail.mime import (  # noqa: E402
    ContentType,
    Letter,
    MailAddress,
    MessageTemplate,
    clean_file_name,
    clean_header_text,
    parse_addresses,
    parse_content_type,
)

__all__ = ["naive_build", "clinic_letters", "measure"]


def _address(address: MailAddress) -> Address:
    username, _, domain = address.addr.rpartition("@")
    return Address(address.display_name, username=username, domain=domain)


def naive_build(letter: Letter, *, disposition: str, attachment_type: ContentType, body_type: ContentType) -> bytes:
    """One EmailMessage per email, every header through the header registry."""
    message = EmailMessage(policy=policy.SMTPUTF8 if letter.smtputf8 else policy.SMTP)
    message["From"] = _address(letter.sender)
    message["To"] = [_address(a) for a in letter.to]
    if letter.cc:
        message["Cc"] = [_address(a) for a in letter.cc]
    if letter.reply_to:
        message["Reply-To"] = [_address(a) for a in letter.reply_to]
    message["Subject"] = clean_header_text(letter.subject)
    message["Date"] = format_datetime(datetime.now().astimezone())
    message["Message-ID"] = letter.message_id
    if disposition == "inline":
        if attachment_type.is_text:
            message.set_content(letter.data.decode(attachment_type.text_charset), subtype=attachment_type.subtype,
                                charset=attachment_type.text_charset)
        else:
            message.set_content(letter.data, maintype=attachment_type.maintype, subtype=attachment_type.subtype)
    else:
        message.set_content(letter.body, subtype=body_type.subtype, charset=body_type.text_charset)
        message.add_attachment(letter.data, maintype=attachment_type.maintype, subtype=attachment_type.subtype,
                               filename=clean_file_name(letter.file_name))
    return message.as_bytes()


def clinic_letters(count: int) -> list[Letter]:
    sender = parse_addresses("Dr. Smith's Clinic <clinic@example.com>")[0]
    return [
        Letter(
            sender=sender,
            to=[MailAddress("", f"patient{n}@example.com")],
            cc=[],
            reply_to=[],
            subject="Announcement: Dr. Smith is Retiring",
            message_id=f"<{n:032x}@example.com>",
            data=(f"Dear Patient {n},\n\nDr. Smith is retiring at the end of the year. Your records stay with "
                  "the clinic and Dr. Jones will see you from January.\n\nKind regards,\nThe clinic\n").encode(),
        )
        for n in range(count)
    ]


def measure(count: int = 3000, repeat: int = 3) -> dict[str, float]:
    """Messages per second, best of ``repeat`` runs, for each way of building."""
    plain = parse_content_type("text/plain")
    letters = clinic_letters(count)
    template = MessageTemplate(disposition="inline", attachment_type=plain, body_type=plain)

    def naive() -> None:
        for letter in letters:
            naive_build(letter, disposition="inline", attachment_type=plain, body_type=plain)

    def fast() -> None:
        for letter in letters:
            template.build(letter)

    def fast_with_addresses() -> None:
        # As send.py does per document: parse and validate the To property, then build.
        for n, letter in enumerate(letters):
            letter.to = parse_addresses(f"patient{n}-{time.perf_counter_ns()}@example.com")
            template.build(letter)

    rates = {}
    for name, work in (("naive", naive), ("template", fast), ("template+address validation", fast_with_addresses)):
        best = min(_timed(work) for _ in range(repeat))
        rates[name] = count / best
    return rates


def _timed(work) -> float:  # noqa: ANN001 - a callable
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


if __name__ == "__main__":
    number = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    results = measure(number)
    for label, rate in results.items():
        print(f"{label:>28}: {rate:10.0f} messages/s")
    print(f"{'speed-up (template/naive)':>28}: {results['template'] / results['naive']:10.1f}x")
