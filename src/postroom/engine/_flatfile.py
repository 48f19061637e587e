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

    __slots__ = ("names", "values", "_index")

    def __init__(self, names: list[str], values: list[str]) -> None:
        self.names = names
        self.values = values
        self._index: dict[str, int] | None = None

    def get(self, name: str) -> str:
        if self._index is None:
            self._index = {}
            for i, n in enumerate(self.names):
                self._index.setdefault(n, i)
                self._index.setdefault(n.strip().lower(), i)
        i = self._index.get(name)
        if i is None:
            i = self._index.get(name.strip().lower())
        if i is None or i >= len(self.values):
            return ""
        return self.values[i]


def parse_record(text: str, delimiter: str = ",", quote: str = '"', header: bool = True,
                 field_names: list[str] | None = None) -> FlatRecord:
    """Parse a document's text: with ``header`` the first row names the columns; with
    ``field_names`` (a profile without header) the names come from the profile."""
    if "\n" not in text and quote not in text and not header:
        rows = [text.split(delimiter)]
    else:
        rows = []
        for row in csv.reader(io.StringIO(text), delimiter=delimiter, quotechar=quote):
            if row:
                rows.append(row)
                if len(rows) >= (2 if header else 1):
                    break
    if header:
        names = rows[0] if rows else []
        values = rows[1] if len(rows) > 1 else []
        if field_names and not names:
            names = field_names
    else:
        names = field_names or []
        values = rows[0] if rows else []
    return FlatRecord(names, values)
