"""The script step runs in a child process: no key, no Postroom settings, no environment
secrets, a temporary folder, a time and a memory limit; whatever the script does, only its
own document fails (issue 7, items 10 and 15)."""

import json
import os
import time

import pytest

from postroom.sdk import Document
from support.engine_helpers import logs, run_yaml


def run_script(code: str, data: str = "ann\nbob\ncy"):
    text = f"""
type: process
name: script
shapes:
  start: {{type: start, mode: data_passthrough, next: dp}}
  dp: {{type: data_process, steps: [{{type: split}}, {{type: script, code: {json.dumps(code)}}}], next: show}}
  show: {{type: notify, message: "{{1}} {{2}}", parameters: [{{document_property: who}}, {{dynamic_process_property: seen}}]}}
"""
    result, recorder, ctx = run_yaml(text, inputs=[Document(data)])
    assert result.error is None or result.error.exit_code == 2, result.error
    return result, recorder


def failures(recorder) -> list[str]:
    return [message for _, _, message in recorder.errors]


def test_the_script_sees_no_key_no_postroom_setting_no_environment_secret(monkeypatch, tmp_path):
    monkeypatch.setenv("POSTROOM_SECRET_KEY", "KEY-THAT-MUST-NOT-LEAK")
    monkeypatch.setenv("POSTROOM_HOME", str(tmp_path))
    monkeypatch.setenv("GMAIL_PASSWORD", "PASSWORD-THAT-MUST-NOT-LEAK")
    monkeypatch.chdir(tmp_path)
    code = ("import os\n"
            "leaks = [k for k in os.environ if k.startswith('POSTROOM') or 'PASSWORD' in k]\n"
            "log.info('env %s cwd-is-postroom-home %s pid-differs %s', leaks, os.getcwd() == os.environ.get('X', "
            f"{str(tmp_path)!r}), os.getpid() != {os.getpid()})\n"
            "properties['who'] = text")
    result, recorder = run_script(code)
    assert result.status == "complete"
    assert logs(recorder, "info")[:3] == ["env [] cwd-is-postroom-home False pid-differs True"] * 3
    assert "MUST-NOT-LEAK" not in repr(recorder.logs)


def test_system_exit_and_os_exit_fail_their_document_and_the_rest_go_on():
    code = ("import os\nif text == 'ann': raise SystemExit(0)\nif text == 'bob': os._exit(0)\n"
            "properties['who'] = text\nprocess_properties['seen'] = process_properties.get('seen', '') + text")
    result, recorder = run_script(code, "ann\nbob\ncy\ndi")
    assert result.status == "complete_with_errors" and result.documents_failed == 2
    assert failures(recorder) == ["script step 2 raised SystemExit: 0",
                                  "script step 2 failed: its process ended without a result (exit code 0; "
                                  "nothing more came from it)"]
    assert logs(recorder, "info") == ["cy cydi", "di cydi"]  # process properties live on across the restart


def test_a_script_over_its_time_limit_is_stopped_and_only_its_document_fails(monkeypatch):
    monkeypatch.setenv("POSTROOM_SCRIPT_TIMEOUT", "3")
    started = time.monotonic()
    result, recorder = run_script("import time\nif text == 'bob': time.sleep(60)\nproperties['who'] = text")
    assert time.monotonic() - started < 20
    assert failures(recorder) == ["script step 2 failed: it ran longer than 3 s (POSTROOM_SCRIPT_TIMEOUT) "
                                  "and was stopped"]
    assert logs(recorder, "info") == ["ann ", "cy "]


def test_a_script_over_its_memory_limit_fails_its_document(monkeypatch):
    monkeypatch.setenv("POSTROOM_SCRIPT_MEMORY_MB", "256")
    result, recorder = run_script("if text == 'bob': hog = bytearray(1024 ** 3)\nproperties['who'] = text")
    assert failures(recorder) == ["script step 2 raised MemoryError: it reached its memory limit (256 MB, "
                                  "POSTROOM_SCRIPT_MEMORY_MB)"]
    assert logs(recorder, "info") == ["ann ", "cy "]


@pytest.mark.parametrize(("code", "reason"), [
    ("output = 5", "left output as an int; it must be a list of texts or bytes (one document each)"),
    ("output = text", "left output as a str; it must be a list of texts or bytes (one document each)"),
    ("output = [text, None]", "left output[1] as None; it must be text or bytes"),
    ("properties = None", "left properties as None, not a dict"),
    ("dynamic = [1]", "left dynamic as a list, not a dict"),
    ("text = {'a': 1}", "left text as a dict; it must be text or bytes"),
    ("properties['x'] = object()", "left a value that cannot be used: properties holds an object"),
    ("process_properties['x'] = {1, 2}", "left a value that cannot be used: process_properties holds a set"),
])
def test_a_script_leaving_a_wrong_type_fails_that_document_with_the_reason(code, reason):
    result, recorder = run_script(f"properties['who'] = text\nif text == 'bob':\n    {code}")
    assert result.status == "complete_with_errors"
    assert failures(recorder) == [f"script step 2 {reason}"]
    assert logs(recorder, "info") == ["ann ", "cy "]


@pytest.mark.fast
def test_scripts_turned_off_refuse_to_run_naming_shape_and_setting(monkeypatch):
    monkeypatch.setenv("POSTROOM_ALLOW_SCRIPTS", "false")
    result, recorder = run_script("properties['who'] = text")
    assert result.status == "failed" and result.exit_code == 2 and result.documents_in == 0
    assert "shape dp: field steps.2: step 2 is a script and scripts are turned off (POSTROOM_ALLOW_SCRIPTS=false)" \
        in str(result.error)


@pytest.mark.parametrize(("name", "value"), [("POSTROOM_SCRIPT_TIMEOUT", "soon"), ("POSTROOM_SCRIPT_MEMORY_MB", "-5"),
                                             ("POSTROOM_ALLOW_SCRIPTS", "maybe")])
@pytest.mark.fast
def test_a_bad_script_setting_stops_the_run_before_any_document_naming_it(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    result, _ = run_script("properties['who'] = text")
    assert result.status == "failed" and result.exit_code == 2 and result.documents_in == 0
    assert name in str(result.error)


def landlock() -> bool:
    import ctypes

    try:
        return ctypes.CDLL(None, use_errno=True).syscall(444, None, 0, 1) >= 1
    except (OSError, AttributeError):
        return False


@pytest.mark.skipif(not landlock(), reason="the kernel offers no Landlock: the child is not confined")
def test_the_script_cannot_read_postroom_data_nor_kill_postroom_but_reads_python_and_writes_its_folder(
        monkeypatch, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "secret.key").write_text("KEY-FILE-CONTENT", encoding="utf-8")
    monkeypatch.setenv("POSTROOM_HOME", str(home))
    code = (f"import os, json, email.parser, decimal, signal\nkey = {str(home / 'secret.key')!r}\n"
            "open('scratch.txt', 'w').write(text)\nproperties['who'] = open('scratch.txt').read()\n"
            "if text == 'bob': open(key).read()\n"
            "if text == 'cy': os.kill(os.getppid(), signal.SIGKILL)\n")
    result, recorder = run_script(code, "ann\nbob\ncy\ndi")
    assert failures(recorder) == [
        f"script step 2 raised PermissionError: [Errno 13] Permission denied: '{home / 'secret.key'}'",
        "script step 2 raised PermissionError: [Errno 1] Operation not permitted"]
    assert logs(recorder, "info") == ["ann ", "di "]
    assert not [m for level, m, _ in recorder.logs if level == "warning"]
