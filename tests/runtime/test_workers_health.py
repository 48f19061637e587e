"""``postroom worker --health-port P``: a real worker process answers ``GET /health`` with its
node, version, whether it takes runs, whether the broker and the database answer and the runs
it executes now; 200 while all is well, 503 once the broker is gone. And ``postroom workers
list`` shows the same worker alive, with its version and running tasks."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from typing import Any

from postroom import __version__
from support.smtpkit import TinySmtp, letters_yaml
from support.workerkit import cluster  # noqa: F401 - the fixture


def _health(port: int) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=30) as answer:  # noqa: S310
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as answer:
        return answer.code, json.loads(answer.read())


def test_a_workers_health_endpoint_says_what_it_runs_and_what_it_reaches(  # noqa: F811
        cli, workdir, cluster, redis_server, free_port):  # noqa: F811
    gate, sending = threading.Event(), threading.Event()

    def hold(_accepted: int) -> None:  # the letter arrived: keep the run busy until the test has looked
        sending.set()
        gate.wait(60)

    smtp = TinySmtp(on_accept=hold).start()
    try:
        (workdir / "c.yaml").write_text(letters_yaml(smtp.port), encoding="utf-8")
        assert cli("import", "c.yaml", env=cluster.env).code == 0
        worker = cluster.start_worker("--concurrency", "1", "--health-port", str(free_port))
        status, body = _health(free_port)
        assert status == 200, body
        assert body["node"] == "w1@test" and body["version"] == __version__
        assert body["alive"] is body["healthy"] is body["broker_reachable"] is body["database_reachable"] is True
        assert body["running_tasks"] == 0 and body["running"] == [] and body["problems"] == []
        assert "redis://" not in json.dumps(body) and "postgresql://" not in json.dumps(body)

        (workdir / "one.csv").write_text("first_name,email\nAnn,ann@example.org\n", encoding="utf-8")
        submit = subprocess.Popen([sys.executable, "-m", "postroom", "run", "letters", "--input",
                                   str(workdir / "one.csv"), "--workers", "--json"], cwd=workdir,
                                  env=_env(cluster), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert sending.wait(60), worker.output()[-3000:]
        status, body = _health(free_port)
        assert status == 200 and body["running_tasks"] == 1, body
        assert body["running"][0]["process_id"] == "letters"
        listed = cli("workers", "list", "--json", env=cluster.env)
        assert listed.code == 0, listed.stderr
        [entry] = listed.json()
        assert entry["node"] == "w1@test" and entry["alive"] is True and entry["version"] == __version__
        assert entry["running_tasks"] == 1 and entry["running"][0]["execution_id"] == body["running"][0]["execution_id"]
        table = cli("workers", "list", env=cluster.env).stdout
        assert "w1@test" in table and __version__ in table and "letters" in table
        gate.set()
        out, _ = submit.communicate(timeout=120)
        assert submit.returncode == 0 and json.loads(out)["node"] == "w1@test"
        assert _health(free_port)[1]["running_tasks"] == 0

        redis_server.stop()
        status, body = _health(free_port)
        assert status == 503 and body["healthy"] is False and body["broker_reachable"] is False
        assert body["database_reachable"] is True
        assert any("POSTROOM_BROKER_URL" in problem for problem in body["problems"]), body
    finally:
        gate.set()
        smtp.stop()


def _env(cluster) -> dict[str, str]:  # noqa: ANN001, F811
    import os

    return {**os.environ, **cluster.env}


def test_a_health_port_in_use_is_refused_naming_the_option(cli, cluster, free_port):  # noqa: F811
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", free_port))
        taken.listen()
        result = cli("worker", "--health-port", str(free_port), "--wait", "5", env=cluster.env, timeout=60)
    assert result.code == 2, result.stderr
    assert "--health-port" in result.stderr and f"127.0.0.1:{free_port}" in result.stderr
