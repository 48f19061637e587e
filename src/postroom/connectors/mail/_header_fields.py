"""Header fields of a received message as the stdlib reads them, faster.

:func:`parse_headers` gives what :class:`email.parser.BytesHeaderParser` (policy
``compat32``, values kept as written) gives; a plain block is split here. :func:`header_text`
makes a value one line of text. The MIME fields of a part (type, boundary, disposition, file
name, charset, transfer encoding) are read by the stdlib's :class:`~email.message.Message`
methods, and what they make of a value is remembered (:func:`mime_call`): the values repeat
from message to message.
"""

from __future__ import annotations

import binascii
import email.header
import re
from email import base64mime, policy, quoprimime
from email.errors import MessageError
from email.header import Header, decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser
from functools import lru_cache

__all__ = ["MimeValues", "boundary_of", "clean_name", "content_type_of", "header_text", "leaf_fields", "mime_call",
           "mime_values", "parse_headers", "utf8_words"]

#: the stdlib's own encoded-word pattern (decode_header's), so the words found are the same
_ENCODED_WORD: re.Pattern[str] = email.header.ecre  # type: ignore[attr-defined]  # not in typeshed
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
_HEADER_PARSER = BytesHeaderParser(policy=policy.compat32)
_SURROGATE = re.compile("[\udc80-\udcff]")
_SPACES = re.compile(r"\s+")
_PLAIN_NOT = re.compile(r"[\x00-\x1f\x7f]|\s\s")  # a value with none of these needs no work
_FIELD_NAME = re.compile(r"[\041-\071\073-\176]+:")  # the stdlib's header line, less its odd cases


def parse_headers(block: bytes) -> Message:
    """A header block (up to the blank line) as a headers-only message: the stdlib's
    :class:`~email.parser.BytesHeaderParser` (``compat32``) result. A block of plain
    ``Name: value`` fields with CRLF line ends (nearly every one) is split here, five times
    faster, into the same fields; anything else goes to the stdlib parser."""
    fields = _simple_fields(block.decode("ascii", "surrogateescape"))
    if fields is None:
        return _HEADER_PARSER.parsebytes(block)
    message = Message()
    for name, value in fields:
        message.set_raw(name, value)
    return message


def _simple_fields(text: str) -> list[tuple[str, str]] | None:
    """The (name, value) fields of a header block as ``compat32`` stores them (a value keeps
    its folding), or None when the block holds anything the stdlib parser treats specially
    (a bare CR or LF, a line that is neither a field nor a continuation, a "From " line)."""
    crlf = text.count("\r\n")
    if text.count("\r") != crlf or text.count("\n") != crlf:
        return None
    fields: list[tuple[str, str]] = []
    name = ""
    parts: list[str] = []
    match = _FIELD_NAME.match
    for line in text.split("\r\n"):
        if not line:
            break  # the blank line ends the block
        if line[0] in " \t":
            if not name:
                return None
            parts.append(line)
            continue
        found = match(line)
        if found is None:
            return None
        if name:
            fields.append((name, "\r\n".join(parts)))
        end = found.end()
        name, parts = line[: end - 1], [line[end:].lstrip(" \t")]
    if name:
        fields.append((name, "\r\n".join(parts)))
    return fields


