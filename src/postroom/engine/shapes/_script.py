"""What a script step gives its script and takes back from it (the script itself runs in a
child process, see ``engine/_sandbox.py``)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from ...sdk import Document

__all__ = ["SCRIPT_NAMES", "SCRIPT_PRELUDE", "as_text", "next_chunk", "script_outputs"]

# read back after each document; process_properties travels as state
SCRIPT_NAMES = ("text", "data", "properties", "dynamic", "output")
SCRIPT_PRELUDE = 'text = data.decode("utf-8", "replace")\noutput = None\n'
BATCH_DOCUMENTS = 64
BATCH_BYTES = 1024 * 1024


def next_chunk(docs: Iterator[Document]) -> list[Document]:
    """The next documents to send the script's process at once (up to 64, or about 1 MB)."""
    chunk: list[Document] = []
    size = 0
    for doc in itertools.islice(docs, BATCH_DOCUMENTS):
        chunk.append(doc)
        size += doc.size
        if size >= BATCH_BYTES:
            break
    return chunk


def as_text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else str(value)


def _mapping(values: dict[str, Any], name: str, original: dict[str, str]) -> dict[str, str]:
    if name not in values:
        return original
    found = values[name]
    if not isinstance(found, dict):
        raise TypeError(f"left {name} as {_kind(found)}, not a dict")
    return {str(k): as_text(v) for k, v in found.items()}


def _kind(value: Any) -> str:
    if value is None:
        return "None"
    name = type(value).__name__
    return f"an {name}" if name[0] in "aeiou" else f"a {name}"


def _data(value: Any, where: str) -> bytes | str:
    if isinstance(value, bytes | str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"left {where} as {_kind(value)}; it must be text or bytes")


def script_outputs(values: dict[str, Any], doc: Document) -> tuple[list[bytes | str], dict[str, str], dict[str, str]]:
    """The documents' data, properties and dynamic properties a script's result makes.
    A value of the wrong type raises TypeError saying which and why."""
    props = _mapping(values, "properties", doc.properties)
    dynamic = _mapping(values, "dynamic", doc.dynamic)
    output = values.get("output")
    if output is None:
        if "text" in values:
            return [_data(values["text"], "text")], props, dynamic
        if "data" in values:
            return [_data(values["data"], "data")], props, dynamic
        return [doc.data], props, dynamic
    if not isinstance(output, list):
        raise TypeError(f"left output as {_kind(output)}; it must be a list of texts or bytes (one document each)")
    return [_data(item, f"output[{i}]") for i, item in enumerate(output)], props, dynamic
