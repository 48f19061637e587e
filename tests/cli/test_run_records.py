"""Executions and versions as a user sees them: persisted properties, versions, progress."""

import os
import pty
import subprocess
import sys

from support.testsupport import ROOT, write_patients

COUNTER = """\
type: process
name: Counter
id: counter
shapes:
  start: {type: start, next: bump}
  bump:
    type: set_properties
    properties:
      - {property: dynamic_process.runs, value: [{dynamic_process_property: runs}, "x"], persist: true}
    next: say
  say: {type: notify, message: "runs={1}", parameters: [{dynamic_process_property: runs}]}
"""


def test_persisted_dynamic_process_property_is_read_by_the_next_run(cli, workdir):
    (workdir / "p.yaml").write_text(COUNTER, encoding="utf-8")
    assert cli("import", "p.yaml").code == 0
    seen = []
    for _ in range(3):
        ran = cli("run", "counter", "--json")
        assert ran.code == 0, ran
        log = cli("executions", "show", ran.json()["id"], "--json").json()["log"]
        seen += [e["message"] for e in log if e["message"].startswith("runs=")]
    assert seen == ["runs=x", "runs=xx", "runs=xxx"]


def test_every_save_keeps_a_version(cli, workdir):
    path = workdir / "p.yaml"
    path.write_text(COUNTER, encoding="utf-8")
    assert cli("import", "p.yaml").code == 0
    again = cli("import", "p.yaml", "--json")
    assert again.json()["imported"][0]["version"] == 1  # unchanged: same version
    path.write_text(COUNTER.replace("runs={1}", "count={1}"), encoding="utf-8")
    changed = cli("import", "p.yaml", "--json")
    assert changed.json()["imported"][0]["version"] == 2
    assert "count={1}" in cli("components", "show", "counter").stdout
    old = cli("components", "show", "counter", "--version", "1")
    assert old.code == 0 and "runs={1}" in old.stdout and "version 1" in old.stdout
    assert cli("components", "show", "counter", "--version", "9").code == 2
    ran = cli("run", "counter", "--json").json()
    assert ran["process_version"] == 2


def test_execution_record_json(cli, workdir):
    (workdir / "p.yaml").write_text(COUNTER, encoding="utf-8")
    cli("import", "p.yaml")
    ran = cli("run", "counter", "--json").json()
    listed = cli("executions", "list", "--json").json()
    assert [e["id"] for e in listed] == [ran["id"]]
    record = listed[0]
    assert record["status"] == "complete" and record["documents_in"] == 1 and record["documents_out"] == 1
    assert record["started_at"] <= record["ended_at"]
    assert cli("executions", "list", "--process", "nothing", "--json").json() == []


def test_progress_shows_on_a_terminal_and_not_when_piped(tmp_path, home):
    rows = tmp_path / "p.csv"
    write_patients(rows, 30000, consent_rate=None)
    env = dict(os.environ, POSTROOM_HOME=str(home), COLUMNS="120")
    subprocess.run([sys.executable, "-m", "postroom", "import", str(ROOT / "bench" / "letters_process.yaml")],
                   env=env, check=True, capture_output=True, cwd=tmp_path)
    args = [sys.executable, "-m", "postroom", "run", "bench-patient-letters", "--input", str(rows), "--dry-run"]
    piped = subprocess.run(args, env=env, capture_output=True, text=True, cwd=tmp_path)
    assert piped.returncode == 0, piped.stderr
    assert "done ·" not in piped.stderr and "\x1b[" not in piped.stdout + piped.stderr

    pid, fd = pty.fork()
    if pid == 0:  # the child: a terminal on stdin, stdout and stderr
        os.chdir(tmp_path)
        os.execve(sys.executable, args, env)
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert os.waitstatus_to_exitcode(status) == 0, screen
    assert "in ·" in screen and "done ·" in screen
