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

import base64
import binascii
import codecs
import hashlib
import mimetypes
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from email.charset import Charset
from email.header import Header
from email.utils import format_datetime
from functools import lru_cache
from urllib.parse import quote

from email_validator import EmailNotValidError, validate_email

try:  # role mailboxes email-validator writes in lower case (RFC 2142)
    from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES as _ROLE_NAMES
except ImportError:  # pragma: no cover - a later email-validator that moved it
    _ROLE_NAMES = ["info", "marketing", "sales", "support", "abuse", "noc", "security", "postmaster",
                   "hostmaster", "usenet", "news", "webmaster", "www", "uucp", "ftp"]

__all__ = [
    "AddressError",
    "BodyError",
    "ContentType",
    "Letter",
    "MailAddress",
    "MessageTemplate",
    "clean_file_name",
    "clean_header_text",
    "default_file_name",
    "message_id_for",
    "parse_addresses",
    "parse_content_type",
    "render_address_header",
    "render_text_header",
]

# Everything str.splitlines() treats as a line break, plus the other C0 controls and DEL:
# none of them may reach a header, where a line break would start a new header.
_CONTROL = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029]+")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")

_UTF8 = Charset("utf-8")
#: A longer display name could not be written within SMTP's 998-octet line limit.
MAX_DISPLAY_NAME_BYTES = 400

