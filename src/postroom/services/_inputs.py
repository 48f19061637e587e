"""``--input`` files: checked before a run, fingerprinted in the execution's request, and
checked again by a resume, which refuses to run on inputs that are gone or changed."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from typing import Any

from ..errors import ConfigError
from ..sdk import Document

__all__ = ["check_inputs", "fingerprint", "input_documents", "verify_inputs"]


def check_inputs(paths: list[str]) -> None:
    for path in paths:
        if not os.path.isfile(path):
            raise ConfigError("the input file does not exist or is not a file", file=path, field="--input",
                              fix="check the path")
        if not os.access(path, os.R_OK):
            raise ConfigError("the input file cannot be read (permission denied)", file=path, field="--input",
                              fix="check the file's permissions")


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def fingerprint(path: str) -> dict[str, Any]:
    """Absolute path, size, modification time and SHA-256 of an input file."""
    absolute = os.path.abspath(path)
    try:
        stat = os.stat(absolute)
        return {"path": absolute, "size": stat.st_size, "mtime": stat.st_mtime, "sha256": _sha256(absolute)}
    except OSError as exc:
        raise ConfigError(f"cannot read the input file: {exc.strerror}", file=path, field="--input") from None


def verify_inputs(execution_id: str, request: dict[str, Any]) -> list[str]:
    """The inputs a resume runs on, as the execution recorded them; ConfigError (exit 2) when
    one is gone or its content changed since the execution started."""
    recorded = request.get("input_files") or [{"path": p} for p in request.get("inputs", [])]
    paths = []
    for item in recorded:
        path = item["path"]
        if not os.path.isfile(path):
            raise ConfigError(
                f"execution {execution_id} ran on this input file, which is gone", file=path, field="--input",
                fix="put the same file back at that path and resume again; a resume never runs without "
                    "its inputs")
        if "sha256" in item:
            size = os.path.getsize(path)
            if size != item["size"] or _sha256(path) != item["sha256"]:
                raise ConfigError(
                    f"the input file changed since execution {execution_id} started ({item['size']} bytes, "
                    f"sha256 {item['sha256'][:12]}..., now {size} bytes)", file=path, field="--input",
                    fix="put the original file back to resume; to send from the new file, start a new run "
                        "(postroom run PROCESS --input FILE)")
        paths.append(path)
    return paths


def input_documents(paths: list[str]) -> Iterator[Document]:
    for path in paths:
        try:
            # disk.directory says where the input came from; a disk send never writes there by itself
            yield Document.from_file(path, {"disk.file_name": os.path.basename(path),
                                            "disk.directory": os.path.dirname(os.path.abspath(path))},
                                     ).mark_inbound(["disk.directory"])
        except OSError as exc:
            raise ConfigError(f"cannot read the input file: {exc.strerror}", file=path, field="--input") from None
