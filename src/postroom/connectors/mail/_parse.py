"""Read a received message into the parts a get operation turns into documents.

The parser streams: it reads the raw message line by line from a file, decodes each
leaf part (base64, quoted-printable, 7bit/8bit/binary) as it goes, and writes what is
kept in memory up to the SDK's spool threshold, then in a temporary file. Memory stays
flat whatever the size of an attachment, and nothing is kept of the parts a get does not
deliver. Headers are read as the stdlib's :class:`email.parser.BytesHeaderParser` with
policy ``compat32`` reads them, which keeps values as written (25 times faster than policy
``default``, whose header registry dominated the read benchmark; plain blocks are split
by :func:`parse_headers` itself, the same fields five times faster); :func:`header_text` decodes RFC 2047 encoded words and raw 8-bit
text, and the message's ``get_filename``/``get_boundary`` collapse RFC 2231 parameters
(``filename*0*=UTF-8''...``).

What is a body and what is an attachment (``classify``):

* an **attachment** is a leaf part with ``Content-Disposition: attachment``, or with a
  file name, or whose type is neither text/plain nor text/html (a PDF, an image, a
  calendar invitation, an attached email ``message/rfc822``);
* the **text body** is the first other text/plain part, the **HTML body** the first
  other text/html part (so a multipart/alternative gives one of each).

Body texts are decoded from their charset and delivered as UTF-8 with ``\\n`` line
breaks; attachments are delivered as the bytes that were attached.

A message is **broken** (:class:`BrokenMessage`, with a reason naming the part) when a
multipart has no boundary, when the message ends inside a multipart (no closing
boundary: it was cut short), or when a base64 part holds characters that are not
base64 or ends in the middle of a group. It is also broken when it goes past a limit
(:class:`Limits`): multiparts nested deeper than ``max_depth``, a header block (of the
message or of a part) with more than ``max_header_fields`` fields or more than
``max_header_bytes`` bytes. The limits keep a hostile message (500 nested multiparts in
28 KB, 100,000 header fields) from exhausting the stack or the CPU: it fails alone, in
time linear in its size, and the rest of the mailbox is read. Every part is checked, also the ones the
operation does not deliver, so a broken message fails the same whatever the
disposition. An unknown charset is not fatal: the text is read as UTF-8 with
replacement characters and a warning says so.
"""

from __future__ import annotations

import binascii
import codecs
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from functools import lru_cache
from io import BytesIO
from tempfile import TemporaryFile
from typing import IO

from ...sdk import SPOOL_THRESHOLD
from ._header_fields import (
    MimeValues,
    boundary_of,
    clean_name,
    content_type_of,
    header_text,
    leaf_fields,
    mime_call,
    mime_values,
    parse_headers,
)

__all__ = ["BrokenMessage", "Limits", "MailPart", "ParsedMail", "parse_message", "parse_headers", "header_text"]

_LINE_LIMIT = 64 * 1024
_FEED_CHUNK = 64 * 1024
_BASE64_BAD = re.compile(rb"[^A-Za-z0-9+/=]")


class BrokenMessage(Exception):
    """The message cannot be read into correct documents; the text says which part and why."""


@dataclass(frozen=True)
class Limits:
    """How far the parser goes before it calls a message broken (the get operation's
    ``max_mime_depth``, ``max_header_fields`` and ``max_header_bytes``)."""

    max_depth: int = 50
    max_header_fields: int = 1000
    max_header_bytes: int = 1024 * 1024


@dataclass
class MailPart:
    """One leaf part kept by the parser: its decoded content in a spooled file."""

    path: str  # 1, 1.2, ... (IMAP-style part numbers; "1" for a single-part message)
    content_type: str  # type/subtype, lower case
    charset: str
    disposition: str  # attachment | inline | ""
    file_name: str
    kind: str  # text | html | attachment
    content: IO[bytes]
    size: int = 0

    def close(self) -> None:
        self.content.close()


@dataclass
class ParsedMail:
    headers: Message
    text: MailPart | None = None
    html: MailPart | None = None
    attachments: list[MailPart] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def close(self) -> None:
        for part in self.parts():
            part.close()

    def parts(self) -> list[MailPart]:
        return [p for p in (self.text, self.html) if p is not None] + self.attachments



# -- line reading ------------------------------------------------------------------------------


