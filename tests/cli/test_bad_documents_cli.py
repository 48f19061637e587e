"""Issue 7, item 10 through the CLI: a malformed XML file, an XXE file and a deeply nested
JSON file among good ones: each fails alone with its reason, the run exits 1 (not an
internal error), the good files' records all arrive."""

PROCESS = """\
type: process
name: Split
id: split-{kind}
shapes:
  start: {{type: start, mode: data_passthrough, next: split}}
  split:
    type: data_process
    steps: [{{type: split, profile_type: {kind}, element: {element}}}]
    next: show
  show: {{type: notify, message: "patient {{1}}", parameters: [{{profile_element: name}}]}}
"""


def run(cli, workdir, kind: str, element: str, files: dict[str, str]):
    (workdir / "p.yaml").write_text(PROCESS.format(kind=kind, element=element), encoding="utf-8")
    assert cli("import", "p.yaml").code == 0
    args = []
    for name, text in files.items():
        (workdir / name).write_text(text, encoding="utf-8")
        args += ["--input", name]
    ran = cli("run", f"split-{kind}", *args, "--json")
    record = ran.json()
    shown = cli("executions", "show", record["id"], "--json").json()
    return ran, record, [e["message"] for e in shown["log"] if e["message"].startswith("patient ")]


def test_bad_xml_and_xxe_fail_alone(cli, workdir, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("PATIENT-SECRET", encoding="utf-8")
    good = "<list><p><name>Ann</name></p><p><name>Bob</name></p></list>"
    ran, record, shown = run(cli, workdir, "xml", "/list/p", {
        "a.xml": good,
        "broken.xml": "<list><p><name>Cy</p></list>",
        "xxe.xml": f'<!DOCTYPE list [<!ENTITY s SYSTEM "file://{secret}">]><list><p><name>&s;</name></p></list>',
        "b.xml": good,
    })
    assert ran.code == 1, ran.stdout + ran.stderr
    assert record["status"] == "complete_with_errors" and record["error"] is None
    (broken, xxe) = [(e["document"], e["message"]) for e in record["errors"]]
    assert broken[0] == 2 and broken[1].startswith("split failed: not well-formed XML: mismatched tag: line 1")
    assert xxe[0] == 3 and xxe[1].startswith("split failed: XML with a DOCTYPE is refused")
    assert shown == ["patient Ann", "patient Bob", "patient Ann", "patient Bob"]
    assert "PATIENT-SECRET" not in ran.stdout + ran.stderr + str(record)
    assert "internal error" not in ran.stdout + ran.stderr


def test_deeply_nested_json_fails_alone(cli, workdir):
    good = '{"list": [{"name": "Ann"}]}'
    ran, record, shown = run(cli, workdir, "json", "list", {
        "a.json": good, "deep.json": '{"list": [' + "[" * 200_000 + "]" * 200_000 + "]}", "b.json": good})
    assert ran.code == 1, ran.stdout + ran.stderr
    assert record["status"] == "complete_with_errors"
    assert [(e["document"], e["message"]) for e in record["errors"]] == [
        (2, "split failed: JSON nested too deeply to read (more than about 1,000 levels)")]
    assert shown == ["patient Ann", "patient Ann"]
