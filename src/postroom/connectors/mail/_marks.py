"""Watermarks of a mail get, typed: :class:`ImapMark`, :class:`Pop3Mark`, and the store that
keeps them per operation, mailbox and selection (:class:`MarkStore`).

One JSON form each, the one stored since watermarks exist (no migration):

* IMAP: ``{"protocol": "imap", "uidvalidity": 7, "uid": 42}``, plus ``"retry": "3,5:9"``
  (messages held back to read again) and ``"pending": {"uids", "mark", "move", "delete"}``
  (what a commit still has to do on the server) when there are any;
* POP3: ``{"protocol": "pop3", "taken": [UIDL...], "kept": [UIDL...]}``, both sorted.

:func:`mark_from_json` reads what older versions stored as well (missing keys take their
defaults), so every stored watermark still loads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["ImapMark", "Mark", "MarkStore", "Pending", "Pop3Mark", "mark_from_json"]


@dataclass(frozen=True)
class Pending:
    """What an IMAP commit still has to do to the messages ``uids`` (a UID set)."""

    uids: str
    mark: bool = False
    move: str = ""
    delete: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"uids": self.uids, "mark": self.mark, "move": self.move, "delete": self.delete}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Pending:
        return cls(uids=str(value.get("uids", "")), mark=bool(value.get("mark")), move=str(value.get("move") or ""),
                   delete=bool(value.get("delete")))


@dataclass(frozen=True)
class ImapMark:
    """Every message with a UID up to ``uid`` in the folder numbered ``uidvalidity`` is dealt
    with, except those in ``retry``; ``pending``: the server actions a commit left undone."""

    uidvalidity: int | None
    uid: int = 0
    retry: str = ""
    pending: Pending | None = None

    def to_json(self) -> dict[str, Any]:
        value: dict[str, Any] = {"protocol": "imap", "uidvalidity": self.uidvalidity, "uid": self.uid}
        if self.retry:
            value["retry"] = self.retry
        if self.pending is not None:
            value["pending"] = self.pending.to_json()
        return value

    def settled(self) -> ImapMark:
        """The same mark with nothing left to do on the server."""
        return ImapMark(self.uidvalidity, self.uid, self.retry)


@dataclass(frozen=True)
class Pop3Mark:
    """The UIDLs read and committed (``taken``) and passed without reading (``kept``)."""

    taken: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()

    @classmethod
    def of(cls, taken: set[str] | list[str], kept: set[str] | list[str]) -> Pop3Mark:
        return cls(tuple(sorted(taken)), tuple(sorted(kept)))

    def to_json(self) -> dict[str, Any]:
        return {"protocol": "pop3", "taken": list(self.taken), "kept": list(self.kept)}


Mark = ImapMark | Pop3Mark


def mark_from_json(value: dict[str, Any], protocol: str) -> Mark:
    """The mark a stored JSON value holds (``protocol`` decides when the value names none)."""
    if value.get("protocol", protocol) == "pop3":
        return Pop3Mark.of(list(value.get("taken", ())), list(value.get("kept", ())))
    uidvalidity = value.get("uidvalidity")
    pending = value.get("pending")
    return ImapMark(uidvalidity=int(uidvalidity) if uidvalidity is not None else None, uid=int(value.get("uid", 0)),
                    retry=str(value.get("retry", "") or ""),
                    pending=Pending.from_json(pending) if isinstance(pending, dict) and pending else None)


class Watermarks(Protocol):
    """What :class:`MarkStore` needs of the run's watermark store (``context.watermarks()``)."""

    def get(self, key: str, operation: str = ...) -> Any: ...  # noqa: D102

    def set(self, key: str, value: Any, operation: str = ...) -> None: ...  # noqa: D102


class MarkStore:
    """One operation's watermark for one mailbox and selection.

    A watermark kept for the mailbox before watermarks were per operation is taken over
    once by each operation (the first one also what was left to do), so an upgrade reads no
    old mail again; after ``postroom watermarks reset`` it is not taken over again.
    """

    def __init__(self, source: Callable[[], Watermarks], key: str, operation: str, protocol: str, *,
                 dry_run: bool) -> None:
        self.source = source  # the run's store, looked up at each use (context.watermarks)
        self.key = key
        self.operation = operation
        self.protocol = protocol
        self.dry_run = dry_run

    @property
    def store(self) -> Watermarks:
        return self.source()

    def load(self) -> Mark | None:
        """The mark; None before a first run."""
        store, key, operation = self.store, self.key, self.operation
        value = store.get(key, operation) if operation else store.get(key)
        if value is None and operation:
            value = self._adopt()
        return mark_from_json(dict(value), self.protocol) if value else None

    def save(self, mark: Mark) -> None:
        if self.operation:
            self.store.set(self.key, mark.to_json(), self.operation)
        else:
            self.store.set(self.key, mark.to_json())

    def _adopt(self) -> dict[str, Any] | None:
        legacy = self.store.get(self.key)
        if not legacy or self.operation in legacy.get("adopted_by", ()):
            return None
        value = {k: v for k, v in legacy.items() if k != "adopted_by"}
        if not self.dry_run:
            rest = {k: v for k, v in value.items() if k != "pending"}
            self.store.set(self.key, {**rest, "adopted_by": [*legacy.get("adopted_by", ()), self.operation]})
            self.store.set(self.key, value, self.operation)
        return value
