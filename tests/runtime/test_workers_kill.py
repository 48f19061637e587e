"""A worker killed with SIGKILL mid-run loses no letter: its run is delivered again (the
other worker's sweep sees the execution's dead lease and sends it again; with the short
visibility timeout of odd seeds, Redis also hands the unacknowledged task out again after
3 s), the other worker takes the dead lease over and resumes the execution, the send journal skips what
the server accepted, and a letter repeated from the in-flight window carries the same
Message-ID. Real Redis, PostgreSQL, worker processes and devmail; the kill lands at a seeded
point of the run. Three seeds here; ten with ``-m slow`` (POSTROOM_KILL_TRIALS)."""

from __future__ import annotations

import email
import email.policy
import json
import random
import re
from collections import Counter

import pytest

from support.letterskit import devmail_connection, letters_yaml
from support.testsupport import write_patients
from support.workerkit import cluster, submit_on_workers, wait_for_letters  # noqa: F401 - the fixture

N = 300
SEEDS = [pytest.param(seed, id=f"seed{seed}") for seed in (1, 2, 3)] + [
    pytest.param(seed, id=f"seed{seed}", marks=pytest.mark.slow) for seed in range(4, 11)]


def _runner(cluster):  # noqa: ANN001, ANN202, F811
    for worker in cluster.workers:
        output = worker.output()
        if re.search(r"execution \w+ \(letters\) started on", output):
            return worker
    return None


@pytest.mark.parametrize("seed", SEEDS)
def test_sigkill_of_a_worker_mid_run_loses_no_letter(seed, cli, workdir, cluster, devmail):  # noqa: F811
    expected = write_patients(workdir / "patients.csv", N)
    (workdir / "c.yaml").write_text(letters_yaml(devmail_connection(devmail.smtps_port, devmail.ca_file), "devmail"),
                                    encoding="utf-8")
    if seed % 2:
        cluster.visibility = 3
    assert cli("import", "c.yaml", env=cluster.env).code == 0
    cluster.start_worker("--concurrency", "2")
    cluster.start_worker("--concurrency", "2")
    kill_at = random.Random(seed).randint(N // 10, N // 2)
    submitter = submit_on_workers(workdir, cluster.env, workdir / "patients.csv")
    try:
        wait_for_letters(devmail, kill_at, submitter)
        runner = _runner(cluster)
        assert runner is not None, [w.output()[-2000:] for w in cluster.workers]
        runner.kill()
        before = len(devmail.messages())
        assert 0 < before < N, f"the kill landed at {before} of {N}: the run was not interrupted part-way"
        stdout, stderr = submitter.communicate(timeout=180)
    finally:
        if submitter.poll() is None:
            submitter.kill()
            submitter.wait()
    assert submitter.returncode == 0, (stdout, stderr, [w.output()[-3000:] for w in cluster.workers])
    record = json.loads(stdout)
    survivor = next(w for w in cluster.workers if w is not runner)
    assert record["status"] == "complete" and record["node"] == f"{survivor.name}@test"
    assert f"execution {record['id']} (letters) resumed on" in survivor.output()
    if not seed % 2:  # the 12-hour visibility timeout: the sweep sent it again
        assert f"execution {record['id']}: its worker (process {runner.pid} " in survivor.output()

    messages = devmail.messages()
    recipients = Counter(m.rcpt_tos[0] for m in messages)
    assert set(recipients) == expected, "every patient gets a letter"
    repeats = {r: c for r, c in recipients.items() if c > 1}
    assert len(repeats) <= 1, f"only the letter in flight may be repeated: {repeats}"
    for recipient in repeats:
        ids = {email.message_from_bytes(m.raw, policy=email.policy.default)["Message-ID"]
               for m in messages if m.rcpt_tos[0] == recipient}
        assert len(ids) == 1, f"a repeat to {recipient} must carry the same Message-ID"
    print(f"seed {seed}: killed {runner.name} after {before} letters; {len(repeats)} repeat(s)")
