"""Where the disk connector may read and write.

By default every file a disk operation reads, writes or deletes lies inside the
connection's ``directory``: a ``disk.directory`` taken from data (absolute, ``~``, ``..``)
or a symbolic link cannot lead it elsewhere unless the connection sets
``allow_outside_directory``. File names written must not hold control characters
(C0, DEL, C1, line separators) or Unicode bidi controls, which hide or reorder what a
listing shows.
"""

from __future__ import annotations

import os
import unicodedata

__all__ = ["TEMP_MARK", "bad_character", "filter_problem", "is_temp_name", "within", "within_real"]

#: Part of the name of a file being written (``.NAME.postroom-tmp-...``); get never reads these.
TEMP_MARK = ".postroom-tmp-"

_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_SEPARATORS = frozenset("\u2028\u2029")


def bad_character(text: str) -> str | None:
    """The first character a file name must not hold, described, or None."""
    if text.isascii() and text.isprintable():  # U+0020..U+007E: no control, separator or bidi character
        return None
    for char in text:
        if unicodedata.category(char) == "Cc" or char in _SEPARATORS:
            return f"a control character (U+{ord(char):04X})"
        if char in _BIDI:
            return f"a bidi control character (U+{ord(char):04X})"
    return None


def is_temp_name(name: str) -> bool:
    """Whether ``name`` is a file the disk send is writing (or a leftover of a killed one)."""
    return name.startswith(".") and TEMP_MARK in name


def within(path: str, base_real: str) -> bool:
    """Whether ``path``, with every symbolic link resolved, lies in ``base_real`` (resolved)."""
    return within_real(os.path.realpath(path), base_real)


def within_real(real: str, base_real: str) -> bool:
    """Whether the resolved path ``real`` lies in ``base_real`` (resolved)."""
    return real == base_real or real.startswith(base_real.rstrip(os.sep) + os.sep)


def filter_problem(pattern: str) -> str | None:
    """Why a get's ``file_filter`` may not be used, or None: it is a name pattern inside the
    connection's directory, never a way out of it."""
    bad = bad_character(pattern)
    if bad:
        return f"file_filter {pattern!r} holds {bad}"
    parts = pattern.replace("\\", "/").split("/")
    drive = len(pattern) > 2 and pattern[0].isalpha() and pattern[1] == ":" and pattern[2] in "/\\"
    if pattern.startswith(("/", "\\")) or drive:
        reason = "is an absolute path"
    elif pattern.startswith("~"):
        reason = "starts with ~ (a home folder)"
    elif ".." in parts:
        reason = "holds .. (the folder above)"
    else:
        return None
    return (f"file_filter {pattern!r} {reason}: a filter is a pattern of names inside the connection's "
            "directory, such as *.csv or in/*.csv; to read another folder, set the connection's directory there")
