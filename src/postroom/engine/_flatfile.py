"""Flat-file (CSV) records: split a byte stream into records the way Python's ``csv``
module reads RFC 4180 (a quoted field may hold line breaks and doubled quotes; a quote
inside an unquoted field is ordinary data), and read one record's columns by header name
or profile."""

from __future__ import annotations

import csv
import functools
import io
import itertools
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Final

__all__ = ["iter_records", "parse_record", "flat_readers", "record_bytes", "FlatRecord", "Record", "TEXT", "FIELDS",
           "LINE", "ERROR"]

# A record is as long as its document; the split must not refuse a big quoted field.
try:
    csv.field_size_limit(max(csv.field_size_limit(), sys.maxsize))
except OverflowError:  # pragma: no cover - a C long of 32 bits
    csv.field_size_limit(2**31 - 1)


Record = tuple[str, list[str], int, "str | None"]
"""One record of a flat file: ``(text, fields, line, error)``. ``line`` is the number of the
line where it starts. With ``error`` None, ``text`` is the record without its line ending;
otherwise ``error`` says why the record cannot be used (naming line and byte offset) and
``text`` is the record as read, line ending included, its bytes that are not UTF-8 kept as
surrogate escapes: ``record_bytes(text)`` gives back its bytes as they were. A plain tuple:
made once per record, a class would cost more than reading the record."""
# a Record's items
TEXT: Final = 0
FIELDS: Final = 1
LINE: Final = 2
ERROR: Final = 3

BLOCK = 64 * 1024  # bytes read, decoded and split into lines at once (more costs memory, not time)


def record_bytes(text: str) -> bytes:
    """The bytes a record's text was read from (the inverse of its decoding)."""
    return text.encode("utf-8", "surrogateescape")


class _Blocks:
    """A byte stream in blocks that end after a line break (CR, LF or CR LF), so that no
    line and no UTF-8 character is cut; the last block ends where the data ends."""

    def __init__(self, stream: Iterable[bytes] | IO[bytes]) -> None:
        read = getattr(stream, "read", None)
        if read is None:
            chunks = filter(None, stream)  # an empty chunk is not the end
            self._read: Callable[[int], bytes] = lambda _size: next(chunks, b"")
        else:
            self._read = read
        self._buf = bytearray()
        self.done = 0  # bytes handed out so far

    def next(self, size: int) -> bytes | None:
        buf = self._buf
        while chunk := self._read(size):
            searched = max(len(buf) - 1, 0)  # a CR ending the data held so far may start a CR LF
            buf += chunk
            lf = buf.rfind(b"\n", searched)
            cr = buf.rfind(b"\r", max(lf + 1, searched), len(buf) - 1)
            cut = max(lf, cr) + 1
            if cut:
                return self._take(cut)
        return self._take(len(buf)) if buf else None

    def _take(self, size: int) -> bytes:
        block = bytes(memoryview(self._buf)[:size])
        del self._buf[:size]
        self.done += size
        return block


def _lines(block: bytes, first_line: int, first_byte: int, bad: deque[tuple[int, int, int]]) -> list[str]:
    """The physical lines of ``block`` with their line endings, decoded. A line holding
    bytes that are not UTF-8 keeps them as surrogate escapes and its first bad byte goes
    into ``bad`` as (line index, byte offset, byte), ``first_line`` and ``first_byte``
    being the block's own."""
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError:
        return _lines_one_by_one(block, first_line, first_byte, bad)
    if any(map(text.__contains__, _OTHER_BREAKS_ASCII if text.isascii() else _OTHER_BREAKS)):
        return io.StringIO(text, newline="").readlines()
    return text.splitlines(keepends=True)


# str.splitlines also breaks at these; csv does not (a search for each is faster than a count)
_OTHER_BREAKS_ASCII = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e")
_OTHER_BREAKS = (*_OTHER_BREAKS_ASCII, "\x85", "\u2028", "\u2029")


def _lines_one_by_one(block: bytes, first_line: int, first_byte: int, bad: deque[tuple[int, int, int]]) -> list[str]:
    lines = []
    offset = first_byte
    for i, part in enumerate(block.splitlines(keepends=True)):  # bytes break at CR, LF, CR LF only
        try:
            lines.append(part.decode("utf-8"))
        except UnicodeDecodeError as exc:
            lines.append(part.decode("utf-8", "surrogateescape"))
            bad.append((first_line + i, offset + exc.start, part[exc.start]))
        offset += len(part)
    return lines


