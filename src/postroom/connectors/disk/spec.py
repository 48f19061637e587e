"""Disk connector settings (CONTRACT.md, "Disk connector")."""

from __future__ import annotations

from typing import Literal

from pydantic import field_validator

from ...sdk import Settings, setting
from ._paths import filter_problem

__all__ = ["DiskConnection", "DiskOperation"]


class DiskConnection(Settings):
    directory: str = setting(..., title="Directory", help="Base folder that operations read from and write to.")
    allow_outside_directory: bool = setting(
        False, title="Allow folders outside the directory",
        help="Off (default): every file read, written or deleted lies inside directory; a document whose "
             "disk.directory (absolute, ~, ..) or a symbolic link leads elsewhere fails with its reason. "
             "On: disk.directory may name any folder and links may point anywhere.")

    @field_validator("directory")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("directory is empty: name the base folder")
        return value


class DiskOperation(Settings):
    action: Literal["get", "send"] = setting(..., title="Action", help="get: read files; send: write documents.")
    file_filter: str = setting("*", title="File filter",
                               help="Glob of the files to read inside the connection's directory, e.g. *.csv or "
                                    "in/*.csv (never absolute, never ..).",
                               group="get", show_if={"action": "get"})
    recursive: bool = setting(False, title="Recursive", help="Also read files in sub-folders.", group="get",
                              show_if={"action": "get"})
    delete_after_read: bool = setting(False, title="Delete after read",
                                      help="Delete each file once the execution has finished successfully.",
                                      group="get", show_if={"action": "get"})
    max_files: int = setting(0, title="Maximum files", help="Read at most this many files (0: no limit).", ge=0,
                             group="get", show_if={"action": "get"})
    write_option: Literal["unique", "overwrite", "append", "fail"] = setting(
        "unique", title="When the file exists",
        help="unique: add -1, -2... to the name; overwrite; append; fail the document. Files appear whole: "
             "written to a temporary name, then renamed (append excepted).",
        group="send", show_if={"action": "send"})
    create_directories: bool = setting(True, title="Create directories", help="Create missing folders.",
                                       group="send", show_if={"action": "send"})
    sync_to_disk: bool = setting(
        True, title="Sync each file to disk",
        help="fsync each file (and its folder) before it gets its name, so it survives a power cut, at a few "
             "milliseconds a file. Off: much faster; a killed run still never leaves a partial file, but a "
             "power cut or system crash can.",
        group="send", show_if={"action": "send"})

    @field_validator("file_filter")
    @classmethod
    def _inside(cls, value: str) -> str:
        problem = filter_problem(value)
        if problem:
            raise ValueError(problem)
        return value
