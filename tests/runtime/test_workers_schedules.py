"""A schedule's run goes to the workers when POSTROOM_BROKER_URL is set: serve's scheduler
(driven here by a clock the test sets, as tests/schedules does) starts it through RunService,
and a real ``postroom worker`` process executes it: the record names the worker's node, the
trigger is ``schedule``, and the note the process writes is there."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from postroom.repository import open_repository
from postroom.services import RunService, scheduler_runtime
from support.listenerkit import wait_for
from support.schedulekit import setup_hourly_note
from support.workerkit import cluster  # noqa: F401 - the fixture


def test_a_schedules_run_executes_on_a_worker(cluster, monkeypatch, tmp_path: Path) -> None:  # noqa: F811
    for name, value in cluster.env.items():
        monkeypatch.setenv(name, value)
    repo = open_repository(cluster.database_url, home=cluster.home)
    created = setup_hourly_note(repo, tmp_path)
    due = created.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    cluster.start_worker("--concurrency", "1")
    runs = RunService(repo)
    assert runs.submitter is not None  # the broker is set: runs go to the workers
    try:
        [fired] = scheduler_runtime(repo, runs, instance="serve-a").tick(due + timedelta(seconds=2))
        assert fired.status == "started", fired
        record = wait_for(lambda: (r := repo.get_execution(fired.execution_id)) and r.status != "running" and r,
                          90, "the scheduled run to end on the worker")
    finally:
        runs.shutdown()
        repo.close()
    assert record.status == "complete" and record.node == "w1@test", (record, cluster.workers[0].output()[-3000:])
    assert record.request["trigger"] == "schedule" and record.request["schedule"] == "hourly-note"
    assert [p.read_text() for p in (tmp_path / "notes").iterdir()] == ["scheduled note"]
    assert f"execution {record.id} (write-note) started on w1@test" in cluster.workers[0].output()
