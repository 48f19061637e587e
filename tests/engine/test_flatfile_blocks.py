"""The split's block reader (issue 13): it reads, decodes and cuts the data into lines a block
at a time and works out byte offsets only for a record that fails, yet yields exactly the
records the line-at-a-time reader it replaced yielded (tests/support/flatfile_v1.py): same
text, fields, line numbers, errors (line, byte offset, byte) and bytes of a failed record,
wherever the blocks end (inside a quoted field, a CR LF or a multi-byte character)."""

from __future__ import annotations

import io
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from postroom.engine._flatfile import iter_records, record_bytes
from support import flatfile_v1

pytestmark = pytest.mark.fast

NOT_UTF8 = [b"\xff", b"\xc3", b"\xe2\x82", b"\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"]
# str.splitlines breaks at these, csv does not: the reader must not either
OTHER_BREAKS = ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


def old(data: bytes, delimiter: str = ",") -> list[tuple[str, list[str], int, str | None, bytes]]:
    return [(r.text if r.error is None else "", r.fields, r.line, r.error, r.raw)
            for r in flatfile_v1.iter_records(io.BytesIO(data), delimiter)]


def new(data: bytes, delimiter: str = ",", block: int = 1 << 20,
        chunks: int | None = None) -> list[tuple[str, list[str], int, str | None, bytes]]:
    stream = io.BytesIO(data) if chunks is None else [data[i:i + chunks] for i in range(0, len(data), chunks)]
    return [(text if error is None else "", fields, line, error, b"" if error is None else record_bytes(text))
            for text, fields, line, error in iter_records(stream, delimiter, block=block)]


@st.composite
def awkward(draw) -> tuple[str, bytes]:  # noqa: ANN001
    """CSV bytes made of structure (quotes, the delimiter, every line end), data (multi-byte
    characters, a BOM, the other line breaks of str.splitlines) and bytes that are not UTF-8."""
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    text = st.sampled_from(['"', '""', delimiter, "\n", "\r", "\r\n", "a", "5'11\"", " ", "é", "Zoë", "\x00",
                            "𝄞", "\ufeff", "x" * 30, *OTHER_BREAKS]).map(lambda s: s.encode("utf-8"))
    piece = st.one_of(text, text, text, st.sampled_from(NOT_UTF8))
    quoted = st.builds(lambda inner, close: b'"' + inner + (b'"' if close else b""),
                       st.lists(piece, max_size=6).map(b"".join), st.integers(0, 6).map(bool))
    field = st.one_of(quoted, st.lists(piece, max_size=4).map(b"".join))
    row = st.lists(field, min_size=1, max_size=4).map(delimiter.encode().join)
    ends = st.sampled_from([b"\n", b"\r\n", b"\r", b"\n\n", b"\r\r\n", b""])
    rows = draw(st.lists(st.tuples(row, ends), max_size=10))
    bom = draw(st.sampled_from([b"", b"\xef\xbb\xbf"]))
    return delimiter, bom + b"".join(r + e for r, e in rows)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(awkward(), st.sampled_from([1, 2, 3, 5, 8, 64, 1 << 20]), st.sampled_from([None, 1, 4, 7]))
def test_the_block_reader_yields_what_the_line_reader_yielded(case, block, chunks):
    delimiter, data = case
    assert new(data, delimiter, block, chunks) == old(data, delimiter)


def test_a_block_ending_inside_a_quoted_field_reads_the_record_whole():
    data = b'id,note\nP1,"one\ntwo\r\nthree"\nP2,"a ""quoted"" word"\nP3,x\n'
    for block in range(1, len(data) + 1):
        got = new(data, block=block)
        assert [r[:4] for r in got] == [("id,note", ["id", "note"], 1, None),
                                        ('P1,"one\ntwo\r\nthree"', ["P1", "one\ntwo\r\nthree"], 2, None),
                                        ('P2,"a ""quoted"" word"', ["P2", 'a "quoted" word'], 5, None),
                                        ("P3,x", ["P3", "x"], 6, None)], block


def test_a_block_ending_inside_a_multi_byte_character_or_a_cr_lf_changes_nothing():
    data = "id,name\r\nP1,Zoë\r\nP2,𝄞𝄞\r\n\r\nP3,Müller\r\n".encode()
    expected = [("id,name", 1), ("P1,Zoë", 2), ("P2,𝄞𝄞", 3), ("P3,Müller", 5)]
    for block in range(1, len(data) + 1):
        for chunks in (None, 1, 3):
            got = new(data, block=block, chunks=chunks)
            assert [(text, line) for text, _, line, _, _ in got] == expected, (block, chunks)


def test_a_bom_stays_in_the_first_field_as_before():
    data = b"\xef\xbb\xbfid,name\nP1,Ann\n"
    assert new(data, block=2)[0][:2] == ("\ufeffid,name", ["\ufeffid", "name"])
    assert new(data, block=2) == old(data)


def test_a_bad_record_fails_alone_naming_its_line_and_byte_whatever_the_block():
    data = b'id,name\nP1,Ann\nP2,"B\xffb\nstill P2"\nP3,Cy\n'
    for block in (1, 4, 16, 1 << 20):
        got = new(data, block=block)
        assert [(text, line) for text, _, line, error, _ in got if error is None] == \
            [("id,name", 1), ("P1,Ann", 2), ("P3,Cy", 5)]
        (_, fields, line, error, raw), = [r for r in got if r[3] is not None]
        assert line == 3 and raw == b'P2,"B\xffb\nstill P2"\n' and fields[0] == "P2"
        assert error.startswith("line 3, byte offset 20: byte 0xff is not UTF-8; this record fails alone")
        assert data.index(b"\xff") == 20


def test_an_unclosed_field_across_many_blocks_names_where_it_opened():
    data = b"id,note\nP1,ok\nP2,\"never closed\n" + b"more\n" * 1000
    (*good, (text, fields, line, error)) = iter_records(io.BytesIO(data), block=16)
    assert [g[0] for g in good] == ["id,note", "P1,ok"]
    assert fields == [] and line == 3 and record_bytes(text) == data[len(b"id,note\nP1,ok\n"):]
    assert error.startswith("line 3, byte offset 17: a quoted field opens here and is not closed")
    assert data[17:18] == b'"'


def test_the_reader_holds_a_block_not_the_data():
    """200,000 rows (3.2 MB) go through while the reader holds one block: the stream is read
    in blocks of the size asked for, as the records are taken, and the memory allocated at
    the peak stays under a third of the data."""
    class Rows(io.RawIOBase):
        def __init__(self, rows: int) -> None:
            self.left, self.biggest = rows, 0

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            self.biggest = max(self.biggest, size)
            rows = min(self.left, max(size // 16, 1))
            self.left -= rows
            return b"P1234567,Ann,ok\n" * rows

    stream = Rows(200_000)
    tracemalloc.start()
    try:
        count = sum(1 for _ in iter_records(stream, block=64 * 1024))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 200_000 and stream.biggest == 64 * 1024
    assert peak < 1_000_000, peak
