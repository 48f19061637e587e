"""What each mail get operation has already taken (``postroom watermarks``, ``/api/watermarks``).

Only the Mail connector's get keeps watermarks: the Disk get reads what is in its folder
(and deletes it with ``delete_after_read``), so it has nothing to list or reset.
"""

from __future__ import annotations

from typing import Any

from ..errors import NotFound
from ..repository import Repository

__all__ = ["describe_watermark", "list_watermarks", "reset_watermarks"]


def describe_watermark(value: dict[str, Any]) -> str:
    """What a watermark says has been taken, in a few words."""
    if value.get("protocol") == "pop3" or "taken" in value:
        text = f"POP3: {len(value.get('taken', ()))} UIDL(s) taken, {len(value.get('kept', ()))} passed"
    else:
        text = f"IMAP: UIDVALIDITY {value.get('uidvalidity')}, UIDs up to {value.get('uid')}"
        if value.get("retry"):
            text += f", read again: {value['retry']}"
    if value.get("pending"):
        text += ", a commit to finish"
    return text


def list_watermarks(repo: Repository) -> list[dict[str, Any]]:
    """Every watermark: operation ("" for one kept before watermarks were per operation),
    mailbox (and selection), what it has taken, the stored value and when it changed."""
    return [{"operation": r.operation, "mailbox": r.mailbox, "taken": describe_watermark(r.value),
             "value": r.value, "updated_at": r.updated_at} for r in repo.list_watermarks()]


def reset_watermarks(repo: Repository, operation: str) -> int:
    """Forget what ``operation`` has taken; its next run reads as its first did. Raises
    NotFound when there is neither such an operation nor a watermark kept for it."""
    count = repo.delete_watermarks(operation)
    if count == 0 and repo.get_component(operation) is None:
        raise NotFound(f"no operation {operation!r} and no watermark kept for it", field="OPERATION",
                       fix="see: postroom watermarks list")
    return count
