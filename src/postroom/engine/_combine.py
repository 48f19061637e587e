"""Combine documents into one without holding them all in memory."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from typing import IO

from ..sdk import SPOOL_THRESHOLD, Document
from ._parse import parse_json

__all__ = ["combine_documents", "DataWriter"]


class DataWriter:
    """Bytes that start in memory and move to a temporary file past the threshold."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._size = 0
        self._file: IO[bytes] | None = None

    def write(self, data: bytes) -> None:
        if self._file is None and self._size + len(data) > SPOOL_THRESHOLD:
            self._file = tempfile.TemporaryFile()
            for part in self._parts:
                self._file.write(part)
            self._parts = []
        if self._file is not None:
            self._file.write(data)
        else:
            self._parts.append(data)
        self._size += len(data)

    def document(self, like: Document) -> Document:
        if self._file is None:
            return like.with_data(b"".join(self._parts))
        self._file.seek(0)
        doc = Document.from_stream(self._file, like.properties)
        doc.dynamic = dict(like.dynamic)
        doc.keep_marks(like)
        doc.origin, doc.seq = like.origin, like.seq
        self._file.close()
        return doc


def combine_documents(docs: Iterable[Document], profile_type: str, element: str | None = None) -> Document | None:
    """flat_file: records joined by line breaks, a header shared by all kept once; json: one
    array of the documents' values; xml: the documents inside one root element; none: bytes
    concatenated. The first document's properties travel with the result."""
    first: Document | None = None
    writer = DataWriter()
    header: bytes | None = None
    count = 0
    for doc in docs:
        data = doc.data
        if first is None:
            first = doc
            if profile_type == "json":
                writer.write(b"[")
            elif profile_type == "xml":
                writer.write(f"<{element or 'root'}>".encode())
        if profile_type == "flat_file":
            body = data.rstrip(b"\r\n")
            if count == 0:
                header = body.split(b"\n", 1)[0] if b"\n" in body else None
                writer.write(body)
            else:
                if header is not None and body.startswith(header + b"\n"):
                    body = body[len(header) + 1 :]
                writer.write(b"\n" + body)
        elif profile_type == "json":
            item = data.strip() or b"null"
            parse_json(item)  # a clear error when a document is not JSON (or nested too deeply)
            writer.write((b"," if count else b"") + item)
        elif profile_type == "xml":
            text = data.strip()
            if text.startswith(b"<?xml"):
                text = text.split(b"?>", 1)[1].strip()
            writer.write(text)
        else:
            writer.write(data)
        count += 1
    if first is None:
        return None
    if profile_type == "json":
        writer.write(b"]")
    elif profile_type == "xml":
        writer.write(f"</{element or 'root'}>".encode())
    if profile_type == "flat_file":
        writer.write(b"\n")
    return writer.document(first)
