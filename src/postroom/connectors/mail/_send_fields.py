"""What a send reads from the operation and a document: each field (a document property set
for the send overrides the operation's), the document's own type, and the journal key by
content (see :mod:`.send`)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from ...sdk import Document
from ._headers import PROPERTY_PREFIX
from ._parts import CID_NAME
from ._reply_headers import UNSUBSCRIBE_PROPERTY
from .mime import ContentType, MailAddress, parse_content_type
from .spec import MailOperation

__all__ = ["OVERRIDES", "FieldError", "content_id_of", "data_type_of", "field_value", "fields_of", "group_key", "journal_key", "once_group_key", "outbound_if_set", "refused_text",
           "unique_addresses"]

OVERRIDES = {
    "to": "mail.to_address",
    "from_": "mail.from_address",
    "cc": "mail.cc_address",
    "bcc": "mail.bcc_address",
    "reply_to": "mail.reply_to_address",
    "subject": "mail.subject",
    "file_name": "mail.file_name",
}


#: The fields a journal key covers, in the order they are digested (keys of earlier executions
#: depend on it).
_KEYED_FIELDS = ("from_", "to", "cc", "bcc", "reply_to", "subject", "file_name")


class FieldError(ValueError):
    """A document property set for the send holds a value that cannot be used."""


def field_value(operation: MailOperation, document: Document, name: str) -> str:
    """The operation's field ``name``, or the document's outbound value overriding it."""
    value = document.outbound(OVERRIDES[name])
    if value is not None and value.strip():
        return value
    return getattr(operation, name)


def fields_of(operation: MailOperation, document: Document) -> dict[str, str]:
    """Every field of :data:`OVERRIDES` for ``document``, read once (the plan, the journal key
    and the letter all use them). A property the document does not have is not looked up
    (:meth:`Document.outbound` would say None): most documents set only the To address."""
    properties = document.properties
    fields = {}
    for name, prop in OVERRIDES.items():
        value = document.outbound(prop) if prop in properties else None
        fields[name] = value if value is not None and value.strip() else getattr(operation, name)
    return fields


def outbound_if_set(document: Document, name: str) -> str | None:
    """:meth:`Document.outbound`, without the call when the document has no such property."""
    return document.outbound(name) if name in document.properties else None


def data_type_of(document: Document) -> ContentType | None:
    """The document's own type (``mail.content_type`` set for the send), else None."""
    value = outbound_if_set(document, "mail.content_type")
    if value is None or not value.strip():
        return None
    try:
        return parse_content_type(value)
    except ValueError as exc:
        raise FieldError(f"document property mail.content_type: {exc}") from None


def content_id_of(document: Document) -> str:
    """The cid a grouped document is shown by in the HTML (``mail.content_id``), else ""."""
    value = (outbound_if_set(document, "mail.content_id") or "").strip()
    if value and not CID_NAME.match(value):
        raise FieldError(f"document property mail.content_id: {value!r} is not a usable cid: use letters, digits "
                         "and . _ - @ (the HTML refers to it as cid:NAME)")
    return value


def journal_key(shape_id: str, operation: MailOperation, document: Document, occurrence: int | None = None,
                fields: Mapping[str, str] | None = None) -> str:
    """``shape/digest`` (``.k`` added with ``occurrence``): the journal key by content.

    The digest (BLAKE2b) covers what makes the email: the values the send reads for From,
    To, Cc, Bcc, Reply-To, Subject, the file name and body, and the document's data;
    ``fields``: :func:`fields_of` the document, when the caller has them already."""
    if fields is None:
        fields = fields_of(operation, document)
    digest = hashlib.blake2b(digest_size=12)
    digest.update("\0".join([fields[name] for name in _KEYED_FIELDS]).encode("utf-8", "surrogatepass"))
    digest.update(b"\0")
    digest.update((outbound_if_set(document, "mail.body") or "").encode("utf-8", "surrogatepass"))
    digest.update(b"\0")
    for name in ("mail.text_body", "mail.content_type", "mail.content_id", UNSUBSCRIBE_PROPERTY):
        value = outbound_if_set(document, name)
        if value:  # only when set, so the keys of earlier executions stay as they were
            digest.update(f"{name}\0{value}\0".encode("utf-8", "surrogatepass"))
    for name, value in document.properties.items():  # custom headers set for this document
        if name.startswith(PROPERTY_PREFIX) and document.outbound(name) is not None:
            digest.update(f"{name}\0{value}\0".encode("utf-8", "surrogatepass"))
    digest.update(document.data)
    key = f"{shape_id}/{digest.hexdigest()}"
    return key if occurrence is None else f"{key}.{occurrence}"


def group_key(shape_id: str, operation: MailOperation, documents: list[Document],
              fields: Mapping[str, str] | None = None) -> str:
    """``shape/digest`` of one email made of several documents (``mail.group``): by content,
    as :func:`journal_key`, over every document in order (``fields``: the first one's)."""
    if len(documents) == 1:
        return journal_key(shape_id, operation, documents[0], fields=fields)
    digest = hashlib.blake2b(digest_size=12)
    for document in documents:
        digest.update(journal_key(shape_id, operation, document).encode("utf-8") + b"\0")
    return f"{shape_id}/{digest.hexdigest()}"


def unique_addresses(addresses: list[MailAddress]) -> list[MailAddress]:
    """The addresses without repeats (first one wins; domains compare case-blind)."""
    seen: dict[str, MailAddress] = {}
    for address in addresses:
        local, _, domain = address.addr.rpartition("@")
        seen.setdefault(f"{local}@{domain.lower()}", address)
    return list(seen.values())


def refused_text(refused: dict[str, str]) -> str:
    return "; ".join(f"{addr}: {reply}" for addr, reply in refused.items())



def once_group_key(keys: list[str | None]) -> str | None:
    """The journal key of an email by the inbound message of its first document
    (``SHAPE/msg:ID#N``, see :class:`~postroom.sdk.OnceKeys`), or None when that document came
    from no mailbox; the other documents of a mail.group add a digest of their keys."""
    first, rest = keys[0], [key for key in keys[1:] if key]
    if first is None or not rest:
        return first
    digest = hashlib.blake2b("\0".join(rest).encode("utf-8", "surrogatepass"), digest_size=12)
    return f"{first}+{digest.hexdigest()}"
