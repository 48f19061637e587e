"""Writing one file so that its final name never shows an empty or partial file.

The data goes to a temporary file in the target's folder (``.NAME.postroom-tmp-HOST-PID-RANDOM``),
is flushed and (unless the operation turns ``sync_to_disk`` off) fsynced, and only then
gets its final name:

* ``overwrite``: ``os.replace`` (atomic; the old file stays whole until then);
* ``fail``: ``os.link`` to the final name, which fails if that name exists, so of two
  writers of one name exactly one wins; the temporary name is then removed;
* ``unique``: the same link, trying ``NAME-1``, ``NAME-2``... until one is free;
* ``append``: not atomic by nature: the data is appended (``O_APPEND``) and fsynced; what
  the file held before is never changed, but a process killed mid-write can leave the
  start of that document's data at the end.

After the rename the folder is fsynced, so the name survives a power cut too. A killed
writer leaves at most its temporary file: disk get never reads those, and the next disk
send into that folder removes the ones whose process (on this host) is gone, and any
older than a day.
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
import socket
import time
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path

from ._paths import TEMP_MARK, is_temp_name

__all__ = ["remove_leftovers", "write_file"]

_HOST = hashlib.sha1(socket.gethostname().encode(), usedforsecurity=False).hexdigest()[:6]
_STALE_SECONDS = 24 * 3600
_NO_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS}


def write_file(path: Path, chunks: Iterable[bytes], option: str, sync: bool = True) -> Path:
    """Write ``chunks`` as ``path`` under ``option``; return the name written.
    ``FileExistsError`` when ``option`` is ``fail`` and the name is taken. ``sync``: fsync
    the file before it is named and the folder after (power-cut safety, not kill safety)."""
    if option == "append":
        _append(path, chunks, sync)
        return path
    temp = _write_temp(path, chunks, sync)
    try:
        if option == "overwrite":
            os.replace(temp, path)
            written = path
        elif option == "fail":
            _claim(temp, path)
            written = path
        else:
            written = _claim_unique(temp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temp)
        raise
    if option != "overwrite":
        with suppress(FileNotFoundError):  # gone already when _claim had to rename
            os.unlink(temp)
    if sync:
        _sync_folder(path.parent)
    return written


def _temp_name(name: str) -> str:
    head = name.encode("utf-8")[:100].decode("utf-8", "ignore")  # room for the mark under NAME_MAX
    return f".{head}{TEMP_MARK}{_HOST}-{os.getpid()}-{secrets.token_hex(4)}"


def _write_temp(path: Path, chunks: Iterable[bytes], sync: bool) -> Path:
    temp = path.with_name(_temp_name(path.name))
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
            out.flush()
            if sync:
                os.fsync(out.fileno())
    except BaseException:
        with suppress(OSError):
            os.unlink(temp)
        raise
    return temp


def _claim(temp: Path, path: Path) -> None:
    """Give ``temp``'s file the name ``path`` unless that name exists (FileExistsError)."""
    try:
        os.link(temp, path)
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
        # A file system without hard links: check, then rename. Never partial, but two
        # writers of the same name at the same instant can both pass the check.
        if os.path.lexists(path):
            raise FileExistsError(errno.EEXIST, "File exists", str(path)) from None
        os.replace(temp, path)


def _claim_unique(temp: Path, path: Path) -> Path:
    stem, suffix = path.stem, path.suffix
    candidate, n = path, 0
    while True:
        try:
            _claim(temp, candidate)
            return candidate
        except FileExistsError:
            n += 1
            candidate = path.with_name(f"{stem}-{n}{suffix}")


def _append(path: Path, chunks: Iterable[bytes], sync: bool) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    with os.fdopen(fd, "ab") as out:
        for chunk in chunks:
            out.write(chunk)
        out.flush()
        if sync:
            os.fsync(out.fileno())


def _sync_folder(folder: Path) -> None:
    with suppress(OSError):  # some file systems cannot open or fsync a folder
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def _abandoned(name: str, age: float) -> bool:
    if age > _STALE_SECONDS:
        return True
    host, _, rest = name.rpartition(TEMP_MARK)[2].partition("-")
    pid_text = rest.partition("-")[0]
    return host == _HOST and pid_text.isdigit() and not _alive(int(pid_text))


def remove_leftovers(folder: Path) -> list[str]:
    """Remove temporary files that killed writers left in ``folder``; return their names."""
    removed: list[str] = []
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not is_temp_name(entry.name):
            continue
        with suppress(OSError):
            if entry.is_file(follow_symlinks=False) and _abandoned(entry.name, now - entry.stat().st_mtime):
                os.unlink(entry.path)
                removed.append(entry.name)
    return removed
