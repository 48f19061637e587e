"""Headers a send derives rather than copies: ``List-Unsubscribe`` (RFC 2369) with
``List-Unsubscribe-Post`` (RFC 8058 one-click) from the operation's ``list_unsubscribe`` or
the document's ``mail.list_unsubscribe``, and ``In-Reply-To``/``References`` (RFC 5322
section 3.6.4) for a document a mail Get read, so the reply threads under the letter read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ...sdk import Document
from ._headers import PROPERTY_PREFIX, HeaderError, custom_headers

__all__ = ["UNSUBSCRIBE_PROPERTY", "letter_headers", "parse_unsubscribe", "thread_headers", "unsubscribe_headers"]

UNSUBSCRIBE_PROPERTY = "mail.list_unsubscribe"
_ITEM = re.compile(r"(https?://[\x21-\x7e]+|mailto:[\x21-\x7e]+)\Z", re.I)
_MESSAGE_ID = re.compile(r"<[^<>\s]+@[^<>\s]+>")


def parse_unsubscribe(value: str) -> list[str]:
    """The URIs of a ``list_unsubscribe`` value (separated by commas or blanks, ``<>`` optional);
    :class:`HeaderError` for one that is neither an http(s) URL nor a mailto: address."""
    items = [item.strip().strip("<>") for item in re.split(r"[\s,]+", value) if item.strip()]
    for item in items:
        if not _ITEM.match(item):
            raise HeaderError(f"list_unsubscribe: {item!r} is not an https:// URL or a mailto: address "
                              "(such as https://clinic.example/unsubscribe?p=123 or mailto:unsubscribe@clinic.example)")
    return items


def unsubscribe_headers(operation_value: str, document: Document) -> list[tuple[str, str]]:
    """``List-Unsubscribe`` (and ``List-Unsubscribe-Post`` when an https URL is offered) for one
    document: its outbound ``mail.list_unsubscribe`` when set and not blank, else the operation's."""
    value = document.outbound(UNSUBSCRIBE_PROPERTY)
    source = f"document property {UNSUBSCRIBE_PROPERTY}"
    if value is None or not value.strip():
        value, source = operation_value, "operation field"
    if not value.strip():
        return []  # none asked for (most sends)
    try:
        items = parse_unsubscribe(value)
    except HeaderError as exc:
        raise HeaderError(f"{source} {exc}") from None
    if not items:
        return []
    headers = [("List-Unsubscribe", ", ".join(f"<{item}>" for item in items))]
    if any(item.lower().startswith("https://") for item in items):
        headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    return headers


def thread_headers(document: Document) -> list[tuple[str, str]]:
    """``In-Reply-To`` and ``References`` answering the message a mail Get read into
    ``document`` (its inbound ``mail.message_id`` and ``mail.headers.References``); none for
    a document that did not come from a mailbox."""
    read_id = document.properties.get("mail.message_id")
    if not read_id or document.outbound("mail.message_id") is not None:
        return []  # not read by a Get (a send's own id, or set by the process)
    ids = _MESSAGE_ID.findall(read_id)
    if len(ids) != 1:
        return []
    references: list[str] = []
    for name, value in document.properties.items():
        if name.lower() == f"{PROPERTY_PREFIX}references" and document.outbound(name) is None:
            references = _MESSAGE_ID.findall(value)
    chain = [*dict.fromkeys([*references, ids[0]])]
    return [("In-Reply-To", ids[0]), ("References", " ".join(chain[-20:]))]


def letter_headers(custom: Mapping[str, str], list_unsubscribe: str, thread_replies: bool,
                   document: Document) -> list[tuple[str, str]]:
    """The operation's custom headers, then List-Unsubscribe and the thread's headers, unless
    set as custom ones (a custom header wins)."""
    headers = custom_headers(custom, document)
    derived = unsubscribe_headers(list_unsubscribe, document)
    if thread_replies:
        derived += thread_headers(document)
    if not derived:  # most letters: nothing derived to weigh against the custom headers
        return headers
    taken = {name.lower() for name, _ in headers}
    return headers + [(name, value) for name, value in derived if name.lower() not in taken]
