"""``postroom serve`` stopped by SIGTERM while a run it started (here from the REST API) is
sending: the run stops after the letters in flight, its execution is recorded ``stopped``
with every accepted letter counted out (none in doubt), serve exits 0, and a resume sends
the rest, none twice. Before, serve's web server ran without its shutdown hook and such an
execution was left ``running`` with a dead lease."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from support.listenerkit import Serve
from support.smtpkit import TinySmtp, letters_yaml

N = 120


@pytest.fixture
def server():
    smtp = TinySmtp(seed=11, delay=(0.01, 0.03)).start()
    yield smtp
    smtp.stop()


def _post(serve: Serve, path: str, body: dict) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{serve.port}{path}", data=json.dumps(body).encode(),
                                     method="POST", headers={"Authorization": f"Bearer {serve.token}",
                                                             "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def test_sigterm_stops_an_api_run_cleanly_and_a_resume_sends_the_rest(cli, workdir: Path, home: Path,  # noqa: ANN001
                                                                     server) -> None:
    (workdir / "letters.yaml").write_text(letters_yaml(server.port))
    assert cli("import", "letters.yaml").code == 0
    emails = [f"patient{n}@example.com" for n in range(N)]
    patients = "patient_id,first_name,email\n" + "".join(f"P{n},Pat,{email}\n" for n, email in enumerate(emails))
    serve = Serve(workdir, {"POSTROOM_HOME": str(home)}, "--no-schedules")
    try:
        serve.wait_ready()
        started = _post(serve, "/api/processes/letters/run",
                        {"mode": "normal", "inputs": [{"name": "patients.csv", "text": patients}]})
        assert server.wait_for(10, timeout=60) >= 10
        assert serve.terminate() == 0, serve.output()
    finally:
        serve.close()
    record = cli("executions", "show", started["execution_id"], "--json").json()
    sent = server.count()
    assert record["status"] == "stopped", record
    assert 10 <= sent < N, f"the stop landed at {sent} of {N}"
    assert record["documents_out"] == sent and record["documents_failed"] == 0, (record, sent)

    resumed = cli("executions", "resume", started["execution_id"], "--json")
    assert resumed.code == 0, resumed
    assert resumed.json()["status"] == "complete" and resumed.json()["documents_out"] == N
    counts = server.recipients()
    assert sorted(counts) == sorted(emails), "a letter was lost"
    assert not {r: c for r, c in counts.items() if c > 1}, "a letter was sent twice"
