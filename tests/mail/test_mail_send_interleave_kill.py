"""A run whose two sessions take turns in one thread (Postfix's smtp-sink offers PIPELINING),
killed or stopped part-way and resumed: every letter arrives; after SIGKILL at most one repeat
per session, each with its Message-ID; after SIGTERM none at all.

The signal goes once 60 letters arrived: the first letter goes alone (to learn that the
server pipelines), every later one over both sessions taking turns."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from support.letterskit import letters_yaml
from support.mailkit import SinkDump
from support.testsupport import FIXTURES

N = 600


def _connection(port: int) -> str:
    return f"""\
type: connection
connector: mail
name: sink
id: sink
settings: {{host: 127.0.0.1, port: {port}, use_tls: false, use_ssl: false, max_sessions: 2}}
"""


def _start(cli, workdir, home, sink) -> tuple[subprocess.Popen, list[str]]:
    patients = workdir / "patients.csv"
    with open(patients, "w", encoding="utf-8") as handle:
        subprocess.run([sys.executable, str(FIXTURES / "make_patients.py"), str(N), "--consent-rate", "1"],
                       stdout=handle, check=True)
    with open(patients, encoding="utf-8") as handle:
        expected = [line.split(",")[3] for line in list(handle)[1:]]
    (workdir / "c.yaml").write_text(letters_yaml(_connection(sink.port), "sink"), encoding="utf-8")
    assert cli("import", "c.yaml").code == 0
    env = dict(os.environ, POSTROOM_HOME=str(home))
    proc = subprocess.Popen([sys.executable, "-m", "postroom", "run", "letters", "--input", str(patients)],
                            cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(sink.dumps(0)) < 60 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.005)
    return proc, expected


def _resume(cli) -> None:
    listed = cli("executions", "list", "--json").json()
    assert len(listed) == 1 and listed[0]["status"] in ("running", "stopped")
    resumed = cli("executions", "resume", listed[0]["id"], "--json")
    assert resumed.code == 0, resumed
    assert resumed.json()["status"] == "complete"


def _arrived(sink, at_least: int) -> list[SinkDump]:
    return [SinkDump.parse(text) for text in sink.dumps(at_least)]


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_a_run_over_sessions_taking_turns_resumes_without_losing_a_letter(how, cli, workdir, home, smtp_sink):
    sink = smtp_sink()
    proc, expected = _start(cli, workdir, home, sink)
    proc.send_signal(getattr(signal, how))
    proc.wait(60)
    before = len(sink.dumps(0))
    assert 0 < before < N, f"the {how} landed at {before} of {N}: the run was not interrupted part-way"
    if how == "SIGTERM":
        assert proc.returncode == 143
    _resume(cli)

    arrived = _arrived(sink, N)
    recipients = Counter(dump.rcpt_tos[0] for dump in arrived)
    assert set(recipients) == set(expected)
    repeats = {r: c for r, c in recipients.items() if c > 1}
    if how == "SIGTERM":  # the emails in flight were finished and journaled: nothing goes twice
        assert repeats == {}
    else:
        assert len(repeats) <= 2 and set(repeats.values()) <= {2}  # at most one in flight per session
    for recipient in repeats:
        ids = {dump.message["Message-ID"] for dump in arrived if dump.rcpt_tos[0] == recipient}
        assert len(ids) == 1, f"a repeat to {recipient} must carry the same Message-ID"