class _Lines:
    """Lines of a binary stream, each with its line ending; a line longer than the limit
    comes in pieces, and only the first piece of a line can be a boundary."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.readline = stream.readline  # public: the body loop reads lines itself (hot path)
        self.at_start = True  # the next piece starts a line

    def next(self) -> tuple[bytes, bool] | None:
        piece = self.readline(_LINE_LIMIT)
        if not piece:
            return None
        starts = self.at_start
        self.at_start = piece.endswith(b"\n")
        return piece, starts


def _strip_eol(piece: bytes) -> bytes:
    if piece.endswith(b"\r\n"):
        return piece[:-2]
    if piece.endswith(b"\n") or piece.endswith(b"\r"):
        return piece[:-1]
    return piece


# -- decoders: bytes of the part as transferred -> bytes of the content -----------------------


class _Sink:
    """Where kept content goes: memory (a list of pieces) up to the spool threshold, then a
    temporary file."""

    def __init__(self) -> None:
        self.pieces: list[bytes] = []
        self.file: IO[bytes] | None = None
        self.size = 0

    def write(self, data: bytes) -> None:
        if not data:
            return
        self.size += len(data)
        if self.file is not None:
            self.file.write(data)
            return
        self.pieces.append(data)
        if self.size > SPOOL_THRESHOLD:
            self.file = TemporaryFile()  # noqa: SIM115 - the part's content, closed with the part
            self.file.write(b"".join(self.pieces))
            self.pieces = []

    def result(self) -> IO[bytes]:
        """The content, positioned at its start."""
        if self.file is None:
            return BytesIO(b"".join(self.pieces))
        self.file.seek(0)
        return self.file


class _Null:
    size = 0

    def write(self, data: bytes) -> None:
        pass


def _text_decoder(charset: str) -> codecs.IncrementalDecoder | None:
    """An incremental decoder from ``charset`` to text, or None when there is none: an
    unknown name, a codec that is not bytes-to-text (base64, zlib, rot13) or one that
    cannot replace what it cannot read (idna, punycode, undefined)."""
    readable = _reads_text(charset) if len(charset) <= 64 else _reads_text.__wrapped__(charset)
    return codecs.getincrementaldecoder(charset)(errors="replace") if readable else None


@lru_cache(maxsize=256)
def _reads_text(charset: str) -> bool:
    """Does the charset's codec read bytes into text, replacing what it cannot read? (once per name)"""
    try:
        probe = codecs.getincrementaldecoder(charset)(errors="replace").decode(b"a\x80\xff\r\n", True)
    except Exception:  # noqa: BLE001 - a codec may raise anything (LookupError, UnicodeError, TypeError...)
        return False
    return isinstance(probe, str)


