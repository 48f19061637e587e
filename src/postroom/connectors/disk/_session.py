"""Read files as documents, write documents as files."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from ...errors import ConfigError, ConnectorError
from ...sdk import Document, Failed, OnceKeys, OperationSession, RunContext, once_scope
from ._once import attempt_id, earlier_write, parse_attempt
from ._paths import TEMP_MARK, bad_character, is_temp_name, within, within_real
from ._write import remove_leftovers, write_file
from .spec import DiskConnection, DiskOperation

__all__ = ["DiskGetSession", "DiskSendSession"]

#: the key of the resolved directory among a batch's folders (no disk.directory holds a NUL)
_BASE_REAL = "\0"
#: whether ``os.access`` can tell a name is absent without following a link (Linux, macOS):
#: a file not written yet is the common case, and an lstat failing on it builds an OSError
_ABSENT_WITHOUT_ERROR = os.access in os.supports_follow_symlinks
_ALLOW = "set allow_outside_directory: true on the disk connection to allow other places"


class DiskGetSession(OperationSession):
    side_effects = False

    def __init__(self, connection: DiskConnection, operation: DiskOperation, context: RunContext) -> None:
        self.base = Path(connection.directory).expanduser()
        self.allow_outside = connection.allow_outside_directory
        self.op = operation
        self.context = context
        self.read: list[Path] = []

    def _files(self) -> list[Path]:
        if not self.base.is_dir():
            # retryable: a folder that is away (an unmounted share, one being recreated) may come
            # back, and a listener waiting on it retries as for a server that is down
            raise ConfigError(f"the directory {self.base} does not exist or is not a folder",
                              field="directory", fix="fix directory in the disk connection, or create the folder",
                              retryable=True)
        pattern = self.op.file_filter or "*"
        found = self.base.rglob(pattern) if self.op.recursive else self.base.glob(pattern)
        # files being written by a disk send (or left by a killed one) are never read
        files = sorted(p for p in found if not is_temp_name(p.name) and p.is_file())
        if self.op.max_files:
            files = files[: self.op.max_files]
        return files

    def resource_key(self) -> str:
        """What this get consumes, for a listener's lease: the folder and the filter."""
        recursive = "**/" if self.op.recursive else ""
        return f"file://{self.base.absolute()}/{recursive}{self.op.file_filter or '*'}"

    def fetch(self) -> Iterator[Document | Failed]:
        base_real = os.path.realpath(self.base)
        for path in self._files():
            if not self.allow_outside and not within(str(path), base_real):
                yield Failed(Document(b"", self._properties(path)),
                             f"{path} leads to {os.path.realpath(path)}, outside the connection's directory "
                             f"{self.base} (a symbolic link): it is not read; {_ALLOW}")
                continue
            yield self._read(path)

    def _properties(self, path: Path) -> dict[str, str]:
        relative = path.parent.relative_to(self.base)
        return {"disk.file_name": path.name, "disk.directory": "" if str(relative) == "." else str(relative)}

    def _read(self, path: Path) -> Document:
        try:
            # where the file came from: readable by every shape, never where a send writes by itself
            doc = Document.from_file(path, self._properties(path)).mark_inbound(["disk.directory"])
        except OSError as exc:
            raise ConnectorError(f"cannot read {path}: {exc.strerror}", retryable=False) from None
        self.read.append(path)
        return doc

    def execute(self, documents: list[Document], shape_id: str) -> Iterable[Document | Failed]:
        # As a connector shape: each incoming document triggers one read; the files come out.
        for _ in documents:
            yield from self.fetch()

    def commit(self) -> None:
        if self.op.delete_after_read and not self.context.dry_run:
            base_real = os.path.realpath(self.base)
            for path in self.read:
                if not within(str(path.parent), base_real):
                    # only a name inside the directory is ever removed (a link is removed, not its target)
                    self.context.log.warning("not deleting %s: its folder is outside %s", path, self.base)
                    continue
                try:
                    path.unlink()
                except FileNotFoundError:
                    pass
        self.read = []


def _printable(prop: str, value: str) -> None:
    bad = bad_character(value)
    if bad:
        raise ValueError(f"{prop} {value!r} holds {bad}: file names must be printable text")


