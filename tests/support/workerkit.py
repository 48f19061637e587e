"""Worker processes for the distributed-runtime tests: ``postroom worker`` subprocesses on the
test's own Redis (``redis_server``) and PostgreSQL database (``postgres_database``), with the
test's POSTROOM_HOME (its key file is the secret key every process shares). Every worker a
test starts is killed in the fixture's teardown.

Used by tests/runtime/test_workers_*.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

__all__ = ["Cluster", "Worker", "cluster", "submit_on_workers", "wait_for_letters"]


@dataclass
class Worker:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.output():
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"worker {self.name} exited {self.proc.returncode}:\n{self.output()[-3000:]}")
            time.sleep(0.05)
        raise AssertionError(f"worker {self.name} not ready after {timeout} s:\n{self.output()[-3000:]}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)


@dataclass
class Cluster:
    """The settings every process of one test's cluster shares, and its workers."""

    home: Path
    folder: Path
    database_url: str
    broker_url: str
    visibility: int | None = None  # POSTROOM_BROKER_VISIBILITY_TIMEOUT (None: the default, 12 hours)
    workers: list[Worker] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        env = {"POSTROOM_HOME": str(self.home), "POSTROOM_DATABASE_URL": self.database_url,
               "POSTROOM_BROKER_URL": self.broker_url, "POSTROOM_EXECUTION_LEASE_SECONDS": "10"}
        if self.visibility is not None:
            env["POSTROOM_BROKER_VISIBILITY_TIMEOUT"] = str(self.visibility)
        return env

    def start_worker(self, *args: str, ready: bool = True, env: dict[str, str] | None = None) -> Worker:
        name = f"w{len(self.workers) + 1}"
        log = self.folder / f"{name}.log"
        with open(log, "wb") as handle:
            proc = subprocess.Popen([sys.executable, "-m", "postroom", "worker", "--name", f"{name}@test", *args],
                                    cwd=self.folder, env={**os.environ, **self.env, **(env or {})},
                                    stdout=handle, stderr=subprocess.STDOUT)
        worker = Worker(name, proc, log)
        self.workers.append(worker)
        if ready:
            worker.wait_ready()
        return worker

    def stop_all(self) -> None:
        for worker in self.workers:
            worker.kill()


@pytest.fixture
def cluster(home: Path, tmp_path: Path, redis_server, postgres_database: str) -> Iterator[Cluster]:  # noqa: ANN001
    folder = tmp_path / "cluster"
    folder.mkdir()
    made = Cluster(home=home, folder=folder, database_url=postgres_database, broker_url=redis_server.url)
    try:
        yield made
    finally:
        made.stop_all()


def submit_on_workers(workdir: Path, env: dict[str, str], patients: Path) -> subprocess.Popen:
    """``postroom run letters --input PATIENTS --workers --json`` running in ``workdir``."""
    return subprocess.Popen(
        [sys.executable, "-m", "postroom", "run", "letters", "--input", str(patients), "--workers", "--json"],
        cwd=workdir, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for_letters(devmail, count: int, submitter: subprocess.Popen, timeout: float = 120) -> None:  # noqa: ANN001
    """Until devmail holds ``count`` letters, the submitted run ended, or ``timeout`` passed."""
    deadline = time.monotonic() + timeout
    while len(devmail.messages()) < count and time.monotonic() < deadline and submitter.poll() is None:
        time.sleep(0.005)
