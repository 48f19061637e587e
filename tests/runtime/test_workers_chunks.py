"""A run cut into chunks at Flow Control on the workers: real Redis, PostgreSQL, ``postroom
worker`` processes and devmail. The letters process with a ``parallel: 4`` Flow Control after
the split sends the same emails on two workers as in-process (bytes aside from Date and
Message-ID), each chunk is a task recorded with the worker that ran it (``executions show
--json``), both workers ran chunks, and the counts are those of the in-process run. A worker
SIGKILLed mid-chunk (a seeded point) loses no letter: the execution sees the chunk's dead
lease and sends it again, the journal skips what the server accepted, and a repeat carries
the same Message-ID."""

from __future__ import annotations

import email
import email.policy
import json
import random
import re
import subprocess
import time
from collections import Counter

import pytest

from support.apikit import api_client
from support.letterskit import devmail_connection, letters_yaml
from support.testsupport import write_patients
from support.workerkit import cluster, submit_on_workers, wait_for_letters  # noqa: F401 - the fixture

_VARYING = re.compile(rb"^(Date|Message-ID): .*\r?\n", re.MULTILINE | re.IGNORECASE)
_SPLIT = "steps: [{type: split, headers: retain}], next: to}"


def _chunked_letters(devmail, parallel: int = 4) -> str:  # noqa: ANN001
    """The letters process with a Flow Control (``parallel``) between the split and the rest."""
    text = letters_yaml(devmail_connection(devmail.smtps_port, devmail.ca_file), "devmail",
                        more_shapes=f"\n  flow: {{type: flow_control, parallel: {parallel}, next: to}}")
    assert _SPLIT in text
    return text.replace(_SPLIT, _SPLIT.replace("next: to", "next: flow"))


def _letters(messages) -> list[tuple[tuple[str, ...], bytes]]:  # noqa: ANN001
    return sorted((tuple(m.rcpt_tos), _VARYING.sub(b"", m.raw)) for m in messages)


def _message_ids(messages) -> list[str]:  # noqa: ANN001
    return [email.message_from_bytes(m.raw, policy=email.policy.default)["Message-ID"] for m in messages]


def test_a_flow_control_run_is_cut_into_chunks_over_two_workers(cli, workdir, cluster, devmail,  # noqa: F811
                                                                  patients_csv, monkeypatch):
    (workdir / "c.yaml").write_text(_chunked_letters(devmail), encoding="utf-8")
    assert cli("import", "c.yaml", env=cluster.env).code == 0
    local = cli("run", "letters", "--input", str(patients_csv), "--json", env=cluster.env)
    assert local.code == 1 and local.json()["documents_failed"] >= 1, local  # one patient has no valid address
    in_process = _letters(devmail.messages())
    assert len(in_process) == local.json()["documents_out"] > 20
    assert cli("executions", "show", local.json()["id"], "--json", env=cluster.env).json()["chunks"] == []
    devmail.clear()

    chunked = {"POSTROOM_CHUNK_DOCUMENTS": "3"}
    first = cluster.start_worker("--concurrency", "2", env=chunked)
    second = cluster.start_worker("--concurrency", "2", env=chunked)
    remote = cli("run", "letters", "--input", str(patients_csv), "--workers", "--json", env=cluster.env)
    assert remote.code == 1, (remote, first.output()[-3000:], second.output()[-3000:])
    record = remote.json()
    assert record["status"] == "complete_with_errors"
    for key in ("documents_in", "documents_out", "documents_failed", "connector_counts"):
        assert record[key] == local.json()[key], key
    assert sorted(e["message"] for e in record["errors"]) == sorted(e["message"] for e in local.json()["errors"])
    assert _letters(devmail.messages()) == in_process
    assert len(set(_message_ids(devmail.messages()))) == len(in_process)

    shown = cli("executions", "show", record["id"], "--json", env=cluster.env).json()
    chunks = shown["chunks"]
    split_out = local.json()["documents_out"] + local.json()["documents_failed"]
    assert [c["number"] for c in chunks] == list(range(1, len(chunks) + 1)) and len(chunks) >= 8
    assert sum(c["documents"] for c in chunks) == split_out
    assert all(c["shape"] == "flow" and c["status"] in ("complete", "complete_with_errors") for c in chunks)
    assert {c["node"] for c in chunks} == {"w1@test", "w2@test"}, chunks  # both workers ran chunks
    text = cli("executions", "show", record["id"], env=cluster.env)
    assert re.search(r"\[flow\] chunk 1: 3 document\(s\), complete (with errors )?on w[12]@test", text.stdout), text
    for name, value in cluster.env.items():
        monkeypatch.setenv(name, value)
    with api_client(cluster.home) as api:  # the API's execution view lists the same chunks
        assert api.get(f"/api/executions/{record['id']}").json()["chunks"] == chunks