class DiskSendSession(OperationSession):
    side_effects = True

    def __init__(self, connection: DiskConnection, operation: DiskOperation, context: RunContext) -> None:
        self.base = Path(connection.directory).expanduser().absolute()
        self._base_text = str(self.base)
        self.allow_outside = connection.allow_outside_directory
        self.op = operation
        self.context = context
        self._cleaned: set[str] = set()
        self._once = OnceKeys()  # documents a mail Get read: written once per inbound message

    def _target(self, doc: Document, folders: dict[str, str]) -> str:
        """The file to write for ``doc``; ValueError (the document's failure) when it may not be.
        ``folders`` holds, by ``disk.directory``, the folders already found inside the directory
        in this batch (the folder, ending in a separator); ``_BASE_REAL``, the resolved directory."""
        props = doc.properties
        directory = (doc.outbound("disk.directory") or "") if "disk.directory" in props else ""
        name = props.get("disk.file_name", "").strip()
        if directory:
            _printable("disk.directory", directory)
        if not (name.isascii() and name.isprintable()):  # printable ASCII: nothing to look for
            _printable("disk.file_name", name)
        if not name:
            name = f"{time.strftime('%Y%m%d-%H%M%S')}-{self.context.execution_id[:8]}-{doc.seq}.dat"
        if "/" in name or "\\" in name or name in (".", ".."):
            raise ValueError(f"disk.file_name {name!r} is not a plain file name; put folders in disk.directory")
        if TEMP_MARK in name:
            raise ValueError(f"disk.file_name {name!r} holds {TEMP_MARK!r}, kept for files being written")
        folder = folders.get(directory)
        if folder is None:
            folder = folders[directory] = self._folder(directory, folders)
        # a plain name in a folder inside the directory: inside, unless it is a link leading out
        path = folder + name
        if self.allow_outside:
            return path
        if _ABSENT_WITHOUT_ERROR and not os.access(path, os.F_OK, follow_symlinks=False):
            return path  # absent (or unreadable): nothing to follow, and no OSError made to say so
        try:  # one lstat: a symbolic link may lead out
            link = stat.S_ISLNK(os.lstat(path).st_mode)
        except OSError:
            link = False
        if link:
            real = os.path.realpath(path)
            if not within_real(real, folders[_BASE_REAL]):
                raise ValueError(f"disk.file_name {name!r} in {folder.rstrip(os.sep)} is a symbolic link to "
                                 f"{real}, outside the connection's directory {self.base}; {_ALLOW}")
        return path

    def _folder(self, directory: str, folders: dict[str, str]) -> str:
        """The folder ``directory`` names (the connection's when empty), ending in a separator:
        relative, below the connection's folder; absolute or ~, only when the connection allows
        it. Checked once per batch: resolved, it must lie inside the resolved directory."""
        if _BASE_REAL not in folders:
            folders[_BASE_REAL] = os.path.realpath(self.base)
        folder = os.path.join(self._base_text, os.path.expanduser(directory)) if directory else self._base_text
        if not self.allow_outside and directory:
            base_real = folders[_BASE_REAL]
            folder_real = os.path.realpath(folder)
            if not within_real(folder_real, base_real):
                raise ValueError(f"disk.directory {directory!r} leads to {folder_real}, outside the "
                                 f"connection's directory {self.base}; set disk.directory to a folder below it (or "
                                 f"to nothing) before this shape, or {_ALLOW}")
        return folder if folder.endswith(os.sep) else folder + os.sep

    def execute(self, documents: list[Document], shape_id: str) -> Iterable[Document | Failed]:
        folders: dict[str, str] = {}  # resolved once per batch: base and each folder written to
        dry_run, record_dry_run, target_of = self.context.dry_run, self.context.record_dry_run, self._target
        for doc in documents:
            try:
                path = target_of(doc, folders)
            except ValueError as exc:
                yield Failed(doc, str(exc))
                continue
            if dry_run:
                record_dry_run(shape_id, doc, "disk.write", lambda p=path, d=doc: p.encode() + b"\n" + d.data)
                yield doc
                continue
            key, target = self._once.key(shape_id, doc), Path(path)
            yield self._write_once(key, target, doc) if key else self._written(target, doc)

    def _written(self, path: Path, doc: Document) -> Document | Failed:
        """Write ``doc`` as ``path``: the document with the name written, or its failure."""
        try:
            written = self._write(path, doc)
        except FileExistsError:
            return Failed(doc, f"{path} exists and write_option is fail")
        except OSError as exc:
            return Failed(doc, f"cannot write {path}: {exc.strerror}")
        out = doc.copy()
        out.properties["disk.file_name"] = written.name
        return out

    def _write_once(self, key: str, path: Path, doc: Document) -> Document | Failed:
        """Write a document a mail Get read once per inbound message (see ``_once.py``)."""
        journal = self.context.journal(once_scope(self.context))
        token, attempt = attempt_id(path)
        entry = journal.begin(key, attempt)
        earlier, recorded = parse_attempt(entry.message_id)
        if entry.status == "sent":
            self.context.log.info("%s was written by an earlier execution that read the same message; "
                                  "not written again", entry.reply or recorded)
            out = doc.copy()
            out.properties["disk.file_name"] = entry.reply or (recorded.name if recorded else path.name)
            return out
        if earlier != token and recorded is not None:  # an earlier attempt was cut short or failed
            path = recorded
            done = earlier_write(path, doc, self.op.write_option)
            if done is not None:
                self.context.log.info("%s was written by an earlier execution that read the same message "
                                      "(killed before it was recorded); not written again", done)
                journal.finish(key, "sent", done.name)
                out = doc.copy()
                out.properties["disk.file_name"] = done.name
                return out
        result = self._written(path, doc)
        if isinstance(result, Failed):
            journal.finish(key, "failed", result.message)
            self._once.failed(key, doc)  # a Try/Catch retry of this document takes its key
        else:
            journal.finish(key, "sent", result.properties["disk.file_name"])
        return result

    def _write(self, path: Path, doc: Document) -> Path:
        if self.op.create_directories:
            path.parent.mkdir(parents=True, exist_ok=True)
        folder = str(path.parent)
        if folder not in self._cleaned:
            self._cleaned.add(folder)
            removed = remove_leftovers(path.parent)
            if removed:
                self.context.log.info("removed %d temporary file(s) a killed run left in %s", len(removed), folder)
        return write_file(path, doc.chunks(), self.op.write_option, sync=self.op.sync_to_disk)
