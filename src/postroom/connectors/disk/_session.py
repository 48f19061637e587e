"""Read files as documents, write documents as files."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from ...errors import ConfigError, ConnectorError
from ...sdk import Document, Failed, OperationSession, RunContext
from .spec import DiskConnection, DiskOperation

__all__ = ["DiskGetSession", "DiskSendSession"]


class DiskGetSession(OperationSession):
    side_effects = False

    def __init__(self, connection: DiskConnection, operation: DiskOperation, context: RunContext) -> None:
        self.base = Path(connection.directory).expanduser()
        self.op = operation
        self.context = context
        self.read: list[Path] = []

    def _files(self) -> list[Path]:
        if not self.base.is_dir():
            raise ConfigError(f"the directory {self.base} does not exist or is not a folder",
                              field="directory", fix="fix directory in the disk connection, or create the folder")
        pattern = self.op.file_filter or "*"
        found = self.base.rglob(pattern) if self.op.recursive else self.base.glob(pattern)
        files = sorted(p for p in found if p.is_file())
        if self.op.max_files:
            files = files[: self.op.max_files]
        return files

    def resource_key(self) -> str:
        """What this get consumes, for a listener's lease: the folder and the filter."""
        recursive = "**/" if self.op.recursive else ""
        return f"file://{self.base.absolute()}/{recursive}{self.op.file_filter or '*'}"

    def fetch(self) -> Iterator[Document]:
        for path in self._files():
            yield self._read(path)

    def _read(self, path: Path) -> Document:
        relative = path.parent.relative_to(self.base)
        try:
            doc = Document.from_file(path, {
                "disk.file_name": path.name,
                "disk.directory": "" if str(relative) == "." else str(relative),
            })
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
            for path in self.read:
                try:
                    path.unlink()
                except FileNotFoundError:
                    pass
        self.read = []


class DiskSendSession(OperationSession):
    side_effects = True

    def __init__(self, connection: DiskConnection, operation: DiskOperation, context: RunContext) -> None:
        self.base = Path(connection.directory).expanduser().absolute()
        self._base_text = str(self.base)
        self.op = operation
        self.context = context

    def _target(self, doc: Document) -> Path:
        directory = doc.properties.get("disk.directory", "")
        folder = self._base_text
        if directory:
            # relative: below the connection's folder; absolute: where the document says
            folder = os.path.join(folder, os.path.expanduser(directory))
        name = doc.properties.get("disk.file_name", "").strip()
        if not name:
            name = f"{time.strftime('%Y%m%d-%H%M%S')}-{self.context.execution_id[:8]}-{doc.seq}.dat"
        if "/" in name or "\\" in name or name in (".", ".."):
            raise ValueError(f"disk.file_name {name!r} is not a plain file name; put folders in disk.directory")
        return Path(folder, name)

    def execute(self, documents: list[Document], shape_id: str) -> Iterable[Document | Failed]:
        for doc in documents:
            try:
                path = self._target(doc)
            except ValueError as exc:
                yield Failed(doc, str(exc))
                continue
            if self.context.dry_run:
                self.context.record_dry_run(shape_id, doc, "disk.write", lambda p=path, d=doc: str(p).encode() + b"\n" + d.data)
                yield doc
                continue
            try:
                written = self._write(path, doc)
            except FileExistsError:
                yield Failed(doc, f"{path} exists and write_option is fail")
                continue
            except OSError as exc:
                yield Failed(doc, f"cannot write {path}: {exc.strerror}")
                continue
            out = doc.copy()
            out.properties["disk.file_name"] = written.name
            yield out

    def _write(self, path: Path, doc: Document) -> Path:
        if self.op.create_directories:
            path.parent.mkdir(parents=True, exist_ok=True)
        option = self.op.write_option
        if option == "unique":
            stem, suffix = path.stem, path.suffix
            n = 0
            while True:
                try:
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                    break
                except FileExistsError:
                    n += 1
                    path = path.with_name(f"{stem}-{n}{suffix}")
        elif option == "fail":
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        elif option == "append":
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        else:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        with os.fdopen(fd, "wb") as out:
            for chunk in doc.chunks():
                out.write(chunk)
        return path