def _parent(cluster):  # noqa: ANN001, ANN202, F811
    for worker in cluster.workers:
        if re.search(r"execution \w+ \(letters\) started on", worker.output()):
            return worker
    return None


def _start_chunked_run(request, cli, workdir, cluster, devmail, total: int):  # noqa: ANN001, ANN202, F811
    """``total`` patients through the chunked letters process (chunks of 20) on two workers of
    two slots each, submitted with ``run --workers`` (killed at the test's end if still running);
    the patients' addresses and the submitter."""
    expected = write_patients(workdir / "patients.csv", total)
    (workdir / "c.yaml").write_text(_chunked_letters(devmail), encoding="utf-8")
    assert cli("import", "c.yaml", env=cluster.env).code == 0
    chunked = {"POSTROOM_CHUNK_DOCUMENTS": "20"}
    cluster.start_worker("--concurrency", "2", env=chunked)
    cluster.start_worker("--concurrency", "2", env=chunked)
    submitter = submit_on_workers(workdir, cluster.env, workdir / "patients.csv")

    def stop() -> None:
        if submitter.poll() is None:
            submitter.kill()
            submitter.wait()

    request.addfinalizer(stop)
    return expected, submitter


def _kill_and_wait(submitter, cluster, victim, devmail, total: int) -> tuple[int, bytes, bytes]:  # noqa: ANN001, F811
    """SIGKILL ``victim`` part-way through the run, then wait for the run to end: the letters
    delivered at the kill, and the submitter's output."""
    victim.kill()
    before = len(devmail.messages())
    assert 0 < before < total, f"the kill landed at {before} of {total}: the run was not interrupted part-way"
    try:
        stdout, stderr = submitter.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        pytest.fail("the run did not end: " + "\n".join(w.output()[-4000:] for w in cluster.workers))
    return before, stdout, stderr


def _each_patient_once(devmail, expected: set[str], in_flight: int) -> dict[str, int]:  # noqa: ANN001
    """Every patient got a letter; at most ``in_flight`` got two, with the same Message-ID. The repeats."""
    messages = devmail.messages()
    recipients = Counter(m.rcpt_tos[0] for m in messages)
    assert set(recipients) == expected, "every patient gets a letter"
    repeats = {r: c for r, c in recipients.items() if c > 1}
    assert len(repeats) <= max(in_flight, 0), f"only the letters in flight may be repeated: {repeats}"
    for recipient in repeats:
        ids = {mid for m, mid in zip(messages, _message_ids(messages), strict=True) if m.rcpt_tos[0] == recipient}
        assert len(ids) == 1, f"a repeat to {recipient} must carry the same Message-ID"
    return repeats


SEEDS = [pytest.param(seed, id=f"seed{seed}") for seed in (1, 2)] + [
    pytest.param(seed, id=f"seed{seed}", marks=pytest.mark.slow) for seed in range(3, 11)]


