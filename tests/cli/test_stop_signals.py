"""SIGTERM and Ctrl-C (SIGINT) stop a sending run cleanly (issue 7, item 6): the execution is
recorded ``stopped`` with its counts, the run exits 143 / 130, and a resume sends every
letter that was not sent, none twice. Seeded trials against a real SMTP server with random
delays, the signal landing at a random letter."""

from __future__ import annotations

import json
import random
import signal
import time
from pathlib import Path

import pytest

from support.letterskit import start_letters_run
from support.smtpkit import TinySmtp, letters_yaml
from support.testsupport import write_patients

N = 150
TRIALS = 6  # the old Ctrl-C repeated a letter in 8 of 10 such trials: 6 catch it all but surely


@pytest.fixture
def server():
    # part of the delay falls between storing a letter and the 250 reply: the window an
    # exception raised mid-send (the old Ctrl-C) turned into a repeat in 8 of 10 trials
    smtp = TinySmtp(seed=7, delay=(0.0, 0.003), reply_delay=(0.0, 0.004)).start()
    yield smtp
    smtp.stop()


def _patients(workdir: Path, n: int) -> tuple[Path, set[str]]:
    path = workdir / "patients.csv"
    emails = write_patients(path, n)
    assert len(emails) == n
    return path, emails


def _trial(cli, workdir, home, server, patients, emails, signum: int, at: int) -> tuple[int, int]:
    """One run stopped by ``signum`` once ``at`` letters arrived, then resumed: returns
    (letters before the resume, letters the stopped execution recorded as out)."""
    server.clear()
    proc = start_letters_run(workdir, home, patients, "--json")
    arrived = server.wait_for(at, timeout=60)
    assert proc.poll() is None, f"the run ended before the signal: {proc.communicate()}"
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, (proc.returncode, stdout, stderr)
    assert "stopping after the emails in flight" in stderr, stderr
    record = json.loads(stdout)
    before = server.count()
    assert record["status"] == "stopped", record
    assert 0 < arrived <= before < N, f"the stop landed at {before} of {N}"
    # every letter the server accepted is on record as out: none is in doubt
    assert record["documents_out"] == before and record["documents_failed"] == 0, (record, before)
    assert record["connector_counts"] == {"send": {"completed": before, "failed": 0}}
    assert record["exit_code"] == 128 + signum

    resumed = cli("executions", "resume", record["id"], "--json")
    assert resumed.code == 0, resumed
    assert resumed.json()["status"] == "complete" and resumed.json()["documents_out"] == N
    counts = server.recipients()
    assert set(counts) == emails, "a letter was lost"
    repeats = {r: c for r, c in counts.items() if c > 1}
    assert not repeats, f"a clean stop must not repeat a letter: {repeats}"
    return before, record["documents_out"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_cleanly_and_resume_sends_nothing_twice(cli, workdir, home, server, signum):
    patients, emails = _patients(workdir, N)
    (workdir / "c.yaml").write_text(letters_yaml(server.port), encoding="utf-8")
    assert cli("import", "c.yaml").code == 0
    rng = random.Random(20260 + signum)
    stops = []
    for _ in range(TRIALS):
        before, _out = _trial(cli, workdir, home, server, patients, emails, signum, rng.randint(5, N - 40))
        stops.append(before)
    print(f"{signal.Signals(signum).name}: stopped at {stops} of {N}; no letter lost or repeated")


def test_sighup_stops_too_and_a_second_ctrl_c_stops_at_once(cli, workdir, home, server):
    patients, emails = _patients(workdir, N)
    (workdir / "c.yaml").write_text(letters_yaml(server.port), encoding="utf-8")
    assert cli("import", "c.yaml").code == 0
    before, _ = _trial(cli, workdir, home, server, patients, emails, signal.SIGHUP, 20)
    assert before < N

    # a second Ctrl-C does not wait for the emails in flight; the record still says stopped
    server.clear()
    server.delay = (0.05, 0.05)
    proc = start_letters_run(workdir, home, patients, "--json")
    server.wait_for(3)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, (stdout, stderr)
    record = cli("executions", "list", "--limit", "1", "--json").json()[0]
    assert record["status"] == "stopped"
    server.delay = (0.0, 0.0)
    assert cli("executions", "resume", record["id"]).code == 0
    counts = server.recipients()
    assert set(counts) == emails
    # at most the email in flight repeats, under its first Message-ID
    repeats = [r for r, c in counts.items() if c > 1]
    assert len(repeats) <= 1
    for recipient in repeats:
        assert len(server.message_ids(recipient)) == 1
