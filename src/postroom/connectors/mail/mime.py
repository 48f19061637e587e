"""Build outgoing messages: addresses, content types and MIME bytes.

The encoders are the stdlib ``email`` package's (:class:`email.header.Header` and
:class:`email.charset.Charset` for RFC 2047 encoded words, :mod:`binascii` for
quoted-printable and base64); what this module adds is *when* to call them, and
not calling them twice for the same thing.

A naive build (one :class:`email.message.EmailMessage` per document, every header set
through the header registry, ``as_bytes()``) spends most of its time re-parsing
headers that never change between documents: the registry even creates a new header
class on every lookup. :class:`MessageTemplate` instead

* renders each header once and caches the bytes (From, Subject, Reply-To, Cc usually
  come from the operation and are the same for every document);
* writes plain headers directly when the value is ASCII that needs no quoting,
  encoding or folding (a patient's bare address in ``To``, ``Message-ID``, ``Date``);
* encodes bodies after choosing 7bit, quoted-printable or base64 from the data.

``bench/mime_build.py`` measures both ways; ``test_mail_mime.py`` checks that
they produce the same message.

Header values are laid out so that every reader decodes the same text: a literal
``=?utf-8?q?...?=`` is always encoded (else readers decode it), display names never put
two encoded words side by side (RFC 2047 drops the blank between them, Python's parser
keeps it), and file names that are not plain use RFC 2231.

Every value that comes from data passes through :func:`clean_header_text`,
:func:`clean_file_name` or the address parser first, so a CR or LF can never start a
header of its own (header injection); see ``tests/mail/test_mail_mime_properties.py``.
"""

from __future__ import annotations

import codecs
import hashlib
import mimetypes
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from functools import lru_cache

from ._addresses import (
    MAX_DISPLAY_NAME_BYTES,
    AddressError,
    MailAddress,
    clean_file_name,
    clean_header_text,
    parse_addresses,
)
from ._encoding import (
    MAX_ENCODED_WORD,
    base64_body,
    encode_text_body,
    render_address_header,
    render_disposition,
    render_text_header,
)

__all__ = [
    "MAX_DISPLAY_NAME_BYTES",
    "MAX_ENCODED_WORD",
    "AddressError",
    "BodyError",
    "ContentType",
    "Letter",
    "Part",
    "MailAddress",
    "MessageTemplate",
    "clean_file_name",
    "clean_header_text",
    "default_file_name",
    "encode_text_body",
    "message_id_for",
    "parse_addresses",
    "parse_content_type",
    "render_address_header",
    "render_text_header",
]

_PLAIN_ADDR = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+\Z")

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_CONTENT_TYPE = re.compile(rf"\s*({_TOKEN})/({_TOKEN})\s*((?:;.*)?)\Z", re.DOTALL)
_PARAM = re.compile(rf"\s*({_TOKEN})\s*=\s*(\"[^\"]*\"|{_TOKEN})\s*\Z")

#: Boomi's names and common types whose extension ``mimetypes`` does not know or guesses oddly.
_EXTENSIONS = {
    "text/plain": ".txt",
    "text/html": ".html",
    "text/xml": ".xml",
    "application/xml": ".xml",
    "text/csv": ".csv",
    "application/json": ".json",
    "application/octet-stream": ".bin",
    "application/edifact": ".edi",
    "application/edi-x12": ".x12",
    "application/pdf": ".pdf",
}



# -- content types ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ContentType:
    """A validated MIME type; ``charset`` only for text types (None: utf-8)."""

    maintype: str
    subtype: str
    charset: str | None = None

    @property
    def mime_type(self) -> str:
        return f"{self.maintype}/{self.subtype}"

    @property
    def is_text(self) -> bool:
        return self.maintype == "text"

    @property
    def text_charset(self) -> str:
        return self.charset or "utf-8"

    @property
    def extension(self) -> str:
        known = _EXTENSIONS.get(self.mime_type)
        if known:
            return known
        guessed = mimetypes.guess_extension(self.mime_type, strict=False)
        return guessed or (".txt" if self.is_text else ".dat")

    def __str__(self) -> str:
        return self.mime_type + (f"; charset={self.charset}" if self.charset else "")