class _Text:
    """Charset bytes -> UTF-8 with \\n line breaks, streaming (a trailing \\r waits for its \\n)."""

    def __init__(self, sink: _Sink, charset: str, warn: Callable[[str], None], where: str) -> None:
        self.sink = sink
        self._warn, self._where, self._charset = warn, where, charset
        decoder = _text_decoder(charset)
        if decoder is None:
            try:
                codecs.lookup(charset)
                what = f"the charset {charset[:60]!r}, which cannot be read as text"
            except (LookupError, ValueError, TypeError):
                what = f"the unknown charset {charset[:60]!r}"
            warn(f"{where} names {what}; read as UTF-8")
            decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._decoder = decoder
        self._carry = ""

    def _decode(self, data: bytes, final: bool) -> str:
        try:
            text = self._decoder.decode(data, final)
            if isinstance(text, str):
                return text
        except Exception:  # noqa: BLE001 - see _text_decoder: a codec that failed on this data
            pass
        self._warn(f"{self._where}: the charset {self._charset[:60]!r} failed on its text; the rest is read as UTF-8")
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        return self._decoder.decode(data, final)

    def write(self, data: bytes, final: bool = False) -> None:
        text = self._carry + self._decode(data, final)
        self._carry = ""
        if text.endswith("\r") and not final:
            text, self._carry = text[:-1], "\r"
        if text:
            self.sink.write(text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8"))

    @property
    def size(self) -> int:
        return self.sink.size


class _Decoder:
    def __init__(self, out, where: str) -> None:  # noqa: ANN001 - a _Sink, _Text or _Null
        self.out = out
        self.where = where

    def feed(self, piece: bytes) -> None:
        self.out.write(piece)

    def finish(self) -> None:
        if isinstance(self.out, _Text):
            self.out.write(b"", final=True)


class _QuotedPrintable(_Decoder):
    def feed(self, piece: bytes) -> None:
        self.out.write(binascii.a2b_qp(piece))


class _Base64(_Decoder):
    """Lines are gathered and decoded some 64 KB at a time (one regex check, one decode)."""

    CHUNK = 64 * 1024

    def __init__(self, out, where: str) -> None:  # noqa: ANN001
        super().__init__(out, where)
        self._lines: list[bytes] = []
        self._size = 0
        self._pending = b""

    def feed(self, piece: bytes) -> None:
        self._lines.append(piece)
        self._size += len(piece)
        if self._size >= self.CHUNK:
            self._flush()

    def _flush(self) -> None:
        data = self._pending + b"".join(self._lines).translate(None, b" \t\r\n")
        self._lines, self._size = [], 0
        bad = _BASE64_BAD.search(data)
        if bad:
            raise BrokenMessage(
                f"{self.where} is declared base64 but holds {bad.group(0)!r}, which is not a base64 character"
            )
        cut = len(data) // 4 * 4
        self._pending = data[cut:]
        if cut:
            self._decode(data[:cut])

    def _decode(self, data: bytes) -> None:
        try:
            self.out.write(binascii.a2b_base64(data))
        except binascii.Error as exc:
            raise BrokenMessage(f"{self.where} is not valid base64 ({exc})") from None

    def finish(self) -> None:
        self._flush()
        if self._pending:
            if len(self._pending) % 4 == 1:
                raise BrokenMessage(f"{self.where} ends in the middle of a base64 group: it is cut short")
            self._decode(self._pending + b"=" * (-len(self._pending) % 4))
            self._pending = b""
        super().finish()


def _decoder(encoding: str, out, where: str) -> _Decoder:  # noqa: ANN001
    if encoding == "base64":
        return _Base64(out, where)
    if encoding == "quoted-printable":
        return _QuotedPrintable(out, where)
    return _Decoder(out, where)


# -- the walk ----------------------------------------------------------------------------------



def classify(content_type: str, disposition: str, file_name: str) -> str:
    """text | html | attachment (see the module docstring)."""
    if disposition == "attachment" or file_name:
        return "attachment"
    if content_type == "text/plain":
        return "text"
    if content_type == "text/html":
        return "html"
    return "attachment"


class _Walker:
    def __init__(self, stream: IO[bytes], keep: set[str], limits: Limits) -> None:
        self.stream = stream
        # a message in memory: its bytes (BytesIO shares them, no copy), for body_in_memory
        self.data: bytes | None = stream.getvalue() if isinstance(stream, BytesIO) else None
        self.lines = _Lines(stream)
        self.keep = keep
        self.limits = limits
        self.mail: ParsedMail | None = None
        self.warnings: list[str] = []
        self._attachment_count = 0

    # headers ------------------------------------------------------------------------------
    def headers(self, stack: list[bytes], where: str) -> tuple[Message, tuple[int, bool] | None, bool]:
        """Read a header block; returns the headers, a boundary met instead of the blank
        line (an empty part), and whether the stream ended."""
        block: list[bytes] = []
        fields = size = 0
        limits = self.limits
        while True:
            item = self.lines.next()
            if item is None:
                return parse_headers(b"".join(block) + b"\r\n"), None, True
            piece, starts = item
            if starts and piece in (b"\r\n", b"\n"):
                return parse_headers(b"".join(block) + b"\r\n"), None, False
            if starts and stack and piece.startswith(b"--"):
                term = _match(piece, stack)
                if term is not None:
                    return parse_headers(b"".join(block) + b"\r\n"), term, False
            if starts and piece[:1] not in (b" ", b"\t"):
                fields += 1
                if fields > limits.max_header_fields:
                    raise BrokenMessage(f"{where} has more than {limits.max_header_fields} header fields "
                                        "(the limit max_header_fields)")
            size += len(piece)
            if size > limits.max_header_bytes:
                raise BrokenMessage(f"{where} has more than {limits.max_header_bytes} bytes of header fields "
                                    "(the limit max_header_bytes)")
            block.append(piece)

    # entities -----------------------------------------------------------------------------
    def entity(self, headers: Message, stack: list[bytes], path: str) -> tuple[int, bool] | None:
        mime = mime_values(headers)
        content_type = mime_call(content_type_of, mime)
        if content_type.startswith("multipart/"):
            return self.multipart(mime, content_type, stack, path)
        return self.leaf(mime, content_type, stack, path)

    def multipart(self, mime: MimeValues, content_type: str, stack: list[bytes], path: str):  # noqa: ANN201
        where = f"part {path}" if path else "the message"
        if len(stack) >= self.limits.max_depth:
            raise BrokenMessage(f"{where} is {content_type} nested {len(stack) + 1} multiparts deep, more than "
                                f"{self.limits.max_depth} (the limit max_mime_depth)")
        boundary = mime_call(boundary_of, mime)
        if not boundary:
            raise BrokenMessage(f"{where} is {content_type} but names no boundary, so its parts cannot be found")
        inner = [*stack, boundary.encode("utf-8", "surrogateescape")]
        mine = len(inner) - 1
        term = self.skip(inner)  # the preamble
        number = 0
        while True:
            if term is None:
                raise BrokenMessage(
                    f"{where} ({content_type}) ends without its closing boundary: the message is cut short"
                )
            depth, close = term
            if depth < mine:
                return term  # an outer boundary closes this multipart too (lenient, nothing is lost)
            if close:
                break
            number += 1
            child_path = f"{path}.{number}" if path else str(number)
            child, early, ended = self.headers(inner, f"part {child_path}")
            if content_type == "multipart/digest" and child.get("Content-Type") is None:
                child.set_default_type("message/rfc822")
            if ended:
                term = None
            elif early is not None:
                term = early  # a part with headers only
            else:
                term = self.entity(child, inner, child_path)
        return self.skip(stack)  # the epilogue, up to an outer boundary or the end

    def skip(self, stack: list[bytes]) -> tuple[int, bool] | None:
        while True:
            item = self.lines.next()
            if item is None:
                return None
            piece, starts = item
            if starts and stack and piece.startswith(b"--"):
                term = _match(piece, stack)
                if term is not None:
                    return term

    def leaf(self, mime: MimeValues, content_type: str, stack: list[bytes], path: str):  # noqa: ANN201
        path = path or "1"
        where = f"part {path} ({content_type})"
        disposition, file_name, charset, encoding = mime_call(leaf_fields, mime)
        kind = classify(content_type, disposition, file_name)
        assert self.mail is not None
        taken = (kind == "text" and self.mail.text is None) or (kind == "html" and self.mail.html is None)
        keep = (kind in self.keep and taken) or (kind == "attachment" and "attachment" in self.keep)
        sink = _Sink() if keep else _Null()
        out: _Sink | _Null | _Text = sink
        if keep and kind in ("text", "html"):
            out = _Text(sink, _python_charset(charset), self.warnings.append, where)  # type: ignore[arg-type]
        decoder = _decoder(encoding, out, where)
        term = self.body(decoder, stack)
        decoder.finish()
        if not keep:
            return term
        assert isinstance(sink, _Sink)
        content = sink.result()
        if kind == "attachment":
            self._attachment_count += 1
            if not file_name:
                file_name = self._default_name(content_type, content)
        part = MailPart(path, content_type, charset, disposition, file_name, kind, content, sink.size)
        if kind == "text":
            self.mail.text = part
        elif kind == "html":
            self.mail.html = part
        else:
            self.mail.attachments.append(part)
        return term

    def _default_name(self, content_type: str, content: IO[bytes]) -> str:
        if content_type == "message/rfc822":
            head = content.read(64 * 1024)
            content.seek(0)
            subject = header_text(parse_headers(head.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n").get("Subject"))
            stem = clean_name(subject) or f"message-{self._attachment_count}"
            return f"{stem[:200]}.eml"
        extension = mimetypes.guess_extension(content_type, strict=False) or ".bin"
        return f"attachment-{self._attachment_count}{extension}"

    def body(self, decoder: _Decoder, stack: list[bytes]) -> tuple[int, bool] | None:
        """Feed the part's lines to the decoder up to a boundary; the line break before a
        boundary belongs to the boundary (RFC 2046). Lines go to the decoder some 64 KB at
        a time; this loop is the parser's hot path, so it reads lines itself (or, for a
        message in memory, looks for the boundary in its bytes: :meth:`body_in_memory`)."""
        if self.data is not None and self.lines.at_start:
            return self.body_in_memory(self.data, decoder, stack)
        lines = self.lines
        read = lines.readline
        at_start = lines.at_start
        batch: list[bytes] = []
        size = 0
        previous: bytes | None = None
        term: tuple[int, bool] | None = None
        try:
            while True:
                piece = read(_LINE_LIMIT)
                if not piece:
                    if previous is not None:
                        batch.append(previous)
                    break
                starts = at_start
                at_start = piece[-1:] == b"\n"
                if starts and stack and piece[:2] == b"--":
                    term = _match(piece, stack)
                    if term is not None:
                        if previous is not None:
                            batch.append(_strip_eol(previous))
                        break
                if previous is not None:
                    batch.append(previous)
                    size += len(previous)
                    if size >= _FEED_CHUNK:
                        decoder.feed(b"".join(batch))
                        batch, size = [], 0
                previous = piece
        finally:
            lines.at_start = at_start
        if batch:
            decoder.feed(b"".join(batch))
        return term


    def body_in_memory(self, data: bytes, decoder: _Decoder, stack: list[bytes]) -> tuple[int, bool] | None:
        """:meth:`body` for a message held in memory: the same lines (pieces of at most
        ``_LINE_LIMIT`` bytes, a boundary only at the start of a line), found with
        ``bytes.find`` instead of a Python loop over every line."""
        start = self.stream.tell()
        end = len(data)
        cut = resume = end
        at_start = self.lines.at_start if end == start else data[end - 1 : end] == b"\n"
        term: tuple[int, bool] | None = None
        candidate = -1
        if stack:
            candidate = start if data.startswith(b"--", start) else data.find(b"\n--", start) + 1 or -1
        while candidate > -1:
            line_end = data.find(b"\n", candidate, candidate + _LINE_LIMIT)
            piece_end = line_end + 1 if line_end >= 0 else min(end, candidate + _LINE_LIMIT)
            term = _match(data[candidate:piece_end], stack)
            if term is not None:
                cut = candidate  # the line break before it belongs to the boundary
                cut -= 2 if cut - start >= 2 and data[cut - 2 : cut] == b"\r\n" else 1 if cut > start else 0
                resume, at_start = piece_end, data[piece_end - 1 : piece_end] == b"\n"
                break
            candidate = data.find(b"\n--", candidate + 1) + 1 or -1
        position = start
        while position < cut:  # whole lines, some 64 KB at a time
            following = data.find(b"\n", position + _FEED_CHUNK, cut)
            following = cut if following < 0 else following + 1
            decoder.feed(data[position:following])
            position = following
        self.stream.seek(resume)
        self.lines.at_start = at_start
        return term


def _match(piece: bytes, stack: list[bytes]) -> tuple[int, bool] | None:
    """(index in the stack, closing?) when the line is one of the boundaries."""
    line = piece.rstrip(b"\r\n \t")
    for depth in range(len(stack) - 1, -1, -1):
        boundary = stack[depth]
        if line == b"--" + boundary:
            return depth, False
        if line == b"--" + boundary + b"--":
            return depth, True
    return None


_CHARSET_ALIASES = {"": "utf-8", "us-ascii": "utf-8", "ascii": "utf-8", "unknown-8bit": "utf-8",
                    "x-unknown": "utf-8", "ks_c_5601-1987": "cp949", "iso-8859-8-i": "iso-8859-8"}


def _python_charset(charset: str) -> str:
    """The codec for a MIME charset (US-ASCII is read as UTF-8: senders put 8-bit text
    under it, and UTF-8 reads ASCII the same)."""
    return _CHARSET_ALIASES.get(charset, charset)


def parse_message(stream: IO[bytes], keep: set[str] | frozenset[str] = frozenset({"text"}),
                  limits: Limits | None = None) -> ParsedMail:
    """Read the message in ``stream``; keep the parts of the kinds in ``keep``
    (``text``, ``html``, ``attachment``). Raises :class:`BrokenMessage`."""
    walker = _Walker(stream, set(keep), limits or Limits())
    headers, _, ended = walker.headers([], "the message")
    mail = ParsedMail(headers=headers)
    walker.mail = mail
    try:
        if not ended:
            term = walker.entity(headers, [], "")
            if term is not None:  # pragma: no cover - no boundary can match an empty stack
                raise BrokenMessage("a boundary line outside any multipart")
        elif headers.get_content_type().startswith("multipart/"):
            raise BrokenMessage("the message ends inside its headers: it is cut short")
    except BaseException:
        mail.close()
        raise
    mail.warnings = walker.warnings
    return mail
