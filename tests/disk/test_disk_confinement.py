"""Issue 7, items 10, 11 and 13: a disk operation stays inside its connection's directory
unless the connection allows other places, and file names with control or bidi characters
fail their own document while the others are written."""

from __future__ import annotations

import json
import os
from pathlib import Path

WRITER = """\
type: connection
connector: disk
name: Letters
id: letters
settings: {{directory: out{allow}}}
---
type: operation
connector: disk
name: Write
id: write
settings: {{action: send, write_option: fail}}
---
type: process
name: Write where the data says
id: write-where
shapes:
  start: {{type: start, mode: data_passthrough, next: split}}
  split: {{type: data_process, steps: [{{type: split, headers: retain}}], next: where}}
  where:
    type: set_properties
    properties:
      - {{property: disk.directory, value: [{{profile_element: folder}}]}}
      - {{property: disk.file_name, value: [{{profile_element: name}}]}}
    next: write
  write: {{type: connector, connection: letters, operation: write}}
"""


def _run_writer(cli, workdir: Path, rows: list[tuple[str, str]], allow: bool = False,  # noqa: ANN001, ANN202
                env: dict[str, str] | None = None):
    setting = ", allow_outside_directory: true" if allow else ""
    (workdir / "writer.yaml").write_text(WRITER.format(allow=setting), encoding="utf-8")
    imported = cli("import", "writer.yaml")
    assert imported.code == 0, imported
    data = "folder,name\n" + "".join(f"{folder},{name}\n" for folder, name in rows)
    (workdir / "rows.csv").write_text(data, encoding="utf-8")
    result = cli("run", "write-where", "--input", "rows.csv", "--json", env=env)
    return result, json.loads(result.stdout)


def test_disk_directory_from_data_cannot_leave_the_connection_folder(cli, workdir: Path, tmp_path: Path) -> None:
    (workdir / "out").mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (workdir / "out" / "link-out").symlink_to(outside)  # a folder inside that points out
    fake_home = tmp_path / "fakehome"
    fake_home.mkdir()
    rows = [("sub", "kept.txt"), ("../escape", "a.txt"), (str(outside), "b.txt"), ("~", "c.txt"),
            ("link-out", "d.txt"), ("sub/../../escape", "e.txt")]
    result, run = _run_writer(cli, workdir, rows, env={"HOME": str(fake_home)})

    assert result.code == 1, result
    assert (workdir / "out" / "sub" / "kept.txt").read_text() == "folder,name\nsub,kept.txt"
    assert list(outside.iterdir()) == [] and not (workdir / "escape").exists() and list(fake_home.iterdir()) == []
    errors = {e["document"]: e["message"] for e in run["errors"]}
    assert len(errors) == 5, errors
    for message in errors.values():
        assert message.startswith("disk.directory "), message
        assert "outside the connection's directory" in message and "allow_outside_directory: true" in message
    for value in ["../escape", str(outside), "~", "link-out", "sub/../../escape"]:
        assert sum(m.startswith(f"disk.directory {value!r} leads to ") for m in errors.values()) == 1, value


