"""Shared fixtures. Servers are real binaries; under CI=true a missing one fails the test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from support.testsupport import FIXTURES, IN_CI, ROOT, require_binary  # noqa: F401 - re-exported

pytest_plugins = ["_pg_server", "_redis_server", "_dovecot_server", "support.fast_tier", "pytester"]

_BROWSER_TESTS = Path(__file__).resolve().parent / "web"

# The tests start hundreds of Python subprocesses (`postroom` commands, workers, serve). With
# PYTHONDONTWRITEBYTECODE set (as on the CI machines) each compiled all of Postroom from source,
# about a quarter of every command's CPU. They keep their bytecode in a cache folder instead,
# which leaves the source tree as clean as that setting wants it.
if os.environ.pop("PYTHONDONTWRITEBYTECODE", None):
    os.environ.setdefault("PYTHONPYCACHEPREFIX", str(ROOT / ".pytest_cache" / "pycache"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`make test` runs the suite on several pytest-xdist workers (``--dist loadgroup``); the
    browser tests share one chromium and one ``postroom serve`` per worker, so they stay
    together on one worker instead of each worker starting its own."""
    for item in items:
        if item.path.is_relative_to(_BROWSER_TESTS):
            item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh POSTROOM_HOME with its own SQLite database and key file."""
    data = tmp_path / "home"
    data.mkdir()
    monkeypatch.setenv("POSTROOM_HOME", str(data))
    monkeypatch.delenv("POSTROOM_DATABASE_URL", raising=False)
    monkeypatch.delenv("POSTROOM_SECRET_KEY", raising=False)
    return data


@pytest.fixture
def patients_csv() -> Path:
    path = FIXTURES / "patients.csv"
    if not path.exists():
        pytest.fail(f"missing fixture {path}: examples/data/ is part of the repository")
    return path


class CliResult:
    def __init__(self, proc) -> None:  # noqa: ANN001
        self.code = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr

    def json(self):  # noqa: ANN201
        import json

        return json.loads(self.stdout)

    def __repr__(self) -> str:
        return f"CliResult(code={self.code}, stdout={self.stdout[-2000:]!r}, stderr={self.stderr[-2000:]!r})"


@pytest.fixture
def workdir(tmp_path, home):
    """A working folder laid out like the repository root: ``examples/data`` inside it."""
    work = tmp_path / "work"
    (work / "examples").mkdir(parents=True)
    (work / "examples" / "data").symlink_to(FIXTURES)
    return work


@pytest.fixture
def cli(workdir, home):
    """Run ``postroom ARGS`` as a user would, in ``workdir``, with this test's POSTROOM_HOME."""
    import subprocess
    import sys

    def run(*args: str, input: str | None = None, cwd=None, env=None, timeout: float = 300) -> CliResult:  # noqa: ANN001
        environment = dict(os.environ)
        environment["POSTROOM_HOME"] = str(home)
        environment.pop("POSTROOM_DATABASE_URL", None)
        environment.update(env or {})
        proc = subprocess.run([sys.executable, "-m", "postroom", *args], cwd=cwd or workdir, input=input,
                              capture_output=True, text=True, env=environment, timeout=timeout)
        return CliResult(proc)

    return run
