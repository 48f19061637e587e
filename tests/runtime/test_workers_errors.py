"""Bad configuration of the distributed runtime, each a clear error naming the setting and
the fix; and a worker that cannot reach the broker or the database says so and retries."""

from __future__ import annotations

import time

from support.letterskit import devmail_connection, letters_yaml
from support.workerkit import cluster  # noqa: F401 - the fixture


def _import(cli, workdir, env, devmail=None):  # noqa: ANN001, ANN202
    port, ca = (devmail.smtps_port, devmail.ca_file) if devmail else (1, "/nonexistent")
    (workdir / "c.yaml").write_text(letters_yaml(devmail_connection(port, ca), "devmail"), encoding="utf-8")
    imported = cli("import", "c.yaml", env=env)
    assert imported.code == 0, imported


def test_run_on_workers_without_a_broker_url_is_refused(cli, workdir, patients_csv, postgres_database):
    env = {"POSTROOM_DATABASE_URL": postgres_database, "POSTROOM_BROKER_URL": ""}
    _import(cli, workdir, env)
    ran = cli("run", "letters", "--input", str(patients_csv), "--workers", env=env)
    assert ran.code == 2, ran
    assert "POSTROOM_BROKER_URL is not set" in ran.stderr and "redis://" in ran.stderr


def test_a_broker_that_does_not_answer_is_exit_3_and_records_nothing(cli, workdir, patients_csv, postgres_database,
                                                                     free_port):
    env = {"POSTROOM_DATABASE_URL": postgres_database, "POSTROOM_BROKER_URL": f"redis://127.0.0.1:{free_port}/0"}
    _import(cli, workdir, env)
    ran = cli("run", "letters", "--input", str(patients_csv), "--workers", env=env)
    assert ran.code == 3, ran
    assert f"POSTROOM_BROKER_URL=redis://127.0.0.1:{free_port}/0 does not answer" in ran.stderr
    assert "start Redis there" in ran.stderr
    assert cli("executions", "list", "--json", env=env).json() == []
    listed = cli("workers", "list", env=env)
    assert listed.code == 3 and "does not answer" in listed.stderr


def test_a_sqlite_database_is_refused_for_workers(cli, workdir, patients_csv, redis_server):
    env = {"POSTROOM_BROKER_URL": redis_server.url}  # no POSTROOM_DATABASE_URL: the SQLite default
    _import(cli, workdir, env)
    ran = cli("run", "letters", "--input", str(patients_csv), "--workers", env=env)
    assert ran.code == 2, ran
    assert "POSTROOM_DATABASE_URL" in ran.stderr and "SQLite" in ran.stderr and "postgresql://" in ran.stderr
    worker = cli("worker", env=env, timeout=60)
    assert worker.code == 2, worker
    assert "POSTROOM_DATABASE_URL is not set" in worker.stderr and "postgresql://" in worker.stderr
    worker = cli("worker", env={**env, "POSTROOM_DATABASE_URL": f"sqlite:///{workdir}/p.db"}, timeout=60)
    assert worker.code == 2 and "names a SQLite file" in worker.stderr, worker


def test_a_worker_gives_up_on_an_unreachable_broker_or_database_after_its_wait(cli, postgres_database, free_port):
    env = {"POSTROOM_DATABASE_URL": postgres_database, "POSTROOM_BROKER_URL": f"redis://127.0.0.1:{free_port}/0"}
    worker = cli("worker", "--wait", "2", env=env, timeout=60)
    assert worker.code == 3, worker
    assert "cannot reach the broker (POSTROOM_BROKER_URL)" in worker.stderr and "retrying in" in worker.stderr
    env["POSTROOM_DATABASE_URL"] = f"postgresql://postroom@127.0.0.1:{free_port}/postroom"
    worker = cli("worker", "--wait", "2", env=env, timeout=60)
    assert worker.code == 3, worker
    assert "cannot reach the database (POSTROOM_DATABASE_URL)" in worker.stderr and "retrying in" in worker.stderr


def test_a_worker_started_before_redis_retries_then_runs(cli, workdir, cluster, redis_server, devmail,  # noqa: F811
                                                         patients_csv):
    _import(cli, workdir, cluster.env, devmail)
    port = redis_server.port
    redis_server.stop()
    worker = cluster.start_worker("--wait", "120", ready=False)
    deadline = time.monotonic() + 60
    while "cannot reach the broker" not in worker.output() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "retrying in" in worker.output(), worker.output()
    redis_server.start(port)
    worker.wait_ready()
    ran = cli("run", "letters", "--input", str(patients_csv), "--workers", "--json", env=cluster.env)
    assert ran.code == 1 and ran.json()["node"] == "w1@test", ran  # one patient has no valid address


def test_workers_list_shows_every_worker_and_whether_it_is_alive(cli, cluster):  # noqa: F811
    assert cli("workers", "list", "--json", env=cluster.env).json() == []
    cluster.start_worker("--concurrency", "1")
    cluster.start_worker("--concurrency", "1", "--queues", "postroom,bulk")
    listed = cli("workers", "list", "--json", env=cluster.env)
    assert listed.code == 0, listed
    found = {w["node"]: w for w in listed.json()}
    assert set(found) == {"w1@test", "w2@test"}
    from postroom import __version__

    assert all(w["alive"] and w["version"] == __version__ and w["running"] == [] for w in found.values())
    assert found["w2@test"]["queues"] == ["postroom", "bulk"]
    table = cli("workers", "list", env=cluster.env)
    assert "w1@test" in table.stdout and "w2@test" in table.stdout
    cluster.workers[0].kill()
    # a killed worker does not answer: listed as not alive, with when it was last seen
    after = {w["node"]: w for w in cli("workers", "list", "--json", env=cluster.env).json()}
    assert after["w2@test"]["alive"] is True
    assert after["w1@test"]["alive"] is False and after["w1@test"]["last_seen"] and after["w1@test"]["running"] == []
    table = cli("workers", "list", env=cluster.env).stdout
    assert "no" in table.split("w1@test", 1)[1].splitlines()[0]
    # a worker stopped cleanly (SIGTERM: Celery's warm shutdown) leaves the list
    cluster.workers[1].proc.terminate()
    assert cluster.workers[1].proc.wait(60) == 0, cluster.workers[1].output()[-2000:]
    assert [w["node"] for w in cli("workers", "list", "--json", env=cluster.env).json()] == ["w1@test"]


def test_a_worker_with_another_secret_key_fails_the_run_clearly(cli, workdir, cluster, devmail,  # noqa: F811
                                                                 patients_csv):
    from cryptography.fernet import Fernet

    connection = devmail_connection(devmail.smtps_port, devmail.ca_file, password="${secret:devmail-password}")
    (workdir / "c.yaml").write_text(letters_yaml(connection, "devmail"), encoding="utf-8")
    assert cli("secrets", "set", "devmail-password", input="app-password-123\n", env=cluster.env).code == 0
    assert cli("import", "c.yaml", env=cluster.env).code == 0
    worker = cluster.start_worker(env={"POSTROOM_SECRET_KEY": Fernet.generate_key().decode()})
    ran = cli("run", "letters", "--input", str(patients_csv), "--workers", "--json", env=cluster.env)
    assert ran.code == 2, (ran, worker.output()[-2000:])
    record = ran.json()
    assert record["status"] == "failed" and "devmail-password" in record["error"], record
    assert "POSTROOM_SECRET_KEY" in record["error"]
    assert devmail.messages() == []
    assert "app-password-123" not in ran.stdout + ran.stderr + worker.output()
