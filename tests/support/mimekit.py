"""The naive stdlib MIME build (one EmailMessage per email) and the clinic's letters.

``naive_build`` is the reference the equivalence tests compare :class:`MessageTemplate`
against; ``bench/mime_build.py`` times both on ``clinic_letters``: a different patient in
To for every document, a short letter as the inline text/plain body.
"""

from __future__ import annotations

from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from postroom.connectors.mail._html_text import html_to_text
from postroom.connectors.mail.mime import (
    ContentType,
    Letter,
    MailAddress,
    clean_file_name,
    clean_header_text,
    parse_addresses,
)

__all__ = ["naive_build", "clinic_letters"]


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
    if disposition == "inline" and attachment_type.mime_type == "text/html":
        _html_with_twin(message, letter.data.decode(attachment_type.text_charset), attachment_type, letter)
    elif disposition == "inline":
        if attachment_type.is_text:
            message.set_content(letter.data.decode(attachment_type.text_charset), subtype=attachment_type.subtype,
                                charset=attachment_type.text_charset)
        else:
            message.set_content(letter.data, maintype=attachment_type.maintype, subtype=attachment_type.subtype)
    else:
        if body_type.mime_type == "text/html":
            _html_with_twin(message, letter.body, body_type, letter)
        else:
            message.set_content(letter.body, subtype=body_type.subtype, charset=body_type.text_charset)
        message.add_attachment(letter.data, maintype=attachment_type.maintype, subtype=attachment_type.subtype,
                               filename=clean_file_name(letter.file_name))
    return message.as_bytes()


def _html_with_twin(message: EmailMessage, html: str, html_type: ContentType, letter: Letter) -> None:
    """multipart/alternative: the text twin (given or generated), then the HTML."""
    message.set_content(letter.text_body or html_to_text(html), charset="utf-8")
    message.add_alternative(html, subtype="html", charset=html_type.text_charset)


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
