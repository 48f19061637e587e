"""Issue 7 item 5: the send journal is keyed by content, not by document position.

A send of N letters is killed part-way; before the resume, 500 patients are added to the
source, scattered among the old rows (two seeded trials: kill point and positions). The
source is read by a disk Get in the start shape (not ``--input``). After the resume every
patient, old and new, has exactly one letter; the only repeat allowed is the letter in
flight when the process died, and it carries its first attempt's Message-ID."""

import email
import email.policy
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from support.letterskit import devmail_connection, letters_yaml
from support.testsupport import FIXTURES

N, ADDED = 300, 500


def components(port, ca_file, folder):
    source = f"""\
type: connection
connector: disk
name: source
id: source
settings: {{directory: "{folder}"}}
---
type: operation
connector: disk
name: read
id: read
settings: {{action: get, file_filter: "*.csv"}}
---
"""
    return letters_yaml(devmail_connection(port, ca_file), "devmail", before=source,
                        start="{type: start, mode: connector, connection: source, operation: read, next: split}")


def _rows(count: int) -> list[str]:
    made = subprocess.run([sys.executable, str(FIXTURES / "make_patients.py"), str(count), "--consent-rate", "1"],
                          capture_output=True, text=True, check=True).stdout
    return made.splitlines(keepends=True)


@pytest.mark.parametrize("seed", [1, 2])
def test_resume_after_rows_were_added_sends_each_patient_one_letter(cli, workdir, home, devmail, seed):
    rng = random.Random(seed)  # where the kill lands and where the new rows go
    folder = workdir / "source"
    folder.mkdir()
    everyone = _rows(N + ADDED)  # the first N rows are the same as a list of N
    header, old, new = everyone[0], everyone[1 : N + 1], everyone[N + 1 :]
    (folder / "patients.csv").write_text(header + "".join(old), encoding="utf-8")
    (workdir / "c.yaml").write_text(components(devmail.smtps_port, devmail.ca_file, folder), encoding="utf-8")
    assert cli("import", "c.yaml").code == 0
    env = dict(os.environ, POSTROOM_HOME=str(home))
    proc = subprocess.Popen([sys.executable, "-m", "postroom", "run", "letters"],
                            cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    kill_at = rng.randint(N // 10, N // 2)
    while len(devmail.messages()) < kill_at and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = len(devmail.messages())
    assert 0 < before < N, f"the kill landed at {before} of {N}: the run was not interrupted part-way"

    rows = list(old)
    for row in new:  # the new patients scattered among the old ones: every old row moves
        rows.insert(rng.randint(0, len(rows)), row)
    (folder / "patients.csv").write_text(header + "".join(rows), encoding="utf-8")
    [execution] = cli("executions", "list", "--json").json()
    resumed = cli("executions", "resume", execution["id"], "--json")
    assert resumed.code == 0, resumed
    assert resumed.json()["status"] == "complete"

    messages = devmail.messages()
    recipients = Counter(m.rcpt_tos[0] for m in messages)
    expected = {line.split(",")[3] for line in old + new}
    assert set(recipients) == expected  # the 500 new patients too
    repeats = {r: c for r, c in recipients.items() if c > 1}
    assert len(repeats) <= 1, repeats  # at most the letter in flight when the process died
    for recipient in repeats:
        ids = {email.message_from_bytes(m.raw, policy=email.policy.default)["Message-ID"]
               for m in messages if m.rcpt_tos[0] == recipient}
        assert len(ids) == 1, f"a repeat to {recipient} must carry the same Message-ID"
    print(f"killed after {before} letters; {len(messages)} delivered for {N + ADDED} patients")
