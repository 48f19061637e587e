"""Bad input: exit 2, one clear message naming the file and the field, nothing stored."""

import os

import pytest

GOOD_CONNECTION = """\
type: connection
connector: disk
name: Folder
id: folder
settings:
  directory: .
"""

PROCESS = """\
type: process
name: P
id: p
shapes:
  start: {{type: start, next: m}}
  m: {{type: message, text: hi, next: {next}}}
  end: {{type: stop}}
"""


def write(folder, name, text):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def assert_nothing_stored(cli):
    listed = cli("components", "list", "--json")
    assert listed.code == 0, listed
    assert listed.json() == []


@pytest.mark.parametrize(
    ("case", "text", "field", "line", "words"),
    [
        ("unknown shape type", "type: process\nname: P\nshapes:\n  start: {type: start, next: x}\n  x: {type: teleport}\n",
         "shapes.x.type", 5, "unknown type 'teleport'"),
        ("next names no shape", PROCESS.format(next="nowhere"), "shapes.m.next", 6, "'nowhere'"),
        ("cycle without exit",
         "type: process\nname: P\nshapes:\n  start: {type: start, next: a}\n  a: {type: message, text: x, next: b}\n"
         "  b: {type: notify, message: y, next: a}\n", "shapes.a", 5, "cycle"),
        ("unknown connector", GOOD_CONNECTION.replace("disk", "telepathy"), "connector", 2, "unknown connector"),
        ("unknown setting", GOOD_CONNECTION + "  colour: blue\n", "settings.colour", 7, "colour"),
        ("malformed yaml", "type: process\nname: [unclosed\nshapes: {}\n", None, 3, "not valid YAML"),
    ],
)
def test_rejected_import_names_file_line_field_and_stores_nothing(cli, workdir, case, text, field, line, words):
    folder = workdir / "components"
    folder.mkdir()
    write(folder, "a-good.yaml", GOOD_CONNECTION.replace("id: folder", "id: good"))
    bad = write(folder, "bad.yaml", text)
    result = cli("import", "components")
    assert result.code == 2, result
    assert f"{bad}:{line}" in result.stderr or f"components/bad.yaml:{line}" in result.stderr, result.stderr
    if field:
        assert f"field {field}" in result.stderr, result.stderr
    assert words in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert_nothing_stored(cli)


def test_missing_secret_fails_the_run_with_exit_2_naming_file_and_field(cli, workdir):
    folder = workdir / "c"
    folder.mkdir()
    conn = write(folder, "conn.yaml", """\
type: connection
connector: mail
name: Mail
id: mail-conn
settings:
  host: 127.0.0.1
  port: 2525
  user_password_auth: true
  user_name: clinic@example.com
  password: ${secret:clinic-password}
""")
    write(folder, "op.yaml", """\
type: operation
connector: mail
name: Send
id: mail-send
settings: {action: send, from: clinic@example.com, subject: Hi}
""")
    write(folder, "proc.yaml", """\
type: process
name: P
id: p
shapes:
  start: {type: start, next: send}
  send: {type: connector, connection: mail-conn, operation: mail-send}
""")
    imported = cli("import", "c")
    assert imported.code == 0, imported
    assert "clinic-password" in imported.stderr  # warned at import
    ran = cli("run", "p")
    assert ran.code == 2, ran
    assert str(conn) in ran.stderr and "settings.password" in ran.stderr
    assert "postroom secrets set clinic-password" in ran.stderr


def test_unreadable_input_file_gives_exit_2(cli, workdir):
    folder = workdir / "c"
    folder.mkdir()
    write(folder, "p.yaml", "type: process\nname: P\nid: p\nshapes:\n  start: {type: start, mode: data_passthrough}\n")
    assert cli("import", "c").code == 0
    missing = cli("run", "p", "--input", "nope.csv")
    assert missing.code == 2 and "nope.csv" in missing.stderr and "--input" in missing.stderr, missing
    locked = write(workdir, "locked.csv", "a,b\n")
    os.chmod(locked, 0)
    if os.access(locked, os.R_OK):  # root reads anything: use a folder instead
        unreadable = str(workdir)
    else:
        unreadable = str(locked)
    result = cli("run", "p", "--input", unreadable)
    assert result.code == 2, result
    assert "--input" in result.stderr


def test_unknown_process_and_component_are_exit_2(cli):
    assert cli("run", "nothing-here").code == 2
    shown = cli("components", "show", "nothing-here")
    assert shown.code == 2 and "postroom components list" in shown.stderr
