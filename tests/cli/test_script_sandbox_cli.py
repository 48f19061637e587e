"""Issue 7, item 15 through the CLI: the script step in its child process, its limits, and
POSTROOM_ALLOW_SCRIPTS=false at import and at run."""

import time

PROCESS = """\
type: process
name: Scripted
id: scripted
shapes:
  start: {type: start, next: data}
  data: {type: message, text: "ann\\nbob\\ncy", next: steps}
  steps:
    type: data_process
    steps:
      - {type: split}
      - type: script
        code: |
          import os, time
          if text == "bob":
              raise SystemExit(0)
          if text == "cy":
              time.sleep(60)
          log.info("env %s cwd %s", sorted(k for k in os.environ if "POSTROOM" in k), os.getcwd())
    next: show
  show: {type: notify, message: "made it"}
"""


def test_system_exit_and_a_slow_script_fail_their_documents_and_the_run_ends(cli, workdir, home):
    (workdir / "p.yaml").write_text(PROCESS, encoding="utf-8")
    assert cli("import", "p.yaml").code == 0
    started = time.monotonic()
    ran = cli("run", "scripted", "--json", env={"POSTROOM_SCRIPT_TIMEOUT": "5"})
    assert time.monotonic() - started < 40
    assert ran.code == 1, ran.stdout + ran.stderr
    record = ran.json()
    assert record["status"] == "complete_with_errors" and record["documents_failed"] == 2
    assert [e["message"] for e in record["errors"]] == [
        "script step 2 raised SystemExit: 0",
        "script step 2 failed: it ran longer than 5 s (POSTROOM_SCRIPT_TIMEOUT) and was stopped"]
    listed = cli("executions", "list", "--json").json()
    assert [e["status"] for e in listed] == ["complete_with_errors"]  # never left running
    log = [e["message"] for e in cli("executions", "show", record["id"], "--json").json()["log"]]
    (seen,) = [m for m in log if m.startswith("env ")]
    assert seen.startswith("env [] cwd ") and str(home) not in seen and str(workdir) not in seen
    assert log.count("made it") == 1


def test_scripts_turned_off_are_refused_at_import_and_at_run(cli, workdir):
    path = workdir / "p.yaml"
    path.write_text(PROCESS, encoding="utf-8")
    refused = cli("import", "p.yaml", env={"POSTROOM_ALLOW_SCRIPTS": "false"})
    assert refused.code == 2, refused.stdout + refused.stderr
    assert "p.yaml:11" in refused.stderr and "shape steps" in refused.stderr
    assert "POSTROOM_ALLOW_SCRIPTS=false" in refused.stderr
    assert cli("components", "list", "--json").json() == []

    assert cli("import", "p.yaml").code == 0
    ran = cli("run", "scripted", env={"POSTROOM_ALLOW_SCRIPTS": "false"})
    assert ran.code == 2, ran.stdout + ran.stderr
    assert "shape steps: field steps.2: step 2 is a script and scripts are turned off" in ran.stderr
    (record,) = cli("executions", "list", "--json").json()
    assert record["status"] == "failed" and record["documents_in"] == 0


KEY_READER = """\
type: process
name: Key reader
id: key-reader
shapes:
  start: {{type: start, next: data}}
  data: {{type: message, text: "ann", next: steps}}
  steps:
    type: data_process
    steps:
      - type: script
        code: |
          import os
          log.info("key in environment: %s", os.environ.get("POSTROOM_SECRET_KEY"))
          text = open({key!r}).read()
    next: show
  show: {{type: notify, message: "{{1}}", parameters: [{{document_property: none}}]}}
"""


def landlock() -> bool:
    import ctypes

    try:
        return ctypes.CDLL(None, use_errno=True).syscall(444, None, 0, 1) >= 1
    except (OSError, AttributeError):
        return False


def test_a_script_cannot_read_the_key_from_the_environment_or_the_data_folder(cli, workdir, home):
    key = home / "secret.key"
    (workdir / "p.yaml").write_text(KEY_READER.format(key=str(key)), encoding="utf-8")
    assert cli("secrets", "set", "some-password", input="hunter2\n").code == 0  # the key file exists now
    assert cli("import", "p.yaml").code == 0
    content = key.read_text(encoding="utf-8").strip()
    ran = cli("run", "key-reader", "--json")
    record = ran.json()
    log = [e["message"] for e in cli("executions", "show", record["id"], "--json").json()["log"]]
    assert "key in environment: None" in log
    assert content not in ran.stdout + ran.stderr + str(log)
    if landlock():
        assert ran.code == 1 and record["errors"][0]["message"] == (
            f"script step 1 raised PermissionError: [Errno 13] Permission denied: '{key}'")
