"""The flat-file record reader as it was before issue 13 (one line at a time, each line
decoded and counted as it is read): the oracle the block reader of ``postroom.engine._flatfile``
is compared with in tests/engine/test_flatfile_blocks.py. Test support only."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

__all__ = ["Record", "iter_records"]


@dataclass(slots=True)
class Record:
    """One record of a flat file: its text (line ending removed), its fields, the line and
    byte offset where it starts. ``error`` says why the record cannot be used (it is then
    ``raw``, the record's bytes as they were)."""

    text: str
    fields: list[str]
    line: int
    offset: int
    error: str | None = None
    raw: bytes = b""


class _Lines:
    """The physical lines of a byte stream (ended by CR, LF or CR LF), decoded as UTF-8.
    Keeps the lines handed out since the record in hand began (``texts``, ``raws``: the
    reader of the records empties them), the line number and byte offset where that record
    begins, and where the first byte that is not UTF-8 sits."""

    def __init__(self, stream: Iterable[bytes]) -> None:
        self.stream = stream
        self.texts: list[str] = []
        self.raws: list[bytes] = []
        self.line = 1  # number of the first line in texts
        self.offset = 0  # byte offset of the first line in texts
        self.bad: tuple[int, int, int] | None = None  # (line, byte offset, byte)
        self.ended = False

    def __iter__(self) -> Iterator[str]:
        texts, raws = self.texts, self.raws
        for chunk in self.stream:  # binary lines end at LF only; CR alone is split here
            parts = chunk.splitlines(keepends=True) if b"\r" in chunk else (chunk,)
            for part in parts:
                try:
                    text = part.decode("utf-8")
                except UnicodeDecodeError as exc:
                    text = part.decode("utf-8", "surrogateescape")
                    if self.bad is None:
                        self.bad = (self.line + len(texts), self.offset + sum(map(len, raws)) + exc.start,
                                    part[exc.start])
                texts.append(text)
                raws.append(part)
                yield text
        self.ended = True


def iter_records(stream: Iterable[bytes], delimiter: str = ",", quote: str = '"') -> Iterator[Record]:
    """Yield the records of the data in order (blank lines skipped), in one pass.

    ``stream`` is a binary file (or any iterable of byte lines). The records are exactly
    the rows ``csv.reader`` reads from the text. A record holding bytes that are not UTF-8
    comes with ``error`` set (naming the line and byte offset) and the records around it
    come whole; a last record whose quoted field is never closed comes with ``error`` set
    (naming the line where the field opened), and ends the data."""
    lines = _Lines(stream)
    texts, raws = lines.texts, lines.raws
    try:
        for fields in csv.reader(lines, delimiter=delimiter, quotechar=quote):
            line, offset, bad = lines.line, lines.offset, lines.bad
            if len(texts) == 1:  # most records: one line
                text = texts[0]
                lines.line, lines.offset = line + 1, offset + len(raws[0])
            else:
                text = "".join(texts)
                lines.line, lines.offset = line + len(texts), offset + sum(map(len, raws))
            if lines.ended and fields:
                yield _unclosed(text, raws, line, offset, delimiter, quote)
                return
            raw = b"".join(raws) if bad is not None else b""
            texts.clear()
            raws.clear()
            lines.bad = None
            if not fields:  # a blank line
                continue
            text = text.rstrip("\r\n")
            if bad is None:
                yield Record(text, fields, line, offset)
            else:
                yield Record(text, fields, line, offset, _not_utf8(bad, line), raw)
    except csv.Error as exc:  # not expected with the reader's settings; named all the same
        raise ValueError(f"line {lines.line + len(texts) - 1}: {exc}") from None


def _not_utf8(bad: tuple[int, int, int], record_line: int) -> str:
    line, offset, byte = bad
    first = "" if line == record_line else f" (the record starts on line {record_line})"
    return (f"line {line}, byte offset {offset}: byte 0x{byte:02x} is not UTF-8{first}; this record fails "
            "alone and the others go on (data in another encoding: put a character_decode step before the split)")


def _unclosed(text: str, raws: list[bytes], line: int, offset: int, delimiter: str, quote: str) -> Record:
    head = text[: _open_quote(text, delimiter, quote)]
    at_line = line + head.count("\n") + head.count("\r") - head.count("\r\n")
    at_byte = offset + len(head.encode("utf-8", "surrogateescape"))
    error = (f"line {at_line}, byte offset {at_byte}: a quoted field opens here and is not closed before the end "
             f"of the data, so the data from line {line} on is not split (close the field with {quote}, or write "
             f"a {quote} inside a quoted field as {quote}{quote})")
    return Record(text, [], line, offset, error, b"".join(raws))


def _open_quote(text: str, delimiter: str, quote: str) -> int:
    """Where the quoted field still open at the end of ``text`` (one record) begins."""
    i, n, opened = 0, len(text), 0
    while i < n:
        if text.startswith(quote, i):  # a quoted field: to its closing quote
            opened, j = i, i + 1
            while True:
                k = text.find(quote, j)
                if k < 0:
                    return opened
                if not text.startswith(quote, k + 1):
                    break
                j = k + 2
            i = k + 1
        k = text.find(delimiter, i)  # the (rest of the) field is unquoted: to the next delimiter
        if k < 0:
            break
        i = k + 1
    return opened