@lru_cache(maxsize=256)
def parse_content_type(value: str) -> ContentType:
    """Validate ``type/subtype`` (with an optional ``charset`` for text types).

    ``application/binary`` (Boomi's name) means ``application/octet-stream``. multipart
    and message types are refused: Postroom builds the multipart structure itself, and
    an attached part of those types may not be base64-encoded (RFC 2046).
    """
    match = _CONTENT_TYPE.match(value or "")
    if not match:
        raise ValueError(
            f"{value!r} is not a MIME type: write it as type/subtype, such as text/plain, "
            "text/html, application/pdf or application/octet-stream"
        )
    maintype, subtype, rest = match.group(1).lower(), match.group(2).lower(), match.group(3)
    if (maintype, subtype) == ("application", "binary"):
        subtype = "octet-stream"
    if maintype in ("multipart", "message"):
        raise ValueError(
            f"{maintype}/{subtype} cannot be used here: Postroom builds the message structure "
            "itself; use application/octet-stream to attach a ready-made file"
        )
    charset = None
    for raw in filter(None, (p for p in rest.split(";"))):
        if not raw.strip():
            continue
        param = _PARAM.match(raw)
        if not param or param.group(1).lower() != "charset":
            raise ValueError(
                f"{value!r}: only a charset parameter is allowed (text/plain; charset=windows-1252)"
            )
        if maintype != "text":
            raise ValueError(f"{value!r}: a charset only applies to text types")
        name = param.group(2).strip('"')
        try:
            charset = codecs.lookup(name).name
        except LookupError:
            raise ValueError(f"{value!r}: unknown charset {name!r}") from None
        charset = {"utf-8": None}.get(charset, _charset_label(charset))
    return ContentType(maintype, subtype, charset)


def _charset_label(codec_name: str) -> str:
    """The IANA label mail clients know for a Python codec name (cp1252 -> windows-1252)."""
    if codec_name.startswith("cp") and codec_name[2:].isdigit() and codec_name[2:].startswith("125"):
        return "windows-" + codec_name[2:]
    return {"latin-1": "iso-8859-1", "iso8859-1": "iso-8859-1"}.get(codec_name, codec_name.replace("_", "-"))


# -- addresses -------------------------------------------------------------------------------


def message_id_for(execution_id: str, key: str, domain: str | None) -> str:
    """A Message-ID stable for one execution and send key.

    A repeat of the same send (a resumed execution) carries the same id, so receiving
    systems that deduplicate on Message-ID see one message (DESIGN.md principle 9).
    """
    digest = hashlib.sha256(f"{execution_id}/{key}".encode()).hexdigest()[:32]
    host = domain if domain and _PLAIN_ADDR.match(f"x@{domain}") else "postroom.local"
    return f"<{digest}@{host}>"


def default_file_name(content_type: ContentType, index: int, now: datetime | None = None) -> str:
    """A name from the time, the document number and the type: ``20261123-101500-3.txt``."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{index}{content_type.extension}"


# -- header rendering ------------------------------------------------------------------------


class _HeaderCache:
    """Rendered header lines keyed by their value; bounded, shared by threads.

    A plain dict: lookups and inserts are atomic under the GIL, and a clear racing a
    lookup only costs a re-render.
    """

    def __init__(self, limit: int = 1024) -> None:
        self._limit = limit
        self._lines: dict[tuple, bytes] = {}

    def get(self, key: tuple) -> bytes | None:
        return self._lines.get(key)

    def put(self, key: tuple, line: bytes) -> bytes:
        if len(self._lines) >= self._limit:
            self._lines.clear()
        self._lines[key] = line
        return line


# -- messages --------------------------------------------------------------------------------


class _DateCache:
    """The Date header, re-rendered at most once a second (formatting is not free)."""

    def __init__(self) -> None:
        self._second = -1
        self._line = b""
        self._lock = threading.Lock()

    def line(self) -> bytes:
        now = time.time()
        second = int(now)
        with self._lock:
            if second != self._second:
                stamp = format_datetime(datetime.fromtimestamp(second).astimezone())
                self._line = f"Date: {stamp}\r\n".encode("ascii")
                self._second = second
            return self._line


@dataclass(frozen=True)
class Part:
    """A file in the email: an attachment, or an inline image when ``cid`` is set."""

    name: str
    content_type: ContentType
    data: bytes
    cid: str = ""


@dataclass
class Letter:
    """What varies per email; the template supplies the rest."""

    sender: MailAddress
    to: list[MailAddress]
    cc: list[MailAddress]
    reply_to: list[MailAddress]
    subject: str
    message_id: str
    data: bytes
    body: str = ""
    file_name: str = ""
    #: custom headers (name, value), names checked (see _headers.py); values cleaned here
    headers: list[tuple[str, str]] = field(default_factory=list)
    #: the plain-text twin of an HTML body; blank: generated from the HTML
    text_body: str = ""
    #: the document's type when it is not the operation's (mail.attachment_content_type)
    data_type: ContentType | None = None
    #: images the HTML body shows by cid (multipart/related), and further attachments
    inline_images: list[Part] = field(default_factory=list)
    attachments: list[Part] = field(default_factory=list)

    @property
    def smtputf8(self) -> bool:
        return any(a.smtputf8 for a in (self.sender, *self.to, *self.cc, *self.reply_to))


class BodyError(ValueError):
    """The document's bytes do not match the declared text charset."""


