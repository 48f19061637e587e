"""The fast tier's guard (a pytest plugin, registered by ``tests/conftest.py``).

``make test-fast`` runs ``pytest -m fast`` with ``POSTROOM_TEST_TIER=fast``: the tests marked
``fast`` (``pytestmark = pytest.mark.fast`` in a module, or on one test) are those that need no
server, no subprocess and no sleep. The mark is not trusted: while such a test runs in the fast
tier (its fixtures included), an audit hook fails it as soon as it starts a subprocess (or
forks, or starts a multiprocessing process), connects a socket from Python (a C library's own
connections, libpq's, are not seen; starting their server is), or calls ``time.sleep`` with a positive delay, with a message that
names what it did. The call raises (an exception that ``except Exception`` does not catch), and
the test fails even if the code under test swallowed it or it happened in another thread.

The guard is active when ``POSTROOM_TEST_TIER=fast`` or the mark expression is exactly ``fast``;
under ``POSTROOM_TEST_TIER=fast`` the tests without the mark are deselected, so
``POSTROOM_TEST_TIER=fast pytest tests/engine`` runs that folder's fast tests only. ``make test``
runs everything with the guard off.

``POSTROOM_TEST_TIER=survey`` instead watches every test without failing any, and writes
``.pytest-fast-survey.json`` (node id -> what it did, ``[]`` for nothing): the way to find
which tests qualify for the mark.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Generator
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import pytest

__all__ = ["ENV", "MARK"]

ENV = "POSTROOM_TEST_TIER"
MARK = "fast"
SURVEY_FILE = ".pytest-fast-survey.json"

#: audit event -> what the test did, in words
_EVENTS = {
    "subprocess.Popen": "starts a subprocess",
    "os.system": "starts a subprocess (os.system)",
    "os.posix_spawn": "starts a subprocess (os.posix_spawn)",
    "os.spawn": "starts a subprocess (os.spawn*)",
    "os.fork": "forks a process (os.fork, e.g. multiprocessing)",
    "os.forkpty": "forks a process (os.forkpty)",
    "multiprocessing.Process.start": "starts a process (multiprocessing)",
    "socket.connect": "opens a socket connection",
    "time.sleep": "calls time.sleep",
}


#: Python 3.12 raises the "time.sleep" audit event itself; before, ``time.sleep`` is replaced
#: while a watched test runs (a reference taken at import time, ``from time import sleep``,
#: escapes it there).
_PATCH_SLEEP = sys.version_info < (3, 12)


def _audited(sleep: Callable[[float], None]) -> Callable[[float], None]:
    def audited_sleep(seconds: float) -> None:
        sys.audit("time.sleep", seconds)
        sleep(seconds)

    return audited_sleep


def _audited_start(start: Callable[[BaseProcess], None]) -> Callable[[BaseProcess], None]:
    """multiprocessing's spawn and forkserver start methods raise no audit event of their own."""
    def audited_start(process: BaseProcess) -> None:
        sys.audit("multiprocessing.Process.start", process)
        start(process)

    return audited_start


class FastTierViolation(pytest.fail.Exception):  # type: ignore[name-defined,misc]
    """A fast-tier test did what the tier forbids (a BaseException, like pytest.fail)."""


class _Guard:
    """Watches the test that is running; audit hooks cannot be removed, so it is switched."""

    def __init__(self, *, enforce: bool) -> None:
        self.enforce = enforce
        self.watching: str | None = None
        self.seen: list[str] = []
        self.failed = False
        self.survey: dict[str, list[str]] = {}

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        if self.watching is None or event not in _EVENTS:
            return
        if event == "time.sleep" and args and args[0] <= 0:
            return  # sleep(0): a yield to other threads, not a wait
        detail = _detail(event, args)
        self.seen.append(detail)
        if self.enforce:
            raise FastTierViolation(_message(self.watching, detail))


def _detail(event: str, args: tuple[Any, ...]) -> str:
    what = _EVENTS[event]
    if event == "subprocess.Popen" and args:
        return f"{what} ({args[0]!s:.80})"
    if event == "socket.connect" and len(args) > 1:
        return f"{what} (to {args[1]!r:.80})"
    if event == "time.sleep" and args:
        return f"{what} ({args[0]} s)"
    return what


def _message(nodeid: str, detail: str) -> str:
    return (f"this test is in the fast tier but {detail}: mark it with pytest.mark.{MARK} only if "
            f"it needs no server, no subprocess and no sleep; remove the mark from {nodeid}, or "
            "take the server, subprocess or sleep out of the test")


def _tier(config: pytest.Config) -> str | None:
    tier = os.environ.get(ENV, "").strip().lower()
    if tier in (MARK, "survey"):
        return tier
    if str(config.getoption("markexpr", "") or "").strip() == MARK:
        return MARK
    return None


def pytest_configure(config: pytest.Config) -> None:
    tier = _tier(config)
    if tier is not None:
        config.pluginmanager.register(_Plugin(_Guard(enforce=tier == MARK), tier), "postroom-fast-tier")


class _Plugin:
    def __init__(self, guard: _Guard, tier: str) -> None:
        self.guard = guard
        self.tier = tier
        sys.addaudithook(guard.audit)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        if self.tier != MARK or os.environ.get(ENV, "").strip().lower() != MARK:
            return
        keep = [item for item in items if item.get_closest_marker(MARK)]
        dropped = [item for item in items if not item.get_closest_marker(MARK)]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = keep

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, Any, Any]:
        watched = self.tier == "survey" or item.get_closest_marker(MARK) is not None
        self.guard.watching = item.nodeid if watched else None
        self.guard.seen = []
        self.guard.failed = False
        sleep, start = time.sleep, BaseProcess.start
        if watched:
            BaseProcess.start = _audited_start(start)  # type: ignore[method-assign]
            if _PATCH_SLEEP:
                time.sleep = _audited(sleep)
        try:
            return (yield)
        finally:
            time.sleep, BaseProcess.start = sleep, start  # type: ignore[method-assign]
            self.guard.watching = None
            if self.tier == "survey":
                self.guard.survey[item.nodeid] = sorted(set(self.guard.seen))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
        report = yield
        if self.tier != MARK or self.guard.watching != item.nodeid or self.guard.failed:
            return report
        if report.failed:
            self.guard.failed = True
        elif self.guard.seen:  # raised, but caught by the code under test or in another thread
            self.guard.failed = True
            report.outcome = "failed"
            report.longrepr = _message(item.nodeid, self.guard.seen[0]) + " (the error was caught)"
        return report

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.tier == "survey":
            path = Path(str(session.config.rootpath)) / SURVEY_FILE
            path.write_text(json.dumps(self.guard.survey, indent=1, sort_keys=True) + "\n", encoding="utf-8")