# RFC 5322 atext: a display name made only of these words, single-spaced, needs no quoting.
_ATOM_PHRASE = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?: [A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z")
_PLAIN_ADDR = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+\Z")
_PLAIN_TEXT = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?\Z")
_PLAIN_FILE_NAME = re.compile(r"[A-Za-z0-9._()+-](?:[A-Za-z0-9._ ()+-]*[A-Za-z0-9._()+-])?\Z")
_MAX_LINE = 78
#: RFC 2047 section 2: an encoded word is at most 75 characters.
MAX_ENCODED_WORD = 75
# RFC 2231 attribute characters (beyond letters and digits) that need no %-escape.
_ATTR_CHARS = "!#$&+-.^_`|~"
_MAX_7BIT_LINE = 998

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


class AddressError(ValueError):
    """An address list that does not parse or holds an invalid address."""


# -- text cleaning ---------------------------------------------------------------------------


def clean_header_text(value: str) -> str:
    """``value`` made safe for one header: line breaks and controls become one space.

    Why spaces and not an error: a subject built from data (a CSV column with a stray
    CR) should still go out, and a space is what a mail client shows for a folded line.
    Leading and trailing blanks are dropped because header parsing drops them anyway.
    """
    return _CONTROL.sub(" ", value).strip()


def clean_file_name(value: str) -> str:
    """A file name safe for Content-Disposition and for the reader's disk.

    Controls become spaces, folders are dropped (``../../x`` is ``x``) and double quotes
    become single ones: Windows forbids them, and readers strip a pair around a name.
    """
    name = clean_header_text(value)
    name = name.replace("\\", "/").rsplit("/", 1)[-1].replace('"', "'").strip()
    return "" if name in (".", "..") else name


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


@dataclass(frozen=True)
class MailAddress:
    """One validated address: a display name and the address written to headers and RCPT.

    ``addr`` has its domain in ASCII (IDNA) form so only a non-ASCII local part needs
    SMTPUTF8; ``smtputf8`` says whether it does.
    """

    display_name: str
    addr: str
    smtputf8: bool = False

    @property
    def domain(self) -> str:
        return self.addr.rpartition("@")[2]

    def __str__(self) -> str:
        return f"{self.display_name} <{self.addr}>" if self.display_name else self.addr


def _split_list(text: str) -> list[str]:
    """Split on ``,`` and ``;`` outside quoted strings and angle brackets."""
    pieces: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    angle = 0
    for char in text:
        if quoted:
            current.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
            continue
        if char == '"':
            quoted = True
        elif char == "<":
            angle += 1
        elif char == ">":
            angle = max(0, angle - 1)
        elif char in ",;" and angle == 0:
            pieces.append("".join(current))
            current = []
            continue
        current.append(char)
    if quoted:
        raise AddressError(f"{text!r} has a quote that is not closed")
    pieces.append("".join(current))
    return [p.strip() for p in pieces if p.strip()]


def _unquote_phrase(phrase: str) -> str:
    """A display name without its quoting: ``"Smith, Jr."`` -> ``Smith, Jr.``."""
    out: list[str] = []
    quoted = escaped = False
    for char in phrase:
        if escaped:
            out.append(char)
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        else:
            out.append(char)
    return " ".join("".join(out).split())


def _split_piece(piece: str) -> tuple[str, str]:
    """``Name <addr>`` or ``addr`` -> (name, addr)."""
    if not piece.endswith(">"):
        return "", piece
    quoted = escaped = False
    start = -1
    for index, char in enumerate(piece):
        if quoted:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char == "<":
            start = index
    if start < 0:
        raise AddressError(f"{piece!r} has a '>' without a '<'")
    return _unquote_phrase(piece[:start]), piece[start + 1 : -1].strip()


# A plain dot-atom local part: email-validator takes it as it is (RFC 5322 3.2.3).
_PLAIN_LOCAL = re.compile(r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*\Z")
_ROLE_MAILBOXES = frozenset(name.lower() for name in _ROLE_NAMES)
# Domains email-validator accepted, as written -> (their ASCII (IDNA, lower-case) form, the
# most UTF-8 bytes any of its forms takes: it checks the address length in each form).
_VALID_DOMAINS: dict[str, tuple[str, int]] = {}
_VALID_DOMAINS_LIMIT = 4096


def _validate(addr: str) -> tuple[str, bool]:
    """(address for headers and RCPT, needs SMTPUTF8) or AddressError.

    email-validator checks every address once (a bulk send has a new one per document);
    most of its time goes to the domain. So once it has accepted a domain, a later
    address on that domain whose local part is a plain dot-atom (letters, digits,
    ``_+-`` and single inner dots, at most 64 characters, not a role mailbox it lower-cases)
    is accepted without it, with exactly the result it would give: the local part as
    written, the domain in its ASCII form. ``test_mail_address_cache.py`` holds both ways
    to the same answers.
    """
    local, at, domain = addr.rpartition("@")
    known = _VALID_DOMAINS.get(domain) if at else None
    if (
        known is not None
        and len(local) <= 64
        and len(local) + 1 + known[1] <= 254
        and _PLAIN_LOCAL.match(local)
        and local.lower() not in _ROLE_MAILBOXES
    ):
        return f"{local}@{known[0]}", False
    return _validate_fully(addr)


@lru_cache(maxsize=4096)
def _validate_fully(addr: str) -> tuple[str, bool]:
    try:
        result = validate_email(
            addr, check_deliverability=False, allow_smtputf8=True, test_environment=True
        )
    except EmailNotValidError as exc:
        raise AddressError(f"{addr!r} is not a valid address: {exc}") from None
    domain = addr.rpartition("@")[2]
    if result.ascii_domain and not domain.startswith("["):
        if len(_VALID_DOMAINS) >= _VALID_DOMAINS_LIMIT:
            _VALID_DOMAINS.clear()
        longest = max(len(form.encode("utf-8")) for form in (domain, result.domain, result.ascii_domain))
        _VALID_DOMAINS[domain] = (result.ascii_domain, longest)
    if result.ascii_email:
        return result.ascii_email, False
    return f"{result.local_part}@{result.ascii_domain}", True


def parse_addresses(text: str | None) -> list[MailAddress]:
    """Parse a ``;`` or ``,`` separated address list; display names may be quoted.

    ``alice@example.com; "Smith, Jr." <m@example.org>, Bob <bob@example.org>`` gives three
    addresses. Line breaks and other controls count as blanks (so data cannot smuggle a
    header in); anything that is not a valid address raises :class:`AddressError`.
    The answer for a text is cached (the operation's From and Cc repeat on every document).
    """
    if not text:
        return []
    if _BARE_ADDRESS.match(text):  # one address, nothing to split or unquote (a patient's To)
        normalized, utf8 = _validate(text)
        return [MailAddress("", normalized, utf8)]
    return list(_parse_addresses(text))


# Text the list parser would take as one bare address: no separator, quote, angle bracket,
# blank or control character.
_BARE_ADDRESS = re.compile(r'[^\s,;<>"\x00-\x1f\x7f]+\Z')


@lru_cache(maxsize=1024)
def _parse_addresses(text: str) -> tuple[MailAddress, ...]:
    cleaned = _CONTROL.sub(" ", text)
    result: list[MailAddress] = []
    for piece in _split_list(cleaned):
        name, addr = _split_piece(piece)
        if not addr:
            raise AddressError(f"{piece!r} has no address between '<' and '>'")
        normalized, utf8 = _validate(addr)
        name = clean_header_text(name)
        if len(name.encode("utf-8")) > MAX_DISPLAY_NAME_BYTES:
            raise AddressError(
                f"the display name of {normalized!r} is longer than {MAX_DISPLAY_NAME_BYTES} bytes"
            )
        result.append(MailAddress(name, normalized, utf8))
    return tuple(result)


# -- naming ----------------------------------------------------------------------------------


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
    """``To: a@x, "Smith, Jr." <m@y>`` as CRLF-terminated bytes, folded between words.

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
            words = [address.addr + tail]
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


def _render_disposition(file_name: str) -> bytes:
    """Content-Disposition with the file name.

    A plain short name goes in quotes; any other name is written per RFC 2231
    (``filename*=utf-8''R%C3%A9sum%C3%A9.pdf``, in numbered pieces when long), which keeps
    every character, where a quoted ``=?utf-8?q?...?=`` would be decoded by readers.
    """
    line = f'Content-Disposition: attachment; filename="{file_name}"'
    if _PLAIN_FILE_NAME.match(file_name) and "=?" not in file_name and len(line) <= _MAX_LINE:
        return line.encode("ascii") + b"\r\n"
    encoded = "utf-8''" + quote(file_name, safe=_ATTR_CHARS)
    single = f"Content-Disposition: attachment; filename*={encoded}"
    if len(single) <= _MAX_LINE:
        return single.encode("ascii") + b"\r\n"
    if len(f" filename*={encoded}") <= _MAX_LINE:
        return f"Content-Disposition: attachment;\r\n filename*={encoded}\r\n".encode("ascii")
    pieces = []
    while encoded:
        cut = min(len(encoded), 60)
        percent = encoded.rfind("%", max(0, cut - 2), cut)  # never split a %XX escape
        if percent != -1 and cut < len(encoded):
            cut = percent
        pieces.append(encoded[:cut])
        encoded = encoded[cut:]
    parts = [f" filename*{index}*={piece}" for index, piece in enumerate(pieces)]
    return ("Content-Disposition: attachment;\r\n" + ";\r\n".join(parts) + "\r\n").encode("ascii")


# -- bodies ----------------------------------------------------------------------------------


def _canonical_text(text: str) -> str:
    """Text with CRLF line ends: the canonical form of text/* on the wire (RFC 2046)."""
    return _LINE_BREAK.sub("\r\n", text)


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
    return "base64", _base64(raw)


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


def _base64(raw: bytes) -> bytes:
    return base64.encodebytes(raw).replace(b"\n", b"\r\n")


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

    @property
    def smtputf8(self) -> bool:
        return any(a.smtputf8 for a in (self.sender, *self.to, *self.cc, *self.reply_to))


class BodyError(ValueError):
    """The document's bytes do not match the declared text charset."""


class MessageTemplate:
    """Builds one operation's messages; caches every header that repeats.

    ``disposition`` inline: the document is the body, typed by ``attachment_type``.
    ``attachment``: multipart/mixed with ``body`` typed by ``body_type`` and the
    document attached.
    """

    def __init__(self, *, disposition: str, attachment_type: ContentType, body_type: ContentType) -> None:
        self.disposition = disposition
        self.attachment_type = attachment_type
        self.body_type = body_type
        self._cache = _HeaderCache()
        self._date = _DateCache()
        self._inline_text_type = self._content_type_line(attachment_type, with_charset=True)
        self._inline_binary_type = self._content_type_line(attachment_type, with_charset=False)
        self._part_heads: dict[tuple[ContentType, str], bytes] = {}

    # headers -------------------------------------------------------------------------------
    def _addresses(self, name: str, addresses: list[MailAddress]) -> bytes:
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
        head = b"".join(self.headers(letter))
        if self.disposition == "inline":
            if self.attachment_type.is_text:
                part_head, body = self._text_part(self.attachment_type, letter.data)
            else:
                part_head = self._inline_binary_type + b"Content-Transfer-Encoding: base64\r\n"
                body = _base64(letter.data)
            return head + part_head + b"\r\n" + body
        return head + self._multipart(letter)

    def _multipart(self, letter: Letter) -> bytes:
        body_head, body = self._text_part(self.body_type, letter.body)
        attachment_type = self.attachment_type
        data = letter.data
        if attachment_type.is_text:
            # Attach the exact bytes (base64 keeps them byte for byte); name the charset
            # only when the bytes really are text in it.
            try:
                data.decode(attachment_type.text_charset)
                type_line = self._inline_text_type
            except UnicodeDecodeError:
                type_line = self._inline_binary_type
        else:
            type_line = self._inline_binary_type
        attached = _base64(data)
        disposition = _render_disposition(clean_file_name(letter.file_name) or "attachment.dat")
        boundary = _boundary(body, attached)
        dash = b"--" + boundary
        return b"".join(
            (
                b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n',
                dash + b"\r\n",
                body_head,
                b"\r\n",
                body,
                b"\r\n" + dash + b"\r\n",
                type_line,
                b"Content-Transfer-Encoding: base64\r\n",
                disposition,
                b"\r\n",
                attached,
                b"\r\n" + dash + b"--\r\n",
            )
        )


def _boundary(*parts: bytes) -> bytes:
    """A random boundary that appears in none of the parts (RFC 2046 section 5.1.1)."""
    while True:
        boundary = b"=_postroom_" + secrets.token_hex(16).encode("ascii")
        if not any(boundary in part for part in parts):
            return boundary
