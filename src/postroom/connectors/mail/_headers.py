"""Custom headers of a sent email: the operation's ``headers`` map and ``mail.headers.NAME``.

A name must be an RFC 5322 field name (printable ASCII, no blank or colon) and must not be
one Postroom writes itself or that only servers write: those are refused (:data:`RESERVED`,
and every ``Content-*``, ``Resent-*`` and ``ARC-*``). A value is one line of text: in the
operation a line break is refused at import; from a document property, every run of
control characters becomes one blank (as for Subject), so a value can never start a header
of its own. Values are written as Subject is (RFC 2047 encoded words of at most 75
characters when not plain ASCII, folded).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ...sdk import Document

__all__ = ["HeaderError", "RESERVED", "PROPERTY_PREFIX", "check_header_name", "custom_headers"]

PROPERTY_PREFIX = "mail.headers."

#: Headers Postroom writes itself, or that only mail servers add (compared case-blind).
RESERVED = frozenset(name.lower() for name in (
    "From", "To", "Cc", "Bcc", "Subject", "Date", "Message-ID", "MIME-Version", "Reply-To", "Sender",
    "Return-Path", "Received", "DKIM-Signature", "Authentication-Results", "Received-SPF", "Delivered-To",
    "X-Original-To",
))
_RESERVED_PREFIXES = ("content-", "resent-", "arc-")
_FIELD_NAME = re.compile(r"[\x21-\x39\x3b-\x7e]+\Z")  # RFC 5322 ftext: printable ASCII but ":"
_MAX_NAME = 76  # "Name: " and a word must fit a 78-column line


class HeaderError(ValueError):
    """A custom header that cannot be written; the message says which and why."""


def check_header_name(name: str) -> str:
    """``name`` when it may be written as a custom header, else :class:`HeaderError`."""
    if not name or not _FIELD_NAME.match(name) or len(name) > _MAX_NAME:
        raise HeaderError(f"{name!r} is not a header name: use letters, digits and '-' (such as X-Campaign), "
                          f"at most {_MAX_NAME} characters, no blank or ':'")
    lower = name.lower()
    if lower in RESERVED or lower.startswith(_RESERVED_PREFIXES):
        raise HeaderError(f"the header {name} is written by Postroom or by mail servers and cannot be set; "
                          "use the send's own fields (from, to, cc, subject...) or another name")
    return name


def custom_headers(operation_headers: Mapping[str, str], document: Document) -> list[tuple[str, str]]:
    """The custom headers of one document's email: the operation's, each overridden by the
    document's outbound ``mail.headers.NAME`` (names compare case-blind; a blank value drops
    the header). Raises :class:`HeaderError` naming the property when one is not allowed."""
    chosen: dict[str, tuple[str, str]] = {name.lower(): (name, value) for name, value in operation_headers.items()}
    for key in document.properties:
        if not key.startswith(PROPERTY_PREFIX):
            continue
        value = document.outbound(key)
        if value is None:
            continue  # what a mail Get read: not for sending
        name = key[len(PROPERTY_PREFIX):]
        try:
            check_header_name(name)
        except HeaderError as exc:
            raise HeaderError(f"document property {key}: {exc}") from None
        chosen[name.lower()] = (name, value)
    return [(name, value) for name, value in chosen.values() if value.strip()]
