"""Kill a sending run with SIGKILL part-way, resume it: every letter arrives once; a repeat
(a crash between the server's acceptance and the journal) carries the same Message-ID."""

import email
import email.policy
import os
import signal
import subprocess
import sys
import time
from collections import Counter

from support.letterskit import devmail_connection, letters_yaml
from support.testsupport import write_patients

N = 300


def components(port, ca_file):
    return letters_yaml(devmail_connection(port, ca_file), "devmail")


def test_resume_after_sigkill_delivers_every_letter_once(cli, workdir, home, devmail):
    patients = workdir / "patients.csv"
    write_patients(patients, N)
    (workdir / "c.yaml").write_text(components(devmail.smtps_port, devmail.ca_file), encoding="utf-8")
    assert cli("import", "c.yaml").code == 0
    env = dict(os.environ, POSTROOM_HOME=str(home))
    proc = subprocess.Popen([sys.executable, "-m", "postroom", "run", "letters", "--input", str(patients)],
                            cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(devmail.messages()) < N // 5 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = len(devmail.messages())
    assert 0 < before < N, f"the kill landed at {before} of {N}: the run was not interrupted part-way"

    listed = cli("executions", "list", "--json").json()
    assert len(listed) == 1 and listed[0]["status"] == "running"
    resumed = cli("executions", "resume", listed[0]["id"], "--json")
    assert resumed.code == 0, resumed
    assert resumed.json()["status"] == "complete"

    messages = devmail.messages()
    recipients = Counter(m.rcpt_tos[0] for m in messages)
    with open(patients, encoding="utf-8") as handle:
        expected = {line.split(",")[3] for line in list(handle)[1:]}
    assert set(recipients) == {e for e in expected}
    repeats = {r: c for r, c in recipients.items() if c > 1}
    assert len(repeats) <= 1  # at most the one letter in flight when the process died
    for recipient in repeats:
        ids = {email.message_from_bytes(m.raw, policy=email.policy.default)["Message-ID"]
               for m in messages if m.rcpt_tos[0] == recipient}
        assert len(ids) == 1, f"a repeat to {recipient} must carry the same Message-ID"
    print(f"killed after {before} letters; {len(repeats)} repeat(s) after resume")
