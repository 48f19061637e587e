"""The flat-file split reads RFC 4180 as Python's csv module does (issue 7, items 1 and 2)."""


import pytest

from postroom.engine._flatfile import BLOCK
from postroom.sdk import SPOOL_THRESHOLD, Document
from support.engine_helpers import logs, run_yaml


def split(data: bytes | str, steps: str = "[{type: split, headers: retain}]", name: str | None = None):
    text = f"""
type: process
name: split
shapes:
  start: {{type: start, mode: data_passthrough, next: dp}}
  dp: {{type: data_process, steps: {steps}, next: show}}
  show: {{type: notify, message: "{{1}}", parameters: [{{profile_element: id}}]}}
"""
    doc = Document(data, {"disk.file_name": name} if name else None)
    result, recorder, _ = run_yaml(text, inputs=[doc], batch_size=100)
    return result, recorder


@pytest.mark.fast
def test_a_quote_inside_an_unquoted_field_is_data_and_every_record_is_its_own_document():
    data = "id,name,height\nP1,Ann,5'11\"\nP2,Bob,6'0\"\nP3,\"Cy\nDa\",170\nP4,Ed,180\n"
    result, recorder = split(data)
    assert logs(recorder) == ["P1", "P2", "P3", "P4"]
    assert result.status == "complete" and result.documents_out == 4


@pytest.mark.fast
def test_an_unclosed_quoted_field_fails_naming_the_line_it_opened_and_earlier_records_go_on():
    data = 'id,name\nP1,Ann\nP2,Bob\nP3,"Cy\nP4,Di\nP5,Ed\n'
    result, recorder = split(data, name="patients.csv")
    assert logs(recorder, "info") == ["P1", "P2"]
    assert result.status == "complete_with_errors" and result.documents_failed == 1
    (shape, _, message), = recorder.errors
    assert shape == "dp"
    assert data.index('"') == 25
    assert message.startswith("split failed: patients.csv: line 4, byte offset 25: a quoted field opens here")
    assert "not closed" in message


@pytest.mark.fast
def test_the_line_named_is_the_one_where_the_open_field_starts_not_the_record():
    data = 'id,a,b\nP1,"x\ny","z\nw\n'
    _, recorder = split(data)
    assert data.rindex('"') == 16
    assert "line 3, byte offset 16: a quoted field opens here" in recorder.errors[0][2]
    assert "the data from line 2 on is not split" in recorder.errors[0][2]


def test_invalid_utf8_late_in_a_big_csv_fails_only_its_record_naming_line_and_file_offset():
    rows = [f"P{i},Patient {i},Lyon\n".encode() for i in range(1, 60001)]
    bad = 45000
    offset = len(b"id,name,city\n") + sum(len(r) for r in rows[: bad - 1]) + len(f"P{bad},Patient ")
    rows[bad - 1] = f"P{bad},Patient ".encode() + b"\xff\xfe" + b",Lyon\n"
    data = b"id,name,city\n" + b"".join(rows)
    assert len(data) > SPOOL_THRESHOLD  # read from the spool file, in chunks
    result, recorder = split(data, name="big.csv")
    seen = logs(recorder, "info")
    assert seen == [f"P{i}" for i in range(1, 60001) if i != bad]
    assert result.documents_failed == 1
    message = recorder.errors[0][2]
    assert message.startswith(f"split failed: big.csv: line {bad + 1}, byte offset {offset}: byte 0xff is not UTF-8")
    assert data[offset] == 0xFF


@pytest.mark.fast
def test_invalid_utf8_inside_a_multi_line_record_names_its_own_line_and_the_record_start():
    data = b'id,note\nP1,"first\nsecond \xc3(\n"\nP2,ok\n'
    result, recorder = split(data)
    assert logs(recorder, "info") == ["P2"]
    message = recorder.errors[0][2]
    assert data.index(b"\xc3") == 25
    assert "line 3, byte offset 25: byte 0xc3 is not UTF-8 (the record starts on line 2)" in message


