"""Disk writes once per inbound message (issue 12; the rule is :mod:`postroom.sdk._once`).

A document a mail Get read (it carries ``mail.inbound_message_id``) is written under a journal
entry of the process's scope, keyed ``SHAPE/msg:ID#N``; the entry's id is
``disk:TOKEN:PATH`` (the attempt that began it and the file it aims at) and, once written,
its reply is the name written. An execution that reads the message again:

* entry ``sent``: nothing is written; the document passes on with that name;
* entry begun by an earlier attempt and not ``sent`` (killed between the write and the
  record, or the write failed): the file is aimed at the same path as then (so a default
  name, which holds the time, stays the same). ``overwrite`` writes it again (the same bytes
  under the same name); ``fail`` and ``unique`` first look whether the earlier attempt got as
  far as naming the file (the name, or for ``unique`` one of ``NAME-1``, ``NAME-2``..., holds
  exactly this document's bytes) and take that as written; ``append`` the same when the file
  ends with exactly these bytes.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from ...sdk import Document

__all__ = ["attempt_id", "earlier_write", "parse_attempt"]

_PREFIX = "disk:"


def attempt_id(path: Path) -> tuple[str, str]:
    """A fresh attempt's token and the id its journal entry is begun with."""
    token = secrets.token_hex(8)
    return token, f"{_PREFIX}{token}:{path}"


def parse_attempt(recorded: str) -> tuple[str, Path | None]:
    """The token and path of an entry's id (``("", None)`` for one not written by this module)."""
    if not recorded.startswith(_PREFIX):
        return "", None
    token, _, path = recorded[len(_PREFIX):].partition(":")
    return token, Path(path) if path else None


def earlier_write(path: Path, document: Document, option: str) -> Path | None:
    """The file an interrupted earlier attempt already gave this document's bytes, if any."""
    if option == "append":
        return path if _ends_with(path, document) else None
    if option == "overwrite":
        return None  # written again: the same bytes under the same name
    candidates = [path]
    if option == "unique":
        n = 1
        while True:
            candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
            if not candidate.exists():
                break
            candidates.append(candidate)
            n += 1
    return next((c for c in candidates if _same(c, document)), None)


def _same(path: Path, document: Document) -> bool:
    try:
        if os.path.getsize(path) != document.size:
            return False
        with open(path, "rb") as handle:
            return all(handle.read(len(chunk)) == chunk for chunk in document.chunks())
    except OSError:
        return False


def _ends_with(path: Path, document: Document) -> bool:
    try:
        size = os.path.getsize(path)
        if size < document.size or not document.size:
            return False
        with open(path, "rb") as handle:
            handle.seek(size - document.size)
            return all(handle.read(len(chunk)) == chunk for chunk in document.chunks())
    except OSError:
        return False