def _eight_bit(raw: bytes) -> str:
    """Raw 8-bit header bytes (SMTPUTF8 mail, careless mailers): UTF-8, else Latin-1."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def header_text(value: object) -> str:
    """A header value as one line of text: encoded words and raw 8-bit bytes decoded,
    folding and control characters gone."""
    if value is None:
        return ""
    if isinstance(value, str) and value.isascii() and "=?" not in value and not _PLAIN_NOT.search(value):
        return value.strip()  # the common case: nothing to decode or unfold
    if isinstance(value, Header):  # compat32 hands raw 8-bit values over as Header objects
        text = "".join(_eight_bit(chunk) if isinstance(chunk, bytes) else chunk
                       for chunk, _ in decode_header(value))
    else:
        text = str(value)
        if _SURROGATE.search(text):  # raw 8-bit bytes, escaped
            text = _eight_bit(text.encode("utf-8", "surrogateescape"))
    if "=?" in text:
        decoded = utf8_words(text)
        if decoded is not None:
            text = decoded
        else:
            try:
                text = str(make_header(decode_header(text)))
            except (ValueError, LookupError, UnicodeError, binascii.Error, MessageError):
                pass  # not decodable: the text as written
    return _CONTROL.sub("", _SPACES.sub(" ", text)).strip()



def utf8_words(text: str) -> str | None:
    """``str(make_header(decode_header(text)))`` for a one-line ASCII value whose encoded words
    are all UTF-8 (nearly every encoded subject and name), with the stdlib's own Q and B
    decoders and its rules for the spaces between words; None for any other value (the
    caller asks the stdlib) or one the stdlib would refuse."""
    if not text.isascii() or "\n" in text or "\r" in text:
        return None
    parts = _ENCODED_WORD.split(text)
    words: list[tuple[str, str]] = []  # (text, "" | "q" | "b")
    for index in range(0, len(parts), 4):
        plain = parts[index].lstrip() if index == 0 else parts[index]
        if plain:
            words.append((plain, ""))
        if index + 3 < len(parts):
            if parts[index + 1].lower() != "utf-8":
                return None
            words.append((parts[index + 3], parts[index + 2].lower()))
    if not any(kind for _, kind in words):
        return None
    dropped = [n - 1 for n in range(2, len(words)) if words[n][1] and words[n - 2][1] and words[n - 1][0].isspace()]
    for n in reversed(dropped):
        del words[n]
    chunks: list[tuple[bytes, bool]] = []  # runs of the same kind: (bytes, encoded)
    try:
        for word, kind in words:
            if kind == "q":
                data = quoprimime.header_decode(word).encode("latin-1")
            elif kind == "b":
                data = base64mime.decode(word + "=" * (-len(word) % 4))
            else:
                data = word.encode("ascii")
            if chunks and chunks[-1][1] == bool(kind):
                chunks[-1] = (chunks[-1][0] + (data if kind else b" " + data), bool(kind))
            else:
                chunks.append((data, bool(kind)))
        texts = [(data.decode("utf-8" if encoded else "ascii"), encoded) for data, encoded in chunks]
    except (binascii.Error, UnicodeError):
        return None
    out: list[str] = []
    last_encoded = last_space = False
    for string, encoded in texts:
        if out:
            if last_encoded:
                if not encoded and not (string and _nonctext(string[0])):
                    out.append(" ")
            elif encoded and not last_space:
                out.append(" ")
        last_space = bool(string) and _nonctext(string[-1])
        last_encoded = encoded
        out.append(string)
    return "".join(out)


def _nonctext(char: str) -> bool:
    return char.isspace() or char in "()\\"


def _file_name(headers: Message) -> str:
    try:
        name = headers.get_filename() or ""
    except (ValueError, LookupError, UnicodeError):  # a malformed RFC 2231 parameter
        name = ""
    return clean_name(header_text(name)) if name else ""


def clean_name(name: str) -> str:
    """A file name without folders or characters that could not be a name."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _CONTROL.sub("", name).strip().strip(".")
    return name[:255]


def _disposition(headers: Message) -> str:
    value = headers.get("Content-Disposition")
    if value is None:
        return ""
    return header_text(value).split(";", 1)[0].strip().lower()


def _encoding(headers: Message) -> str:
    value = headers.get("Content-Transfer-Encoding")
    return header_text(value).lower() if value is not None else "7bit"


# The MIME fields of a part, read from its Content-Type, Content-Disposition and
# Content-Transfer-Encoding values by the stdlib's Message methods, as before. The values
# repeat from message to message ("text/plain; charset=utf-8"), so what the methods make of
# them is kept (short values only, a bounded number of them).
MimeValues = tuple[str | None, str | None, str | None, str]  # the three values, the default type
_MIME_NAMES = {"content-type": 0, "content-disposition": 1, "content-transfer-encoding": 2}
_MIME_CACHED_CHARS = 512


def mime_values(headers: Message) -> MimeValues:
    """The first value of each MIME field, as stored (None when absent), and the default type."""
    found: list[str | None] = [None, None, None]
    for name, value in headers.raw_items():
        index = _MIME_NAMES.get(name.lower())
        if index is not None and found[index] is None:
            found[index] = value
    return found[0], found[1], found[2], headers.get_default_type()


def _mime_message(mime: MimeValues) -> Message:
    message = Message()
    for name, value in zip(("Content-Type", "Content-Disposition", "Content-Transfer-Encoding"), mime, strict=False):
        if value is not None:
            message.set_raw(name, value)
    message.set_default_type(mime[3])
    return message


def mime_call(function, mime: MimeValues):  # noqa: ANN001, ANN202 - one of the cached readers below
    if sum(len(v) for v in mime if v is not None) <= _MIME_CACHED_CHARS:
        return function(mime)
    return function.__wrapped__(mime)  # a long value: not kept


@lru_cache(maxsize=1024)
def content_type_of(mime: MimeValues) -> str:
    return _mime_message(mime).get_content_type()


@lru_cache(maxsize=1024)
def boundary_of(mime: MimeValues) -> str | None:
    return _mime_message(mime).get_boundary()


@lru_cache(maxsize=1024)
def leaf_fields(mime: MimeValues) -> tuple[str, str, str, str]:
    """A leaf part's disposition, file name, charset (text parts only) and transfer encoding."""
    headers = _mime_message(mime)
    content_type = headers.get_content_type()
    charset = (headers.get_content_charset() or "").strip() if content_type.startswith("text/") else ""
    return _disposition(headers), _file_name(headers), charset, _encoding(headers)

