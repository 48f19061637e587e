"""Hostile input for the flat-file split (issue 7): generated CSV bytes (quotes in and out
of place, delimiters, CR/LF in every combination, non-ASCII, NUL, bytes that are not UTF-8)
go through a Data Process split, with Python's ``csv`` module as the oracle.

For every input: no traceback and no dead execution; every record ``csv.reader`` reads from
the data either becomes exactly one document holding that record, or fails alone with a
message naming its line and byte offset (a record that is not UTF-8; a last record whose
quoted field is never closed). Nothing is dropped silently, nothing is invented.
"""

from __future__ import annotations

import csv
import io
import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from postroom.engine import Limits
from postroom.sdk import Document
from support.engine_helpers import run_yaml

SENTINEL = "\x01end\x01"
NOT_UTF8 = [b"\xff", b"\xc3", b"\xe2\x82", b"\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"]


def process(delimiter: str) -> str:
    return f"""
type: process
name: hostile
shapes:
  start: {{type: start, mode: data_passthrough, next: dp}}
  dp: {{type: data_process, profile: cols, steps: [{{type: split}}], next: done}}
  done: {{type: stop, continue: true}}
---
type: profile
name: cols
id: cols
delimiter: {json.dumps(delimiter)}
header: false
"""


def pieces(delimiter: str) -> st.SearchStrategy[bytes]:
    """Any one piece: structure (quotes, the delimiter, line ends), data, or bytes that are not UTF-8."""
    text = st.sampled_from(['"', '""', delimiter, "\n", "\r", "\r\n", "a", "5'11\"", " ", "é", "Zoë", "\x00", "𝄞",
                            "\u2028", "x" * 40]).map(lambda s: s.encode("utf-8"))
    return st.one_of(text, text, text, st.sampled_from(NOT_UTF8))


@st.composite
def hostile(draw) -> tuple[str, bytes]:  # noqa: ANN001
    """Rows of fields (plain, quoted, quoted and never closed, or any pieces) joined by the
    delimiter, ended by any line end (or none), so that real CSV structure is common."""
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    atom = pieces(delimiter)
    data = st.sampled_from(["a", "5'11\"", " ", "é", "\x00", "𝄞", "x" * 40]).map(lambda s: s.encode("utf-8"))
    plain = st.lists(st.one_of(data, st.sampled_from(NOT_UTF8)), max_size=4).map(b"".join)
    quoted = st.builds(lambda inner, close: b'"' + inner + (b'"' if close else b""),
                       st.lists(atom, max_size=6).map(b"".join), st.integers(0, 5).map(bool))
    field = st.one_of(plain, quoted, st.lists(atom, max_size=5).map(b"".join))
    row = st.lists(field, min_size=1, max_size=5).map(delimiter.encode().join)
    ends = st.sampled_from([b"\n", b"\r\n", b"\r", b"\n\n", b"\r\r\n", b""])
    rows = draw(st.lists(st.tuples(row, ends), max_size=8))
    return delimiter, b"".join(r + e for r, e in rows)


def oracle(data: bytes, delimiter: str) -> tuple[list[list[str]], bool]:
    """The rows csv.reader reads (blank lines left out), and whether the data ends inside a
    quoted field (then the text after it swallows a sentinel line instead of reading it)."""
    text = data.decode("utf-8", "surrogateescape")
    rows = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if r]
    probe = [r for r in csv.reader(io.StringIO(text + "\n" + SENTINEL + "\n", newline=""), delimiter=delimiter) if r]
    return rows, probe[-1] != [SENTINEL]


def line_of(data: bytes, offset: int) -> int:
    head = data[:offset]
    return head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1


def split(data: bytes, delimiter: str):  # noqa: ANN201
    result, recorder, _ = run_yaml(process(delimiter), inputs=[Document(data)], test_mode=True,
                                   limits=Limits(documents_per_shape=10**6, bytes_total=10**9))
    assert result.error is None, result.error
    assert not [m for level, m, _ in recorder.logs if "internal error" in m or "Traceback" in m]
    made = [doc.data for shape, _, doc in recorder.shape_documents if shape == "done"]
    return result, made, [message for _, _, message in recorder.errors]


def check_not_utf8(data: bytes, row: list[str], message: str) -> None:
    found = re.search(r"line (\d+), byte offset (\d+): byte 0x([0-9a-f]{2}) is not UTF-8", message)
    assert found, message
    line, offset, byte = int(found[1]), int(found[2]), int(found[3], 16)
    assert data[offset] == byte
    assert line == line_of(data, offset)
    first = next(ch for ch in "".join(row) if "\udc80" <= ch <= "\udcff")  # the record's first bad byte
    assert ord(first) - 0xDC00 == byte


def check_unclosed(data: bytes, quote: int, message: str) -> None:
    found = re.search(r"line (\d+), byte offset (\d+): a quoted field opens here and is not closed", message)
    assert found, message
    line, offset = int(found[1]), int(found[2])
    assert data[offset] == quote and line == line_of(data, offset)


@settings(max_examples=400, deadline=3000, suppress_health_check=[HealthCheck.too_slow])
@given(hostile())
def test_every_record_is_a_document_or_fails_alone_with_line_and_offset(case):
    delimiter, data = case
    rows, unclosed = oracle(data, delimiter)
    result, made, errors = split(data, delimiter)
    fine = [r for r in rows if not any("\udc80" <= ch <= "\udcff" for ch in "".join(r))]
    bad = [r for r in rows if r not in fine]
    if unclosed:
        if rows[-1] in fine:
            fine.pop()
        else:
            bad.pop()
        check_unclosed(data, ord('"'), errors[-1])
        errors = errors[:-1]
    made_rows = [list(csv.reader(io.StringIO(d.decode("utf-8"), newline=""), delimiter=delimiter)) for d in made]
    assert made_rows == [[r] for r in fine]  # each document holds exactly its record, in order
    assert len(errors) == len(bad)  # each other record failed once, none silently dropped
    for row, message in zip(bad, errors, strict=True):
        check_not_utf8(data, row, message)
    assert result.documents_failed == len(bad) + unclosed


@settings(max_examples=15, deadline=None)
@given(hostile())
def test_split_time_stays_linear_on_hostile_records(case):
    delimiter, record = case
    record = record.replace(b'"', b"") + b'5\'11"' + delimiter.encode() + b'"a""b\nc"\n'
    data = record * (400_000 // len(record) + 1)  # about 400 KB: a stray quote on every line
    result, made, errors = split(data, delimiter)  # the time it takes: bench/csv_split.py --linear
    assert len(made) + len(errors) == len(oracle(data, delimiter)[0])