@pytest.mark.parametrize("seed", SEEDS)
def test_sigkill_of_a_worker_mid_chunk_loses_no_letter(seed, request, cli, workdir, cluster, devmail):  # noqa: F811
    total = 240
    expected, submitter = _start_chunked_run(request, cli, workdir, cluster, devmail, total)
    kill_at = random.Random(seed).randint(total // 8, total // 2)
    wait_for_letters(devmail, kill_at, submitter)
    parent = _parent(cluster)
    assert parent is not None, [w.output()[-2000:] for w in cluster.workers]
    victim = next(w for w in cluster.workers if w is not parent)
    running = len(re.findall(r"chunk \d+ of flow started on", victim.output())) - len(
        re.findall(r"chunk \d+ of flow ended", victim.output()))
    before, stdout, stderr = _kill_and_wait(submitter, cluster, victim, devmail, total)
    assert submitter.returncode == 0, (stdout, stderr, [w.output()[-3000:] for w in cluster.workers])
    record = json.loads(stdout)
    assert record["status"] == "complete" and record["documents_out"] == total
    repeats = _each_patient_once(devmail, expected, running)
    chunks = cli("executions", "show", record["id"], "--json", env=cluster.env).json()["chunks"]
    assert sum(c["documents"] for c in chunks) == total and all(c["status"] == "complete" for c in chunks)
    if running:
        again = [c for c in chunks if c["attempts"] > 1]
        assert again and all(c["node"] == f"{parent.name}@test" for c in again), chunks
        assert "sent to the workers again" in parent.output()
    print(f"seed {seed}: killed {victim.name} after {before} letters with {running} chunk(s) running; "
          f"{len(repeats)} repeat(s)")


def test_sigkill_of_the_executions_own_worker_mid_chunks_loses_no_letter(request, cli, workdir, cluster,  # noqa: F811
                                                                         devmail):
    """The worker running the execution itself dies while its chunks run: the other worker's
    sweep sees the execution's dead lease and resumes it; its Flow Control finds the chunks
    already recorded and runs only what is not complete. Every patient gets one letter (a letter
    in flight may go twice, with the same Message-ID)."""
    total = 240
    expected, submitter = _start_chunked_run(request, cli, workdir, cluster, devmail, total)
    wait_for_letters(devmail, total // 4, submitter)
    parent = _parent(cluster)
    assert parent is not None, [w.output()[-2000:] for w in cluster.workers]
    before, stdout, stderr = _kill_and_wait(submitter, cluster, parent, devmail, total)
    survivor = next(w for w in cluster.workers if w is not parent)
    assert submitter.returncode == 0, (stdout, stderr, survivor.output()[-4000:])
    record = json.loads(stdout)
    assert (record["status"], record["documents_out"], record["node"]) == ("complete", total, f"{survivor.name}@test")
    assert f"execution {record['id']} (letters) resumed on" in survivor.output()
    repeats = _each_patient_once(devmail, expected, 2)  # the dead worker's two slots' letters in flight
    chunks = cli("executions", "show", record["id"], "--json", env=cluster.env).json()["chunks"]
    assert sum(c["documents"] for c in chunks) == total and all(c["status"] == "complete" for c in chunks), chunks
    assert len(chunks) == total // 20, "the resumed Flow Control reuses the recorded chunks, it does not cut new ones"
    print(f"killed {parent.name} (the execution's worker) after {before} letters; {len(repeats)} repeat(s); "
          f"chunks run again: {[c['number'] for c in chunks if c['attempts'] > 1]}")


def test_chunks_no_worker_takes_are_run_by_the_executions_own_worker(cli, workdir, cluster, devmail,  # noqa: F811
                                                                       patients_csv):
    """One worker with one slot: the execution holds it while it waits for its chunks, so no
    worker can take them; after a lease time the execution's worker runs them itself, and the
    chunks' tasks, delivered later, find them ended."""
    (workdir / "c.yaml").write_text(_chunked_letters(devmail), encoding="utf-8")
    assert cli("import", "c.yaml", env=cluster.env).code == 0
    env = {**cluster.env, "POSTROOM_CHUNK_DOCUMENTS": "10", "POSTROOM_EXECUTION_LEASE_SECONDS": "4"}
    worker = cluster.start_worker("--concurrency", "1", env=env)
    remote = cli("run", "letters", "--input", str(patients_csv), "--workers", "--json", env=env)
    assert remote.code == 1, (remote, worker.output()[-3000:])
    record = remote.json()
    assert record["status"] == "complete_with_errors" and record["documents_out"] == len(devmail.messages()) > 20
    chunks = cli("executions", "show", record["id"], "--json", env=env).json()["chunks"]
    assert len(chunks) == 3 and all(c["node"] == "w1@test" and c["attempts"] == 1 for c in chunks), chunks
    assert worker.output().count("not taken by a worker for 4 s; this execution's worker runs it") == 3
    deadline = time.monotonic() + 30
    while worker.output().count("is taken or ended: nothing to do") < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert worker.output().count("is taken or ended: nothing to do") == 3


STOPPING = """\
type: process
name: stops at Chen
id: stops
shapes:
  start: {type: start, mode: data_passthrough, next: split}
  split: {type: data_process, steps: [{type: split, headers: retain}], next: flow}
  flow: {type: flow_control, parallel: 2, next: who}
  who: {type: decision, first: {profile_element: first_name}, comparison: equals, second: Chen, true: stop, false: ok}
  stop: {type: exception, message: "no letters after {1}", parameters: [{profile_element: first_name}], stop_process: true}
  ok: {type: stop}
"""


def test_a_chunk_that_fails_fails_the_execution_with_its_error(cli, workdir, cluster, patients_csv):  # noqa: F811
    (workdir / "p.yaml").write_text(STOPPING, encoding="utf-8")
    assert cli("import", "p.yaml", env=cluster.env).code == 0
    worker = cluster.start_worker("--concurrency", "3", env={"POSTROOM_CHUNK_DOCUMENTS": "2"})
    remote = cli("run", "stops", "--input", str(patients_csv), "--workers", "--json", env=cluster.env)
    assert remote.code == 1, (remote, worker.output()[-3000:])
    record = remote.json()
    assert record["status"] == "failed" and "no letters after Chen" in record["error"]
    assert "chunk 3 of Flow Control flow (2 document(s), on w1@test) failed" in record["error"]
    chunks = cli("executions", "show", record["id"], "--json", env=cluster.env).json()["chunks"]
    failed = [c for c in chunks if c["status"] == "failed"]
    assert [c["number"] for c in failed] == [3] and "no letters after Chen" in failed[0]["error"]
    assert len(chunks) < 13, "no new chunk starts after the failure (25 documents would make 13)"