@pytest.mark.fast
def test_a_bad_header_fails_the_document_and_bad_records_fail_alone_in_batches_and_groups():
    result, recorder = split(b"id,n\xe9\nP1,a\n")
    assert result.documents_failed == 1 and "the header record cannot be read: line 1, byte offset 4" in \
        recorder.errors[0][2]
    _, recorder = split(b"id,t\nP1,a\nP2,\xff\nP3,a\nP4,b\n", "[{type: split, headers: retain, batch_count: 2}]")
    assert logs(recorder, "info") == ["P1", "P4"]  # batches P1+P3 and P4: the bad record is not in one
    assert "line 3, byte offset 13" in recorder.errors[0][2]
    _, recorder = split(b"id,t\nP1,a\nP2,\xff\nP3,a\nP4,b\n",
                        "[{type: split, headers: retain, by: profile, link_element: t}]")
    assert logs(recorder, "info") == ["P1", "P4"]


def test_split_time_is_linear_in_the_size():
    # one stray quote near the top used to make every later line one record, in quadratic time
    body = "".join(f"P{i},Patient {i},180,Lyon\n" for i in range(150_000))
    data = "id,name,height,city\nP0,Ann,5'11\",Lyon\n" + body
    assert len(data) > 4_000_000
    result, recorder = split(data, "[{type: split, headers: remove, batch_count: 1000}]")
    assert result.documents_out == 151  # the time it takes: bench/csv_split.py --linear


def _across(start: int, head: bytes, boundary: int, tail: str) -> bytes:
    """A row beginning at ``start`` with ``head``, then a 4-byte character on ``boundary``."""
    return head + b"x" * (boundary - 2 - start - len(head)) + f"𝄞{tail}".encode()


@pytest.mark.fast
def test_records_across_the_readers_block_boundaries_split_as_anywhere_else():
    """Over 2 MiB (the split reads the data in blocks of BLOCK bytes), CRLF line ends and a BOM:
    a record whose quoted field holds line breaks across one block boundary, a record with a
    byte that is not UTF-8 across another, a 4-byte character on each; every good record is
    a document with the header, the bad one fails alone naming its line and byte offset."""
    first, second = (1 << 20) // BLOCK * BLOCK, (2 << 20) // BLOCK * BLOCK
    rows = [b"\xef\xbb\xbfid,name,city\r\n"]
    size, marks, i = len(rows[0]), {}, 0
    while size < 2_200_000:
        i += 1
        if "quoted" not in marks and size > first - 60:
            marks["quoted"] = i
            row = _across(size, f'P{i},"Zoë\r\nMüller\r\n'.encode(), first, '",Lyon\r\n')
        elif "bad" not in marks and size > second - 60:
            marks["bad"], bad_offset = i, size + len(f'P{i},"Ab')
            row = _across(size, f'P{i},"Ab'.encode() + b"\xff\r\n", second, '",Nice\r\n')
        else:
            row = f"P{i},Patient é{i},Lyon\r\n".encode()
        rows.append(row)
        size += len(row)
    data = b"".join(rows)
    assert data[bad_offset] == 0xFF
    assert "𝄞".encode() == data[first - 2:first + 2] == data[second - 2:second + 2]
    text = """
type: process
name: split
shapes:
  start: {type: start, mode: data_passthrough, next: dp}
  dp: {type: data_process, steps: [{type: split, headers: retain}], next: show}
  show: {type: notify, message: "{1}|{2}", parameters: [{profile_element: name}, {current_data: true}]}
"""
    result, recorder, _ = run_yaml(text, inputs=[Document(data, {"disk.file_name": "big.csv"})], batch_size=500)
    shown = logs(recorder, "info")
    assert len(shown) == i - 1 and result.documents_failed == 1
    q = marks["quoted"]
    name = rows[q].decode().split('"')[1]
    assert name.startswith("Zoë\r\nMüller\r\nxx") and name.endswith("x𝄞")
    assert shown[q - 1] == f'{name}|\ufeffid,name,city\nP{q},"{name}",Lyon'  # the header joined by LF, as ever
    assert shown[q] == f"Patient é{q + 1}|\ufeffid,name,city\nP{q + 1},Patient é{q + 1},Lyon"
    b = marks["bad"]
    (_, _, message), = recorder.errors
    assert message.startswith(f"split failed: big.csv: line {b + 3}, byte offset {bad_offset}: byte 0xff is not "
                              "UTF-8")  # line: the header and the quoted record's two more lines come before
    assert [s.split("|")[0] for s in shown[b - 2:b]] == [f"Patient é{b - 1}", f"Patient é{b + 1}"]
