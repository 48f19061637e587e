"""Address lists: parsing, validation (email-validator, with a shortcut) and the
header-text cleaning every value from data passes through.

Part of :mod:`postroom.connectors.mail.mime`, which re-exports the public names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

try:  # role mailboxes email-validator writes in lower case (RFC 2142)
    from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES as _ROLE_NAMES
except ImportError:  # pragma: no cover - a later email-validator that moved it
    _ROLE_NAMES = ["info", "marketing", "sales", "support", "abuse", "noc", "security", "postmaster",
                   "hostmaster", "usenet", "news", "webmaster", "www", "uucp", "ftp"]

__all__ = [
    "MAX_DISPLAY_NAME_BYTES",
    "AddressError",
    "MailAddress",
    "clean_file_name",
    "clean_header_text",
    "parse_addresses",
]

# Everything str.splitlines() treats as a line break, plus the other C0 controls and DEL:
# none of them may reach a header, where a line break would start a new header.
_CONTROL = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029]+")

#: A longer display name could not be written within SMTP's 998-octet line limit.
MAX_DISPLAY_NAME_BYTES = 400


class AddressError(ValueError):
    """An address list that does not parse or holds an invalid address."""


# -- text cleaning ---------------------------------------------------------------------------


def clean_header_text(value: str) -> str:
    """``value`` made safe for one header: line breaks and controls become one space.

    Why spaces and not an error: a subject built from data (a CSV column with a stray
    CR) should still go out, and a space is what a mail client shows for a folded line.
    Leading and trailing blanks are dropped because header parsing drops them anyway.
    """
    if value.isprintable():  # no control or line break of _CONTROL's (all are unprintable)
        return value.strip()
    return _CONTROL.sub(" ", value).strip()


def clean_file_name(value: str) -> str:
    """A file name safe for Content-Disposition and for the reader's disk.

    Controls become spaces, folders are dropped (``../../x`` is ``x``) and double quotes
    become single ones: Windows forbids them, and readers strip a pair around a name.
    """
    name = clean_header_text(value)
    name = name.replace("\\", "/").rsplit("/", 1)[-1].replace('"', "'").strip()
    return "" if name in (".", "..") else name




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
