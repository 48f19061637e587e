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


# The 605-byte file of the report, in its classic form: nine levels of nine aliases.
BILLION_LAUGHS = "type: process\n" + 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True))


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
        # issue 7, item 11
        ("billion laughs", BILLION_LAUGHS, None, 2, "more than 100,000 values once its aliases are expanded"),
        ("recursive alias", "type: process\nname: &a [*a]\nshapes: {}\n", None, 2, "refers to the value that contains it"),
        ("recursive merge", "type: process\nname: P\nshapes: &s\n  <<: *s\n", None, 3,
         "refers to the value that contains it"),
        ("duplicate key", "type: process\nname: P\nshapes:\n  start: {type: start}\nname: Q\n", None, 5,
         "the key 'name' is written twice in this mapping (lines 2 and 5)"),
        ("duplicate shape id", PROCESS.format(next="end") + "  m: {type: stop}\n", None, 8,
         "the key 'm' is written twice in this mapping (lines 6 and 8)"),
        ("catch is itself", "type: process\nname: P\nshapes:\n  start: {type: start, next: t}\n"
         "  t: {type: try_catch, try: x, catch: t}\n  x: {type: stop}\n", "shapes.t.catch", 5, "leads back to shape 't'"),
        ("next is itself", PROCESS.format(next="m"), "shapes.m.next", 6, "leads back to shape 'm' itself"),
        ("nul in folder", GOOD_CONNECTION + 'folder: "Tutorials\\0x"\n', "folder", 7, "control character U+0000"),
        ("nul in name", GOOD_CONNECTION.replace("name: Folder", 'name: "Fol\\0der"'), "name", 3,
         "control character U+0000"),
        ("raw control character", GOOD_CONNECTION.replace("name: Folder", "name: Fol\x01der"), None, 3,
         "U+0001 is not allowed"),
        ("too deep", "type: process\nname: P\nshapes: " + "[" * 60 + "]" * 60 + "\n", None, 3,
         "nested more than 50 levels"),
        ("huge number", "type: process\nname: P\nid: p\nshapes: {}\nlabel: " + "9" * 5000 + "\n", None, 5,
         "too many to read as a number"),
        ("binary tag", "type: process\nname: !!binary aGk=\nshapes: {}\n", None, 2, "tag !!binary is not supported"),
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


def test_billion_laughs_is_refused_within_bounded_memory(cli, workdir):
    """Issue 7, item 11: 605 bytes made import use 4.9 GB. Under a 1 GB address-space limit
    it is refused, exit 2, naming the file and line."""
    import resource

    write(workdir, "laughs.yaml", BILLION_LAUGHS)
    limit = 1024 * 1024 * 1024

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    import subprocess
    import sys

    env = dict(os.environ, POSTROOM_HOME=os.environ["POSTROOM_HOME"])
    proc = subprocess.run([sys.executable, "-m", "postroom", "import", "laughs.yaml"], cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=60, preexec_fn=cap)
    assert proc.returncode == 2, proc.stderr
    assert "laughs.yaml:2: this document holds more than 100,000 values" in proc.stderr
    assert "Traceback" not in proc.stderr and "MemoryError" not in proc.stderr


def test_empty_file_named_on_the_command_line_is_exit_2(cli, workdir):
    """Issue 7, item 11: importing an empty file said nothing and exited 0."""
    write(workdir, "empty.yaml", "")
    write(workdir, "comments.yaml", "# only a comment\n---\n")
    for name in ("empty.yaml", "comments.yaml"):
        result = cli("import", name)
        assert result.code == 2, result
        assert f"{name}: no components in this file" in result.stderr, result.stderr
    assert_nothing_stored(cli)


def test_empty_file_in_a_folder_is_a_warning_and_the_rest_imports(cli, workdir):
    folder = workdir / "components"
    folder.mkdir()
    write(folder, "conn.yaml", GOOD_CONNECTION)
    write(folder, "empty.yaml", "")
    result = cli("import", "components")
    assert result.code == 0, result
    assert "warning: components/empty.yaml: no components in this file" in result.stderr, result.stderr
    assert [c["id"] for c in cli("components", "list", "--json").json()] == ["folder"]
    only_empty = workdir / "nothing"
    only_empty.mkdir()
    write(only_empty, "empty.yaml", "")
    refused = cli("import", "nothing")
    assert refused.code == 2 and "no components found" in refused.stderr, refused


def test_export_never_crashes_on_a_stored_folder(cli, workdir, home):
    """Issue 7, item 11: a NUL in folder made export crash with a traceback. Import now
    refuses it; a record stored before (written straight into the repository here) is
    exported with the character replaced, and an unwritable --out is exit 2."""
    from postroom.repository import ComponentRecord, open_repository

    body = {"type": "connection", "name": "Folder", "id": "folder", "folder": "A\x00B/../C", "connector": "disk",
            "settings": {"directory": "."}}
    repo = open_repository(home=home)
    try:
        repo.save_components([ComponentRecord(id="folder", type="connection", name="Folder", body=body,
                                              folder="A\x00B/../C")])
    finally:
        repo.close()
    result = cli("export", "--out", "out")
    assert result.code == 0, result
    assert (workdir / "out" / "A_B" / "C" / "folder.yaml").is_file()
    write(workdir, "afile", "")
    blocked = cli("export", "--out", "afile")
    assert blocked.code == 2, blocked
    assert "cannot write" in blocked.stderr and "Traceback" not in blocked.stderr


def test_anchors_aliases_and_merge_keys_still_work(cli, workdir):
    """Bounding aliases must not take YAML's sharing away: a merge gives a shape the keys of
    another, an explicit key overrides the merged one, and an alias repeats a list."""
    write(workdir, "shared.yaml", """\
type: process
name: Shared
id: shared
shapes:
  start: {type: start, next: a}
  a: &note {type: notify, level: warning, message: "first {1}", parameters: &params [x], next: b}
  b:
    <<: *note
    message: "second {1}"
    parameters: *params
    next: null
""")
    result = cli("import", "shared.yaml")
    assert result.code == 0, result
    shapes = cli("components", "show", "shared", "--json").json()["body"]["shapes"]
    assert shapes["b"] == {"type": "notify", "level": "warning", "message": "second {1}", "parameters": ["x"],
                           "next": None}
    ran = cli("run", "shared", "--json")
    assert ran.code == 0, ran


def test_a_file_over_the_size_limit_is_refused_before_it_is_parsed(cli, workdir):
    write(workdir, "huge.yaml", "type: process\nname: P\n" + "# padding\n" * 400_001)  # just over 4 MB
    result = cli("import", "huge.yaml")
    assert result.code == 2, result
    assert "huge.yaml: the file is larger than 4 MB" in result.stderr and "split it" in result.stderr
