"""The documents a test run kept, per shape, as a viewer shows them: text or base64, a
content type (from the document's properties, else guessed from the data), properties."""

from __future__ import annotations

import base64
import csv
import io
import json
from typing import Any

from ..errors import NotFound
from ..repository import Repository, ShapeDocumentRecord

__all__ = ["shape_documents"]

_TYPE_PROPERTIES = ("mail.content_type", "http.content_type", "content_type", "disk.content_type")


def _looks_csv(text: str) -> bool:
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if len(lines) < 2 or "," not in lines[0]:
        return False
    try:
        widths = {len(row) for row in csv.reader(io.StringIO("\n".join(lines)))}
    except csv.Error:
        return False
    return len(widths) == 1 and widths.pop() > 1


def _content_type(text: str | None, properties: dict[str, Any]) -> str:
    for name in _TYPE_PROPERTIES:
        value = properties.get(name)
        if isinstance(value, str) and "/" in value:
            return value.split(";")[0].strip()
    if text is None:
        return "application/octet-stream"
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            json.loads(text)
            return "application/json"
        except ValueError:
            pass
    if stripped.startswith("<"):
        return "text/html" if stripped[:15].lower().startswith(("<!doctype html", "<html")) else "application/xml"
    return "text/csv" if _looks_csv(text) else "text/plain"


def _document(record: ShapeDocumentRecord) -> dict[str, Any]:
    try:
        text: str | None = bytes(record.data).decode("utf-8")
    except UnicodeDecodeError:
        text = None
    data: Any = text if text is not None else {"base64": base64.b64encode(bytes(record.data)).decode()}
    return {"index": record.seq, "document": record.document, "shape": record.shape, "data": data,
            "content_type": _content_type(text, record.properties), "properties": record.properties,
            "dynamic": record.dynamic}


def shape_documents(repo: Repository, execution_id: str, shape: str | None = None) -> list[dict[str, Any]]:
    """The documents a test run kept that entered ``shape`` (every shape when None)."""
    if repo.get_execution(execution_id) is None:
        raise NotFound(f"no execution {execution_id!r}", fix="see: postroom executions list")
    return [_document(d) for d in repo.get_shape_documents(execution_id, shape)]
