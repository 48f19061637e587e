"""A listener's run on the distributed workers: the documents a listener fetched, written as a
*bundle* (a folder in the files area every process shares, as API inputs are) that a worker
runs, and the start session's part ("commit after success", the documents held back) played
back in serve once the worker's run has ended.

The listener keeps its session, its lease and its watermark in serve: it fetches, writes the
bundle, sends the run to the workers and waits for it (as it waits for an in-process run).
On the worker, :class:`BundleSession` stands in for the start session: the engine tells it
which documents failed for good and whether it commits; it writes that into the bundle.
Serve then tells the real session the same (:func:`play_back`), so the watermark moves past
exactly what an in-process run would have let it, and a message is taken once.

Layout: ``documents.jsonl`` (one line a fetched item: its data file, properties, dynamic
properties, the properties an inbound connector marked, or a failure's message),
``NNNNNN.bin`` (the data), and from the worker ``failed.jsonl`` and ``committed``.

A serve that dies while it waits for the worker leaves its bundle behind (the listener reads
the same mail again after a restart: nothing was committed). :func:`sweep_bundles` removes such
a bundle, holding patients' mail, once no running (or queued) execution names it and nothing
has written to it for :data:`SWEEP_AFTER_SECONDS`."""

from __future__ import annotations

import json
import shutil
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..sdk import Document, Failed, OperationSession

__all__ = ["BUNDLE_KEY", "SWEEP_AFTER_SECONDS", "BundleSession", "bundle_documents", "play_back", "sweep_bundles",
           "write_bundle"]

#: where the bundle's folder is named in the execution's recorded request
BUNDLE_KEY = "listener_documents"

#: how long a bundle no live execution names is left alone: serve plays a bundle back within a
#: poll of its run's end, and names it in the execution within a moment of writing it
SWEEP_AFTER_SECONDS = 900.0


def _line(document: Document, data_file: str) -> dict[str, Any]:
    inbound = [name for name, value in document.properties.items() if document.outbound(name) is None and value]
    return {"data": data_file, "properties": document.properties, "dynamic": document.dynamic, "inbound": inbound}


def _document(folder: Path, line: dict[str, Any]) -> Document:
    document = Document.from_file(folder / line["data"], line.get("properties") or {}) if line.get("data") else \
        Document(b"", line.get("properties") or {})
    document.dynamic.update(line.get("dynamic") or {})
    return document.mark_inbound(line.get("inbound") or [])


def write_bundle(files: Path, documents: Iterable[Document | Failed]) -> Path:
    """Write what a listener fetched under ``files/listener-runs/<id>/``; the folder."""
    folder = files / "listener-runs" / uuid.uuid4().hex
    folder.mkdir(parents=True, mode=0o700)
    with open(folder / "documents.jsonl", "w", encoding="utf-8") as manifest:
        for number, item in enumerate(documents):
            document = item.document if isinstance(item, Failed) else item
            data_file = f"{number:06d}.bin"
            with open(folder / data_file, "wb") as data:
                for chunk in document.chunks():
                    data.write(chunk)
            line = _line(document, data_file)
            if isinstance(item, Failed):
                line.update(failed=item.message, retryable=item.retryable)
            manifest.write(json.dumps(line) + "\n")
    return folder


def bundle_documents(folder: Path) -> Iterator[Document | Failed]:
    """The fetched items again, in order (on the worker)."""
    with open(folder / "documents.jsonl", encoding="utf-8") as manifest:
        for text in manifest:
            line = json.loads(text)
            document = _document(folder, line)
            yield Failed(document, line["failed"], bool(line.get("retryable"))) if "failed" in line else document


class BundleSession(OperationSession):
    """The start session of a listener's run on a worker: it records what the engine tells
    a start session (documents failed for good, commit after success) in the bundle."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        (folder / "committed").unlink(missing_ok=True)  # a run resumed: what it says now counts
        (folder / "failed.jsonl").write_text("", encoding="utf-8")

    def execute(self, documents: list[Document], shape_id: str) -> Iterable[Document | Failed]:
        return list(documents)  # a start shape does not run on documents

    def document_failed(self, document: Document) -> None:
        with self._lock, open(self.folder / "failed.jsonl", "a", encoding="utf-8") as failed:
            failed.write(json.dumps(_line(document, "")) + "\n")

    def commit(self) -> None:
        (self.folder / "committed").write_text("", encoding="utf-8")


def play_back(folder: Path, session: OperationSession) -> bool:
    """Tell the listener's real session what the worker's run told the stand-in: each document
    that failed for good, then commit when the run committed. True when it committed. The
    bundle is deleted."""
    try:
        failed = folder / "failed.jsonl"
        if failed.exists():
            for text in failed.read_text(encoding="utf-8").splitlines():
                if text.strip():
                    session.document_failed(_document(folder, json.loads(text)))
        committed = (folder / "committed").exists()
        if committed:
            session.commit()
        return committed
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _last_written(folder: Path) -> float:
    times = [folder.stat().st_mtime]
    times += [entry.stat().st_mtime for entry in folder.iterdir()]
    return max(times)


def sweep_bundles(files: Path, in_use: Iterable[str], now: float | None = None) -> list[Path]:
    """Remove the bundles under ``files/listener-runs`` left behind by a serve that died: those
    not named in ``in_use`` (the bundles of running executions, queued ones included) and not written to
    for :data:`SWEEP_AFTER_SECONDS`. The folders removed."""
    root = files / "listener-runs"
    if not root.is_dir():
        return []
    keep = {Path(name).name for name in in_use}
    now = time.time() if now is None else now
    removed = []
    for folder in sorted(root.iterdir()):
        try:
            stale = folder.is_dir() and folder.name not in keep and now - _last_written(folder) > SWEEP_AFTER_SECONDS
        except OSError:  # removed meanwhile (another serve's sweep, a play-back)
            continue
        if stale:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed
