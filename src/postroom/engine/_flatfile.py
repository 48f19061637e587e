"""Flat-file (CSV) records: split a stream into records without breaking quoted line
breaks, and read one record's columns by header name or profile."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

__all__ = ["iter_records", "parse_record", "FlatRecord"]


def iter_records(lines: Iterable[str], quote: str = '"') -> Iterator[str]:
    """Yield records (line ending removed). A quoted field may hold line breaks: such a
    record spans several physical lines and stays whole. Blank lines are skipped."""
    pending: str | None = None
    for line in lines:
        if pending is not None:
            pending += line
            if pending.count(quote) % 2 == 0:
                record = pending.rstrip("\r\n")
                pending = None
                if record:
                    yield record
            continue
        if quote in line and line.count(quote) % 2:
            pending = line
            continue
        record = line.rstrip("\r\n")
        if record:
            yield record
    if pending is not None and pending.strip():
        yield pending.rstrip("\r\n")


class FlatRecord:
    """The first data record of a flat-file document, readable by column name."""

    __slots__ = ("index", "values")

    def __init__(self, index: dict[str, int], values: list[str]) -> None:
        self.index = index
        self.values = values

    def get(self, name: str) -> str:
        i = self.index.get(name)
        if i is None:
            i = self.index.get(name.strip().lower())
        if i is None or i >= len(self.values):
            return ""
        return self.values[i]


_INDEX_CACHE: dict[tuple[str, ...], dict[str, int]] = {}


def _index(names: list[str]) -> dict[str, int]:
    """Column positions by exact and by case-folded name; shared by every record with the
    same header, which is almost always all of them."""
    key = tuple(names)
    found = _INDEX_CACHE.get(key)
    if found is None:
        found = {}
        for i, n in enumerate(names):
            found.setdefault(n, i)
            found.setdefault(n.strip().lower(), i)
        if len(_INDEX_CACHE) > 256:
            _INDEX_CACHE.clear()
        _INDEX_CACHE[key] = found
    return found


def _split_row(line: str, delimiter: str, quote: str) -> list[str]:
    if quote not in line:
        return line.split(delimiter)
    return next(csv.reader([line], delimiter=delimiter, quotechar=quote), [])


def parse_record(text: str, delimiter: str = ",", quote: str = '"', header: bool = True,
                 field_names: list[str] | None = None) -> FlatRecord:
    """Parse a document's text: with ``header`` the first row names the columns; with
    ``field_names`` (a profile without header) the names come from the profile."""
    if quote in text:
        rows = []
        for row in csv.reader(io.StringIO(text), delimiter=delimiter, quotechar=quote):
            if row:
                rows.append(row)
                if len(rows) >= (2 if header else 1):
                    break
    else:
        rows = [line.rstrip("\r").split(delimiter) for line in text.split("\n", 2)[: 2 if header else 1] if line]
    if header:
        names = rows[0] if rows else (field_names or [])
        values = rows[1] if len(rows) > 1 else []
    else:
        names = field_names or []
        values = rows[0] if rows else []
    return FlatRecord(_index(names), values)
