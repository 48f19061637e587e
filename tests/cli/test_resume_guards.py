"""What ``postroom executions resume`` refuses (issue 7, items 3 and 4): an execution another
process is still running (its lease is alive), and an execution whose ``--input`` file is
gone or changed. Each refusal exits 2 naming the holder or the file and the fix."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from postroom.repository import open_repository
from support.letterskit import start_letters_run
from support.smtpkit import TinySmtp, letters_yaml
from support.testsupport import write_patients


@pytest.fixture
def server():
    smtp = TinySmtp(seed=3).start()
    yield smtp
    smtp.stop()


def _setup(cli, workdir: Path, server: TinySmtp, n: int) -> tuple[Path, set[str]]:
    patients = workdir / "patients.csv"
    emails = write_patients(patients, n)
    (workdir / "c.yaml").write_text(letters_yaml(server.port), encoding="utf-8")
    assert cli("import", "c.yaml").code == 0
    return patients, emails


def test_resume_refuses_an_execution_still_running_in_another_process(cli, workdir, home, server):
    """The 5,000-letter duplicates: resume while the run still sends. Refused now; the run
    goes on alone and every patient gets one letter."""
    n = 120
    patients, emails = _setup(cli, workdir, server, n)
    server.delay = (0.02, 0.03)  # about three seconds of sending
    # the tenth letter's reply waits until the checks are done, so the run is surely alive
    # while they run, however slow the machine is
    gate = threading.Event()
    server.on_accept = lambda number: gate.wait(120) if number == 10 else None
    proc = start_letters_run(workdir, home, patients)
    server.wait_for(10)
    assert proc.poll() is None
    running = cli("executions", "list", "--json").json()[0]
    assert running["status"] == "running" and running["lease_pid"] == proc.pid

    refused = cli("executions", "resume", running["id"])
    assert refused.code == 2, refused
    assert f"process {proc.pid} on host" in refused.stderr and "is still running" in refused.stderr
    assert "kill -TERM" in refused.stderr and "resume" in refused.stderr
    shown = cli("executions", "show", running["id"])
    assert f"held by   process {proc.pid}" in shown.stdout

    gate.set()
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, (stdout, stderr)
    counts = server.recipients()
    assert set(counts) == emails and set(counts.values()) == {1}


def _set_lease(home: Path, execution_id: str, **fields: object) -> None:
    repo = open_repository(home=home)
    try:
        repo.update_execution(execution_id, **fields)
    finally:
        repo.close()


def test_a_lease_from_another_host_is_alive_until_its_heartbeat_expires(cli, workdir, home, server):
    patients, emails = _setup(cli, workdir, server, 5)
    ran = cli("run", "letters", "--input", str(patients), "--json")
    assert ran.code == 0, ran
    execution_id = ran.json()["id"]
    # as a run on another machine would leave it, its heartbeat two seconds old
    _set_lease(home, execution_id, status="running", ended_at=None, lease_host="batch-7.example.net",
               lease_pid=1234, heartbeat_at=datetime.now(UTC) - timedelta(seconds=2))
    refused = cli("executions", "resume", execution_id)
    assert refused.code == 2, refused
    assert "process 1234 on host batch-7.example.net" in refused.stderr
    assert "POSTROOM_EXECUTION_LEASE_SECONDS" in refused.stderr
    # the same heartbeat is dead with a shorter expiry, and after 30 s by default
    assert cli("executions", "resume", execution_id, env={"POSTROOM_EXECUTION_LEASE_SECONDS": "1"}).code == 0
    _set_lease(home, execution_id, status="running", ended_at=None, lease_host="batch-7.example.net",
               lease_pid=1234, heartbeat_at=datetime.now(UTC) - timedelta(seconds=31))
    resumed = cli("executions", "resume", execution_id, "--json")
    assert resumed.code == 0, resumed
    assert resumed.json()["status"] == "complete"
    # the journal knew every letter was sent: nothing went twice
    assert set(server.recipients().values()) == {1}


def test_resume_refuses_an_input_that_moved_or_changed(cli, workdir, home, server):
    """Resume after the --input file moved ran with no input and marked the execution
    complete (4,255 letters never sent). Now it refuses, names the file, and resumes once
    the same file is back."""
    n = 100
    patients, emails = _setup(cli, workdir, server, n)
    server.delay = (0.005, 0.01)
    proc = start_letters_run(workdir, home, patients)
    server.wait_for(10)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode == 143
    record = cli("executions", "list", "--json").json()[0]
    assert record["status"] == "stopped"
    sent = server.count()
    assert sent < n

    moved = workdir / "archive" / "patients.csv"
    moved.parent.mkdir()
    shutil.move(patients, moved)
    refused = cli("executions", "resume", record["id"])
    assert refused.code == 2, refused
    assert str(patients) in refused.stderr and "gone" in refused.stderr
    assert "put the same file back" in refused.stderr
    assert cli("executions", "show", record["id"], "--json").json()["status"] == "stopped"
    assert server.count() == sent

    # a different file at the same path: refused as changed (500 more rows, say)
    write_patients(patients, n + 5)
    refused = cli("executions", "resume", record["id"])
    assert refused.code == 2, refused
    assert str(patients) in refused.stderr and "changed since execution" in refused.stderr
    assert "start a new run" in refused.stderr
    assert server.count() == sent

    shutil.move(moved, patients)  # the original back (its modification time is kept)
    resumed = cli("executions", "resume", record["id"], "--json")
    assert resumed.code == 0, resumed
    assert resumed.json()["status"] == "complete" and resumed.json()["documents_out"] == n
    counts = server.recipients()
    assert set(counts) == emails and set(counts.values()) == {1}


def test_the_run_records_the_fingerprint_of_its_inputs(cli, workdir, home, server):
    patients, _ = _setup(cli, workdir, server, 3)
    ran = cli("run", "letters", "--input", "patients.csv", "--json")
    assert ran.code == 0, ran
    repo = open_repository(home=home)
    try:
        request = repo.get_execution(ran.json()["id"]).request
    finally:
        repo.close()
    import hashlib

    (fingerprint,) = request["input_files"]
    assert fingerprint["path"] == str(patients)
    assert fingerprint["size"] == patients.stat().st_size
    assert fingerprint["sha256"] == hashlib.sha256(patients.read_bytes()).hexdigest()
    assert fingerprint["mtime"] == patients.stat().st_mtime


def test_a_run_that_loses_its_lease_stops_and_leaves_the_record_to_the_new_holder(cli, workdir, home, server):
    """A run that stalled past the expiry while a resume took the execution over must not
    go on sending beside it: at its next heartbeat it finds the lease gone and stops."""
    n = 120
    patients, emails = _setup(cli, workdir, server, n)
    server.delay = (0.02, 0.03)
    env = dict(os.environ, POSTROOM_HOME=str(home), POSTROOM_EXECUTION_LEASE_SECONDS="1")
    env.pop("POSTROOM_DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "postroom", "run", "letters", "--input", str(patients)],
                            cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    server.wait_for(10)
    execution_id = cli("executions", "list", "--json").json()[0]["id"]
    # what a resume on another machine does when it takes the lease over
    _set_lease(home, execution_id, lease_host="batch-7.example.net", lease_pid=4321,
               heartbeat_at=datetime.now(UTC))
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 1, (stdout, stderr)
    assert "another process took over this execution's lease" in stderr
    assert server.count() < n  # it stopped sending
    record = cli("executions", "show", execution_id, "--json").json()
    assert (record["status"], record["lease_host"], record["lease_pid"]) == ("running", "batch-7.example.net", 4321)
    assert set(server.recipients().values()) == {1}
