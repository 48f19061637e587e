"""Several documents in one email: documents of one batch that carry the same ``mail.group``
(set for the send, not blank) become one email, each attached in document order. The first
of them addresses the email and gives its subject and body; every one of them gets the
email's outcome (its Message-ID and the server's reply, or the same failure)."""

from __future__ import annotations

from ...sdk import Document, Failed

__all__ = ["GROUP_PROPERTY", "groups_of", "member_result"]

GROUP_PROPERTY = "mail.group"

#: What a member of a group takes over from the email's result.
_SHARED = ("mail.message_id", "mail.smtp_response", "mail.refused_recipients")


def groups_of(documents: list[Document]) -> list[list[int]]:
    """The positions of ``documents`` in groups, each group in the order of its first document;
    a document without ``mail.group`` is a group of its own."""
    named: dict[str, list[int]] = {}
    groups: list[list[int]] = []
    for position, document in enumerate(documents):
        name = (document.outbound(GROUP_PROPERTY) or "").strip()
        group = named.get(name) if name else None
        if group is None:
            group = []
            groups.append(group)
            if name:
                named[name] = group
        group.append(position)
    return groups


def member_result(result: Document | Failed, document: Document) -> Document | Failed:
    """``document``'s result when ``result`` is that of the email it went in, made for the
    group's first document (``result`` itself when that is ``document``)."""
    if isinstance(result, Failed):
        if result.document is document:
            return result
        return Failed(document, result.message, retryable=result.retryable)
    copy = document.copy()
    for name in _SHARED:
        if name in result.properties:
            copy.properties[name] = result.properties[name]
    return copy
