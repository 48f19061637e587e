"""Retention (issue 7, item 22): a run deletes nothing; ``postroom executions purge`` and
``postroom serve`` delete the records past POSTROOM_RETENTION_DAYS (default 30)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from postroom.repository import ExecutionRecord, open_repository

HELLO = """\
type: process
name: hello
id: hello
shapes:
  start: {type: start, next: note}
  note: {type: notify, message: hello}
"""


def _old_records(home: Path, *ages_in_days: int) -> None:
    repo = open_repository(home=home)
    try:
        for age in ages_in_days:
            ended = datetime.now(UTC) - timedelta(days=age)
            repo.create_execution(ExecutionRecord(id=f"old-{age}", process_id="hello", process_version=1,
                                                  status="complete", started_at=ended, ended_at=ended))
    finally:
        repo.close()


def _ids(cli) -> set[str]:  # noqa: ANN001
    return {e["id"] for e in cli("executions", "list", "--limit", "0", "--json").json()}


def test_a_run_deletes_nothing_and_purge_deletes_past_the_retention(cli, workdir, home):
    (workdir / "p.yaml").write_text(HELLO, encoding="utf-8")
    assert cli("import", "p.yaml").code == 0
    _old_records(home, 40, 10)
    ran = cli("run", "hello", "--json")
    assert ran.code == 0
    assert _ids(cli) == {"old-40", "old-10", ran.json()["id"]}  # runs used to purge old-40 here

    purged = cli("executions", "purge", "--json")
    assert purged.code == 0 and purged.json() == {"purged": 1}
    assert _ids(cli) == {"old-10", ran.json()["id"]}
    assert cli("executions", "purge", "--json", env={"POSTROOM_RETENTION_DAYS": "5"}).json() == {"purged": 1}
    assert cli("executions", "purge", "--older-than-days", "1", "--json").json() == {"purged": 0}
    assert _ids(cli) == {ran.json()["id"]}


def test_retention_zero_keeps_everything(cli, home):
    _old_records(home, 400)
    assert cli("executions", "purge", "--json", env={"POSTROOM_RETENTION_DAYS": "0"}).json() == {"purged": 0}
    bad = cli("executions", "purge", env={"POSTROOM_RETENTION_DAYS": "a month"})
    assert bad.code == 2 and "POSTROOM_RETENTION_DAYS" in bad.stderr


def test_serve_purges_past_the_retention(cli, workdir, home):
    _old_records(home, 40, 10)
    env = dict(os.environ, POSTROOM_HOME=str(home))
    env.pop("POSTROOM_DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "postroom", "serve", "--port", "0", "--no-listeners"],
                            cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while "old-40" in _ids(cli) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _ids(cli) == {"old-10"}
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=30)
    assert "purged 1 execution record(s) past their retention" in err
