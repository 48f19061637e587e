"""Side effects once per inbound message (issue 12): the rule connectors share.

A mail Get gives every document it reads the property :data:`INBOUND_MESSAGE` (the email's
Message-ID, or the Get's stable stand-in for an email without one), and it travels with the
document and everything made from it. A side effect of such a document (a mail send, a disk
write) is journaled by :class:`OnceKeys`, not by execution: under the key
``SHAPE/msg:INBOUND#N`` (``N``: the document's place among the documents of that inbound
message that reached the shape in this execution, from 0) in the journal scope
:func:`once_scope` (the process), which every execution of the process shares. An execution
that reads the message again (killed before the Get's commit, a document that failed later,
a watermark reset) finds the entry: ``sent`` is skipped, anything else is done again under
the recorded Message-ID. A document without the property is journaled as before, by its
execution.
"""

from __future__ import annotations

import hashlib
import threading

from ._context import RunContext
from ._document import Document

__all__ = ["INBOUND_MESSAGE", "OnceKeys", "inbound_message", "once_scope"]

#: The property naming the inbound message a document came from (set by the mail Get).
INBOUND_MESSAGE = "mail.inbound_message_id"

#: Longer inbound ids are keyed by their SHA-256 (journal keys stay short).
_LONGEST = 300


def inbound_message(document: Document) -> str:
    """The inbound message ``document`` came from ("" for none: the execution's own journal)."""
    return (document.properties.get(INBOUND_MESSAGE) or "").strip()


def once_scope(context: RunContext) -> str:
    """The journal scope of side effects keyed by inbound message: the process."""
    return f"process:{context.process_id}"


class OnceKeys:
    """Journal keys by inbound message for one session (one shape's in one execution):
    :meth:`key` counts the documents of each inbound message in the order they come. A
    document whose side effect failed (:meth:`failed`) gives its place to the next document
    of that message with the same content (a Try/Catch retry), so a retry that succeeds is
    recorded under the failed attempt's key and a later execution does not send it again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], int] = {}
        self._given: dict[str, tuple[tuple[str, str], int]] = {}
        self._free: dict[tuple[str, str], dict[str, int]] = {}

    def key(self, shape_id: str, document: Document) -> str | None:
        """``SHAPE/msg:INBOUND#N``, or None for a document no inbound message gave."""
        inbound = inbound_message(document)
        if not inbound:
            return None
        if len(inbound) > _LONGEST:
            inbound = "sha256:" + hashlib.sha256(inbound.encode("utf-8", "surrogatepass")).hexdigest()
        pair = (shape_id, inbound)
        with self._lock:
            free = self._free.get(pair)
            position = free.pop(_content(document), None) if free else None
            if position is None:
                position = self._seen.get(pair, 0)
                self._seen[pair] = position + 1
            key = f"{shape_id}/msg:{inbound}#{position}"
            self._given[key] = (pair, position)
        return key

    def failed(self, key: str, document: Document) -> None:
        """The side effect of ``document``, keyed ``key``, failed in this execution."""
        with self._lock:
            given = self._given.get(key)
            if given is not None:
                self._free.setdefault(given[0], {})[_content(document)] = given[1]


def _content(document: Document) -> str:
    """What a retry of ``document`` has in common with it: its data and properties."""
    digest = hashlib.blake2b(digest_size=16)
    for name, value in sorted(document.properties.items()):
        if not name.startswith("try_catch."):
            digest.update(f"{name}\0{value}\0".encode("utf-8", "surrogatepass"))
    for chunk in document.chunks():
        digest.update(chunk)
    return digest.hexdigest()