class MessageTemplate:
    """Builds one operation's messages; caches every header that repeats.

    ``disposition`` inline: the document is the body, typed by ``attachment_type``.
    ``attachment``: multipart/mixed with ``body`` typed by ``body_type`` and the
    document attached. An HTML body is multipart/alternative (the text twin first), its
    inline images with it in multipart/related; the letter's further attachments follow
    the document in multipart/mixed:

        mixed ( alternative ( text/plain, related ( text/html, image... ) ), files... )
    """

    def __init__(self, *, disposition: str, attachment_type: ContentType, body_type: ContentType) -> None:
        self.disposition = disposition
        self.attachment_type = attachment_type
        self.body_type = body_type
        self._cache = _HeaderCache()
        self._date = _DateCache()
        self._part_heads: dict[tuple[ContentType, str], bytes] = {}

    # headers -------------------------------------------------------------------------------
    def _addresses(self, name: str, addresses: list[MailAddress]) -> bytes:
        if len(addresses) == 1 and not addresses[0].display_name:  # a bare To, new every letter: not cached
            return f"{name}: <{addresses[0].addr}>\r\n".encode()  # as render_address_header writes it
        key = (name, tuple(addresses))
        line = self._cache.get(key)
        if line is None:
            line = self._cache.put(key, render_address_header(name, addresses))
        return line

    def _text(self, name: str, text: str) -> bytes:
        key = (name, text)
        line = self._cache.get(key)
        if line is None:
            line = self._cache.put(key, render_text_header(name, text))
        return line

    @staticmethod
    def _content_type_line(content_type: ContentType, *, with_charset: bool) -> bytes:
        text = f"Content-Type: {content_type.mime_type}"
        if with_charset and content_type.is_text:
            text += f'; charset="{content_type.text_charset}"'
        return text.encode("ascii") + b"\r\n"

    def headers(self, letter: Letter) -> list[bytes]:
        lines = [self._addresses("From", [letter.sender]), self._addresses("To", letter.to)]
        if letter.cc:
            lines.append(self._addresses("Cc", letter.cc))
        if letter.reply_to:
            lines.append(self._addresses("Reply-To", letter.reply_to))
        lines.append(self._text("Subject", clean_header_text(letter.subject)))
        lines.append(self._date.line())
        lines.append(b"Message-ID: " + letter.message_id.encode("ascii") + b"\r\n")
        lines.append(b"MIME-Version: 1.0\r\n")
        for name, value in letter.headers:
            lines.append(self._text(name, clean_header_text(value)))
        return lines

    # bodies --------------------------------------------------------------------------------
    def _text_part(self, content_type: ContentType, data: bytes | str) -> tuple[bytes, bytes]:
        """(Content-Type + CTE header lines, encoded body) of a text part."""
        charset = content_type.text_charset
        if isinstance(data, bytes):
            try:
                text = data.decode(charset)
            except UnicodeDecodeError:
                raise BodyError(
                    f"the document is not valid {charset} text, as the content type "
                    f"{content_type.mime_type} says; declare its charset "
                    f"({content_type.mime_type}; charset=windows-1252) or use application/octet-stream"
                ) from None
        else:
            text = data
        cte, body = encode_text_body(text, charset)
        head = self._part_heads.get((content_type, cte))
        if head is None:  # two types and three encodings at most: rendered once each
            head = self._content_type_line(content_type, with_charset=True)
            head += b"Content-Transfer-Encoding: " + cte.encode("ascii") + b"\r\n"
            self._part_heads[(content_type, cte)] = head
        return head, body

    def build(self, letter: Letter) -> bytes:
        """The full message as CRLF bytes, ready for SMTP DATA."""
        return b"".join(self.headers(letter)) + self._entity(letter)

    def _entity(self, letter: Letter) -> bytes:
        """The message's content: its body, and the attachments around it (multipart/mixed)."""
        data_type = letter.data_type or self.attachment_type
        if self.disposition == "inline":
            body, attached = self._body(data_type, letter.data, letter), []
        else:
            body = self._body(self.body_type, letter.body, letter)
            attached = [self._attachment(Part(letter.file_name, data_type, letter.data))]
        attached += [self._attachment(part) for part in letter.attachments]
        return _multipart("mixed", [body, *attached]) if attached else body

    def _body(self, content_type: ContentType, data: bytes | str, letter: Letter) -> bytes:
        """The body entity: HTML with its text twin (and inline images), text, or binary."""
        if content_type.mime_type == "text/html":
            return self._html(content_type, data, letter)
        if content_type.is_text:
            head, body = self._text_part(content_type, data)
            return head + b"\r\n" + body
        raw = data if isinstance(data, bytes) else data.encode("utf-8")
        head = self._content_type_line(content_type, with_charset=False)
        return head + b"Content-Transfer-Encoding: base64\r\n\r\n" + base64_body(raw)

    def _html(self, content_type: ContentType, data: bytes | str, letter: Letter) -> bytes:
        """multipart/alternative: the text twin first, then the HTML (with its images:
        multipart/related) that clients prefer."""
        head, body = self._text_part(content_type, data)
        html = head + b"\r\n" + body
        if letter.inline_images:
            html = _multipart("related", [html, *(self._inline_image(p) for p in letter.inline_images)],
                              b'; type="text/html"')
        if not (text := letter.text_body):
            from ._html_text import html_to_text  # html.parser: only for an HTML letter without its text twin

            text = html_to_text(self.decoded(content_type, data))
        text_head, text_body = self._text_part(ContentType("text", "plain"), text)
        return _multipart("alternative", [text_head + b"\r\n" + text_body, html])

    @staticmethod
    def decoded(content_type: ContentType, data: bytes | str) -> str:
        """The text of a text body (the document's bytes in its charset; BodyError if not)."""
        if isinstance(data, str):
            return data
        try:
            return data.decode(content_type.text_charset)
        except UnicodeDecodeError:
            raise BodyError(f"the document is not valid {content_type.text_charset} text, as the content "
                            f"type {content_type.mime_type} says") from None

    def _attachment(self, part: Part) -> bytes:
        content_type, data = part.content_type, part.data
        with_charset = False
        if content_type.is_text:
            # Attach the exact bytes (base64 keeps them byte for byte); name the charset
            # only when the bytes really are text in it.
            try:
                data.decode(content_type.text_charset)
                with_charset = True
            except UnicodeDecodeError:
                pass
        return b"".join((
            self._content_type_line(content_type, with_charset=with_charset),
            b"Content-Transfer-Encoding: base64\r\n",
            render_disposition(clean_file_name(part.name) or "attachment.dat"),
            b"\r\n",
            base64_body(data),
        ))

    def _inline_image(self, part: Part) -> bytes:
        return b"".join((
            self._content_type_line(part.content_type, with_charset=False),
            b"Content-Transfer-Encoding: base64\r\n",
            b"Content-ID: <" + part.cid.encode("ascii") + b">\r\n",
            render_disposition(clean_file_name(part.name) or f"{part.cid}{part.content_type.extension}",
                               kind="inline"),
            b"\r\n",
            base64_body(part.data),
        ))


def _multipart(subtype: str, parts: list[bytes], parameters: bytes = b"") -> bytes:
    """A multipart entity of ``parts`` (each its header lines, a blank line and its body)."""
    boundary = _boundary(*parts)
    dash = b"--" + boundary
    head = b"Content-Type: multipart/" + subtype.encode("ascii") + b'; boundary="' + boundary + b'"'
    out = [head + parameters + b"\r\n\r\n"]
    for part in parts:
        out += [dash, b"\r\n", part, b"\r\n"]
    out.append(dash + b"--\r\n")
    return b"".join(out)


def _boundary(*parts: bytes) -> bytes:
    """A random boundary that appears in none of the parts (RFC 2046 section 5.1.1)."""
    while True:
        boundary = b"=_postroom_" + secrets.token_hex(16).encode("ascii")
        if not any(boundary in part for part in parts):
            return boundary
