"""Issue 7, items 1 and 2, as a user meets them: postroom import + postroom run --input."""

import csv
import io

PROCESS = """\
type: connection
connector: disk
name: Out
id: out
settings: {directory: .}
---
type: operation
connector: disk
name: Write
id: write
settings: {action: send, write_option: overwrite}
---
type: process
name: Split and write back
id: split-csv
shapes:
  start: {type: start, mode: data_passthrough, next: split}
  split:
    type: data_process
    steps: [{type: split, headers: retain}]
    next: count
  count: {type: notify, message: "record {1}", parameters: [{profile_element: id}], next: combine}
  combine: {type: data_process, steps: [{type: combine, profile_type: flat_file}], next: name}
  name:
    type: set_properties
    properties: [{property: disk.file_name, value: [out.csv]}]
    next: write
  write: {type: connector, connection: out, operation: write}
"""


def run_split(cli, workdir, data: bytes):
    (workdir / "p.yaml").write_text(PROCESS, encoding="utf-8")
    assert cli("import", "p.yaml").code == 0
    (workdir / "patients.csv").write_bytes(data)
    ran = cli("run", "split-csv", "--input", "patients.csv", "--json")
    return ran, ran.json()


def test_a_stray_quote_in_a_height_keeps_every_record_apart(cli, workdir):
    rows = [["id", "name", "height"]] + [[f"P{i}", f"Patient {i}", "5'11\"" if i % 7 == 0 else "180"]
                                         for i in range(1, 2001)]
    rows[10][1] = "Zoë\nMüller"  # a quoted line break stays inside its record
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    ran, record = run_split(cli, workdir, buffer.getvalue().encode("utf-8"))
    assert ran.code == 0, ran.stderr
    assert record["status"] == "complete" and record["errors"] == []
    log = cli("executions", "show", record["id"], "--json").json()["log"]
    assert [e["message"] for e in log if e["message"].startswith("record ")] == [f"record P{i}" for i in range(1, 2001)]
    written = (workdir / "out.csv").read_text(encoding="utf-8")
    assert list(csv.reader(io.StringIO(written, newline=""))) == rows


def test_an_unclosed_quote_fails_naming_the_line_and_the_records_before_it_are_written(cli, workdir):
    data = b'id,name\nP1,Ann\nP2,"Bob\nP3,Cy\n'
    ran, record = run_split(cli, workdir, data)
    assert ran.code == 1, ran.stderr
    assert record["status"] == "complete_with_errors" and record["documents_failed"] == 1
    (error,) = record["errors"]
    assert error["shape"] == "split"
    assert error["message"].startswith("split failed: patients.csv: line 3, byte offset 18: a quoted field opens here")
    assert (workdir / "out.csv").read_text(encoding="utf-8") == "id,name\nP1,Ann\n"


def test_invalid_utf8_late_in_a_big_csv_names_line_and_file_offset_and_keeps_every_good_record(cli, workdir):
    lines = [b"id,name,city\n"] + [f"P{i},Patient {i},Lyon\n".encode() for i in range(1, 20001)]
    lines[15000] = b"P15000,Patient \xff15000,Lyon\n"  # line 15001 of the file, ~300 KB in
    data = b"".join(lines)
    offset = data.index(b"\xff")
    ran, record = run_split(cli, workdir, data)
    assert ran.code == 1, ran.stderr
    assert record["documents_failed"] == 1
    (error,) = record["errors"]
    assert error["message"].startswith(
        f"split failed: patients.csv: line 15001, byte offset {offset}: byte 0xff is not UTF-8")
    written = (workdir / "out.csv").read_bytes()
    assert written == b"".join(lines[:15000] + lines[15001:])
