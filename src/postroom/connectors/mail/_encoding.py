"""Header and body encoding: RFC 2047 encoded words, address and text headers,
RFC 2231 file names, and the 7bit / quoted-printable / base64 choice for bodies.

Part of :mod:`postroom.connectors.mail.mime`, which re-exports the public names.
"""

from __future__ import annotations

import base64
import binascii
import re
from email.charset import Charset
from email.header import Header
from urllib.parse import quote

from ._addresses import MailAddress

__all__ = [
    "MAX_ENCODED_WORD",
    "base64_body",
    "encode_text_body",
    "render_address_header",
    "render_disposition",
    "render_text_header",
]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")

_UTF8 = Charset("utf-8")

# RFC 5322 atext: a display name made only of these words, single-spaced, needs no quoting.
_ATOM_PHRASE = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?: [A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z")

_PLAIN_TEXT = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?\Z")
_PLAIN_FILE_NAME = re.compile(r"[A-Za-z0-9._()+-](?:[A-Za-z0-9._ ()+-]*[A-Za-z0-9._()+-])?\Z")
_MAX_LINE = 78
#: RFC 2047 section 2: an encoded word is at most 75 characters.
MAX_ENCODED_WORD = 75
# RFC 2231 attribute characters (beyond letters and digits) that need no %-escape.
_ATTR_CHARS = "!#$&+-.^_`|~"
_MAX_7BIT_LINE = 998



def _encoded_words(text: str, header_name: str | None = None) -> str:
    """``text`` as RFC 2047 encoded words (UTF-8), folded to 78 columns.

    Used for every value that is not plain: the ``email`` policy's own folder passes a
    literal ``=?utf-8?q?x?=`` through unencoded (a reader then decodes it into
    something else) and can lose runs of blanks at fold points; encoded words keep
    every character, and the blanks between them vanish on decoding (RFC 2047 6.2).
    """
    # maxlinelen 76: a continuation line is a blank and one word, so no word passes 75
    return Header(text, "utf-8", maxlinelen=MAX_ENCODED_WORD + 1, header_name=header_name).encode(linesep="\r\n")


def _phrase_words(name: str) -> list[str]:
    """A display name as header words that every decoder reads back to ``name``.

    Plain names stay as they are; other printable ASCII names become one quoted string
    (``"Smith, Jr."``). Otherwise ASCII atoms stay plain and each run of other words
    becomes *one* encoded word, so no two encoded words are ever adjacent: RFC 2047
    says the blank between adjacent encoded words vanishes, Python's parser keeps it
    in display names, and this layout reads the same under both. A run too long for one
    encoded word of RFC 2047's 75 characters becomes several (:func:`_run_words`), split
    after a blank where one falls in reach: RFC 2047 readers (mail clients) read it back
    exactly; Python's parser reads one extra blank at each split.
    """
    if "=?" not in name:
        if _ATOM_PHRASE.match(name):
            return name.split(" ")
        if _PLAIN_TEXT.match(name) and len(name) <= 60:
            return ['"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"']
    words: list[str] = []
    run: list[str] = []
    for token in name.split(" "):
        if token and _ATOM_PHRASE.match(token) and "=?" not in token:
            if run:
                words.extend(_run_words(" ".join(run)))
                run = []
            words.append(token)
        else:
            run.append(token)
    if run:
        words.extend(_run_words(" ".join(run)))
    return words


def _run_words(text: str) -> list[str]:
    """``text`` as one encoded word, or as several of at most 75 characters each: cut
    after the last blank that fits (else after the last character that fits), the blank
    staying inside the word before the cut, so RFC 2047 readers rejoin the pieces."""
    words: list[str] = []
    while text:
        word = _UTF8.header_encode(text)
        if len(word) <= MAX_ENCODED_WORD:
            words.append(word)
            break
        cut = _longest_fit(text)
        blank = text.rfind(" ", 0, cut)
        if blank > 0:
            cut = blank + 1
        words.append(_UTF8.header_encode(text[:cut]))
        text = text[cut:]
    return words


def _longest_fit(text: str) -> int:
    """How many leading characters of ``text`` fit one encoded word (at least one)."""
    low, high = 1, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if len(_UTF8.header_encode(text[:middle])) <= MAX_ENCODED_WORD:
            low = middle
        else:
            high = middle - 1
    return low


def render_address_header(name: str, addresses: list[MailAddress] | tuple[MailAddress, ...]) -> bytes:
    """``To: <a@x>, "Smith, Jr." <m@y>`` as CRLF-terminated bytes, folded between words.

    An address without a display name is written in angle brackets too (``<a@x>``, an
    RFC 5322 name-addr with no name): SpamAssassin scores a To without them (TO_NO_BRKTS_*
    rules) in HTML letters with an image, and every parser reads both forms the same.
    Addresses with a non-ASCII local part are written as UTF-8 (RFC 6532); the message
    then goes out with SMTPUTF8.
    """
    line = f"{name}:"
    column = len(line)
    for index, address in enumerate(addresses):
        tail = "," if index < len(addresses) - 1 else ""
        if address.display_name:
            words = [*_phrase_words(address.display_name), f"<{address.addr}>{tail}"]
        else:
            words = [f"<{address.addr}>{tail}"]
        for word in words:
            if column > len(name) + 1 and column + 1 + len(word) > _MAX_LINE:
                line += "\r\n " + word
                column = 1 + len(word)
            else:
                line += " " + word
                column += 1 + len(word)
    return line.encode("utf-8") + b"\r\n"


def render_text_header(name: str, text: str) -> bytes:
    """An unstructured header (Subject): as is when plain and short, else encoded words."""
    line = f"{name}: {text}"
    if (not text or _PLAIN_TEXT.match(text)) and "=?" not in text and len(line) <= _MAX_LINE:
        return line.encode("ascii") + b"\r\n"
    return f"{name}: {_encoded_words(text, name)}\r\n".encode("ascii")


def render_disposition(file_name: str, kind: str = "attachment") -> bytes:
    """Content-Disposition (``attachment`` or ``inline``) with the file name.

    A plain short name goes in quotes; any other name is written per RFC 2231
    (``filename*=utf-8''R%C3%A9sum%C3%A9.pdf``, in numbered pieces when long), which keeps
    every character, where a quoted ``=?utf-8?q?...?=`` would be decoded by readers.
    """
    line = f'Content-Disposition: {kind}; filename="{file_name}"'
    if _PLAIN_FILE_NAME.match(file_name) and "=?" not in file_name and len(line) <= _MAX_LINE:
        return line.encode("ascii") + b"\r\n"
    encoded = "utf-8''" + quote(file_name, safe=_ATTR_CHARS)
    single = f"Content-Disposition: {kind}; filename*={encoded}"
    if len(single) <= _MAX_LINE:
        return single.encode("ascii") + b"\r\n"
    if len(f" filename*={encoded}") <= _MAX_LINE:
        return f"Content-Disposition: {kind};\r\n filename*={encoded}\r\n".encode("ascii")
    pieces = []
    while encoded:
        cut = min(len(encoded), 60)
        percent = encoded.rfind("%", max(0, cut - 2), cut)  # never split a %XX escape
        if percent != -1 and cut < len(encoded):
            cut = percent
        pieces.append(encoded[:cut])
        encoded = encoded[cut:]
    parts = [f" filename*{index}*={piece}" for index, piece in enumerate(pieces)]
    return (f"Content-Disposition: {kind};\r\n" + ";\r\n".join(parts) + "\r\n").encode("ascii")


# -- bodies ----------------------------------------------------------------------------------


def _canonical_text(text: str) -> str:
    """Text with CRLF line ends: the canonical form of text/* on the wire (RFC 2046)."""
    if "\r" in text:
        return _LINE_BREAK.sub("\r\n", text)
    return text.replace("\n", "\r\n")  # LF only (or no line break): the same result, no regex


def encode_text_body(text: str, charset: str = "utf-8") -> tuple[str, bytes]:
    """(Content-Transfer-Encoding, body bytes) for a text part.

    7bit when the text is ASCII with short lines; quoted-printable when it is mostly
    ASCII (readable in raw form, small); base64 when more than about one byte in six is
    not ASCII, where quoted-printable would grow past base64's 4/3.
    """
    raw = _canonical_text(text).encode(charset)
    if raw.isascii() and b"\x00" not in raw and _max_line(raw) <= _MAX_7BIT_LINE:
        return "7bit", raw
    non_ascii = _count_non_ascii(raw)
    if non_ascii * 6 < len(raw):
        return "quoted-printable", _quoted_printable(raw)
    return "base64", base64_body(raw)


def _quoted_printable(raw: bytes) -> bytes:
    """Quoted-printable with CRLF everywhere.

    binascii picks LF or CRLF for its soft line breaks from the first line end it
    sees (LF when there is none), so each line is encoded on its own and every LF
    it adds becomes CRLF.
    """
    return b"\r\n".join(
        binascii.b2a_qp(line, istext=True).replace(b"\n", b"\r\n") for line in raw.split(b"\r\n")
    )


def _count_non_ascii(raw: bytes) -> int:
    # bytes.translate with a delete table keeps only the bytes >= 0x80, at C speed.
    return len(raw.translate(None, _ASCII_BYTES))


_ASCII_BYTES = bytes(range(128))


def _max_line(raw: bytes) -> int:
    if len(raw) <= _MAX_7BIT_LINE:
        return len(raw)
    return max(map(len, raw.split(b"\r\n")))


def base64_body(raw: bytes) -> bytes:
    return base64.encodebytes(raw).replace(b"\n", b"\r\n")
