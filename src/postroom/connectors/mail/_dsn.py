"""What a Send asks of delivery status notifications (RFC 3461): the operation's
``dsn_notify`` and ``dsn_ret``, ``mail.dsn_notify`` per document, and the request each email
carries (:class:`~._smtp.DsnRequest`, ENVID its Message-ID so a bounce names the letter)."""

from __future__ import annotations

from ...sdk import Document
from ._smtp.dsn import NOTIFY_VALUES, DsnRequest

__all__ = ["NOTIFY_PROPERTY", "dsn_request", "notify_of", "parse_notify"]

NOTIFY_PROPERTY = "mail.dsn_notify"


def parse_notify(value: str | list[str]) -> tuple[str, ...]:
    """``failure, delay`` (a text or a list) as ``("failure", "delay")``; ValueError naming
    what is wrong. ``never`` stands alone; an empty value asks for nothing."""
    items = value.replace(";", ",").split(",") if isinstance(value, str) else value
    notify = tuple(dict.fromkeys(item.strip().lower() for item in items if item.strip()))
    unknown = [item for item in notify if item not in NOTIFY_VALUES]
    if unknown:
        raise ValueError(f"{', '.join(unknown)} is not a DSN notice: use failure, delay and/or success, "
                         "or never alone")
    if "never" in notify and len(notify) > 1:
        raise ValueError("never asks for no notice at all, so it stands alone: write never, or failure, "
                         "delay and/or success")
    return notify


def notify_of(default: list[str], document: Document) -> tuple[str, ...]:
    """The notices asked for one document: ``mail.dsn_notify`` set for the send, else the
    operation's. ValueError (naming the property) when the property cannot be read."""
    value = document.outbound(NOTIFY_PROPERTY)
    if value is not None and value.strip():
        try:
            return parse_notify(value)
        except ValueError as exc:
            raise ValueError(f"document property {NOTIFY_PROPERTY}: {exc}") from None
    return tuple(default)


def dsn_request(notify: tuple[str, ...], ret: str, message_id: str) -> DsnRequest | None:
    """The request of one email, or None when no notice is asked for."""
    return DsnRequest(notify, ret, message_id) if notify else None