def test_allow_outside_directory_lets_disk_directory_name_any_folder(cli, workdir: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    result, run = _run_writer(cli, workdir, [(str(outside), "b.txt"), ("../up", "c.txt")], allow=True)
    assert result.code == 0, result
    assert (outside / "b.txt").read_text() == f"folder,name\n{outside},b.txt"
    assert (workdir / "up" / "c.txt").exists()


def test_a_file_name_that_is_a_link_out_fails_instead_of_writing_through_it(cli, workdir: Path,
                                                                              tmp_path: Path) -> None:
    (workdir / "out").mkdir()
    target = tmp_path / "victim.txt"
    target.write_text("precious\n")
    (workdir / "out" / "report.txt").symlink_to(target)
    (workdir / "writer.yaml").write_text(WRITER.format(allow="").replace("write_option: fail",
                                                                           "write_option: append"))
    assert cli("import", "writer.yaml").code == 0
    (workdir / "rows.csv").write_text("folder,name\n,report.txt\n,fine.txt\n")
    result = cli("run", "write-where", "--input", "rows.csv", "--json")
    assert result.code == 1, result
    (error,) = result.json()["errors"]
    assert error["message"].startswith("disk.file_name 'report.txt' in ") and "symbolic link" in error["message"]
    assert target.read_text() == "precious\n"
    assert (workdir / "out" / "fine.txt").exists()


def test_control_and_bidi_characters_in_file_names_fail_their_document_only(cli, workdir: Path) -> None:
    """Item 10 (a NUL in disk.file_name killed the whole execution as an internal error)
    and item 13 (control and bidi characters)."""
    names = ["first.txt", "nul\0.txt", "tab\t.txt", "rlo\u202etxt.exe", "c1\x85.txt", "lf\n.txt", "last.txt"]
    branches = "\n".join(
        f"  n{i}: {{type: set_properties, properties: [{{property: disk.file_name, value: [{json.dumps(name)}]}}], "
        "next: write}" for i, name in enumerate(names))
    process = f"""\
type: connection
connector: disk
name: Out
id: out
settings: {{directory: out}}
---
type: operation
connector: disk
name: Write
id: write
settings: {{action: send}}
---
type: process
name: Names
id: names
shapes:
  start: {{type: start, next: fan}}
  fan: {{type: branch, branches: [{", ".join(f"n{i}" for i in range(len(names)))}]}}
{branches}
  write: {{type: connector, connection: out, operation: write}}
"""
    (workdir / "names.yaml").write_text(process, encoding="utf-8")
    imported = cli("import", "names.yaml")
    assert imported.code == 0, imported
    result = cli("run", "names", "--json")
    assert result.code == 1, result
    run = result.json()
    assert run["status"] == "complete_with_errors" and run["documents_failed"] == 5
    messages = sorted(e["message"] for e in run["errors"])
    assert any("'nul\\x00.txt' holds a control character (U+0000)" in m for m in messages), messages
    assert any("bidi control character (U+202E)" in m for m in messages), messages
    for code in ("0009", "0085", "000A"):
        assert any(f"(U+{code})" in m for m in messages), (code, messages)
    assert all(m.startswith("disk.file_name ") and "file names must be printable text" in m for m in messages)
    assert sorted(os.listdir(workdir / "out")) == ["first.txt", "last.txt"]


GETTER = """\
type: connection
connector: disk
name: Inbox
id: inbox
settings: {{directory: inbox}}
---
type: operation
connector: disk
name: Read
id: read
settings:
  action: get
  file_filter: "{filter}"
"""


def test_an_absolute_or_dotdot_file_filter_is_refused_at_import(cli, workdir: Path) -> None:
    """Item 11 (absolute file_filter) and item 13 (file_filter reaching out)."""
    for pattern, reason in [("/etc/*", "is an absolute path"), ("../*.csv", "holds .."),
                            ("in/../../x*", "holds .."), ("~/secrets/*", "starts with ~")]:
        (workdir / "get.yaml").write_text(GETTER.format(filter=pattern), encoding="utf-8")
        result = cli("import", "get.yaml")
        assert result.code == 2, (pattern, result)
        text = result.stdout + result.stderr
        assert f"get.yaml:13: field settings.file_filter: file_filter {pattern!r} {reason}" in text, text
        assert "set the connection's directory there" in text
    (workdir / "get.yaml").write_text(GETTER.format(filter="in/*.csv"), encoding="utf-8")
    assert cli("import", "get.yaml").code == 0


def test_a_get_does_not_read_or_delete_through_a_link_out(cli, workdir: Path, tmp_path: Path) -> None:
    inbox = workdir / "inbox"
    inbox.mkdir()
    (inbox / "a.txt").write_text("A\n")
    secret = tmp_path / "secret.txt"
    secret.write_text("not yours\n")
    (inbox / "b.txt").symlink_to(secret)
    process = GETTER.format(filter="*") + """\
  delete_after_read: true
---
type: process
name: Read inbox
id: read-inbox
shapes:
  start: {type: start, mode: connector, connection: inbox, operation: read, next: log}
  log: {type: notify, message: "read {1}", parameters: [{document_property: disk.file_name}]}
"""
    (workdir / "get.yaml").write_text(process, encoding="utf-8")
    assert cli("import", "get.yaml").code == 0
    result = cli("run", "read-inbox", "--json")
    assert result.code == 1, result
    run = result.json()
    (error,) = run["errors"]
    assert "b.txt leads to" in error["message"] and "outside the connection's directory" in error["message"]
    assert secret.read_text() == "not yours\n"
    shown = cli("executions", "show", run["id"])
    assert "read a.txt" in shown.stdout and "read b.txt" not in shown.stdout


def test_delete_after_read_removes_only_names_inside_the_directory(cli, workdir: Path, tmp_path: Path) -> None:
    """With allow_outside_directory a link pointing out is read; delete_after_read then
    removes the link (a name inside), never its target nor a file in a linked folder outside."""
    inbox = workdir / "inbox"
    inbox.mkdir()
    (inbox / "a.txt").write_text("A\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "target.txt").write_text("T\n")
    (outside / "deep.txt").write_text("D\n")
    (inbox / "link.txt").symlink_to(outside / "target.txt")
    (inbox / "linked-folder").symlink_to(outside)
    tail = """\
  delete_after_read: true
---
type: process
name: Read inbox
id: read-inbox
shapes:
  start: {type: start, mode: connector, connection: inbox, operation: read}
"""
    for pattern, count in (("*.txt", 2), ("linked-folder/*.txt", 2)):
        process = GETTER.format(filter=pattern).replace("directory: inbox",
                                                        "directory: inbox, allow_outside_directory: true")
        (workdir / "get.yaml").write_text(process + tail, encoding="utf-8")
        imported = cli("import", "get.yaml")
        assert imported.code == 0, imported
        result = cli("run", "read-inbox", "--json")
        assert result.code == 0, result
        assert result.json()["documents_in"] == count, (pattern, result)
    assert not (inbox / "a.txt").exists() and not (inbox / "link.txt").is_symlink()
    assert (outside / "target.txt").read_text() == "T\n" and (outside / "deep.txt").read_text() == "D\n"