def iter_records(stream: Iterable[bytes] | IO[bytes], delimiter: str = ",", quote: str = '"',
                 block: int = BLOCK) -> Iterator[Record]:
    """Yield the records of the data in order (blank lines skipped), in one pass.

    ``stream`` is a binary file (or any iterable of bytes). The records are exactly the rows
    ``csv.reader`` reads from the text. A record holding bytes that are not UTF-8 comes with
    its error set (naming the line and byte offset) and the records around it come whole; a
    last record whose quoted field is never closed comes with its error set (naming the line
    where the field opened), and ends the data.

    The data is read, decoded and cut into lines ``block`` bytes at a time (up to the last
    line break), and ``csv.reader`` reads each block's lines; a record that a block ends
    inside of is read again with the next block (which is then at least as big as it, so
    that a long record costs linear time). Byte offsets are worked out only for a record
    that fails; memory holds a block (and a record longer than one), never the data."""
    blocks = _Blocks(stream)
    bad: deque[tuple[int, int, int]] = deque()  # lines holding bytes that are not UTF-8
    carry: list[str] = []  # the lines of a record the last block ended inside of
    base = 0  # the number of lines before the block's first
    size = block
    while (data := blocks.next(size)) is not None:
        lines = _lines(data, base + len(carry), blocks.done - len(data), bad)
        if carry:
            lines = carry + lines
        ended: list[bool] = []  # csv.reader asked for a line after the last (then its record is cut)
        reader = csv.reader(itertools.chain(lines, iter(functools.partial(ended.append, True), None)),
                            delimiter=delimiter, quotechar=quote)
        start, number = 0, base + 1  # start: the index of the next record's first line; its number: number + start
        try:
            for fields in reader:  # one Python step per record: kept short
                end = reader.line_num
                if ended:
                    break
                if fields:  # not a blank line
                    text = lines[start] if end - start == 1 else "".join(lines[start:end])
                    if bad and bad[0][0] < base + end:
                        yield text, fields, number + start, _not_utf8(bad, base + end, number + start)
                    else:
                        yield text.rstrip("\r\n"), fields, number + start, None
                start = end
        except csv.Error as exc:  # not expected with the reader's settings; named all the same
            raise ValueError(f"line {base + reader.line_num}: {exc}") from None
        base += start
        carry = lines[start:]
        size = max(block, sum(map(len, carry)))
    if carry:
        text = "".join(carry)
        yield text, [], base + 1, _unclosed(text, base + 1, blocks.done - len(record_bytes(text)), delimiter, quote)


def _not_utf8(bad: deque[tuple[int, int, int]], end: int, record_line: int) -> str:
    """The error of the record that ends before line index ``end``, naming its first byte
    that is not UTF-8 (taken from ``bad`` with those of its other lines)."""
    index, offset, byte = bad.popleft()
    while bad and bad[0][0] < end:
        bad.popleft()
    line = index + 1
    first = "" if line == record_line else f" (the record starts on line {record_line})"
    return (f"line {line}, byte offset {offset}: byte 0x{byte:02x} is not UTF-8{first}; this record fails "
            "alone and the others go on (data in another encoding: put a character_decode step before the split)")


def _unclosed(text: str, line: int, offset: int, delimiter: str, quote: str) -> str:
    head = text[: _open_quote(text, delimiter, quote)]
    at_line = line + head.count("\n") + head.count("\r") - head.count("\r\n")
    at_byte = offset + len(record_bytes(head))
    return (f"line {at_line}, byte offset {at_byte}: a quoted field opens here and is not closed before the end "
            f"of the data, so the data from line {line} on is not split (close the field with {quote}, or write "
            f"a {quote} inside a quoted field as {quote}{quote})")


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


def flat_readers(names: list[str]) -> Callable[[list[str]], Callable[[str], str]]:
    """For records under header ``names``: the column reader of a record already split into
    its values, what ``parse_record(header + "\n" + record).get`` reads, without parsing
    it again (the header's index built once)."""
    index = _index(names)
    return lambda values: FlatRecord(index, values).get


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
