"""Browser-test support: the built UI, a real ``postroom serve`` with users and devmail for
the same POSTROOM_HOME, and Playwright driving Debian's chromium (no browser download).

A pytest plugin (``tests/web/conftest.py`` registers it). Under CI=true a missing chromium,
npm or Playwright fails the test; locally it skips with the reason.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .testsupport import IN_CI, ROOT

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "PASSWORDS", "Postroom", "build_ui", "log_in"]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
UI = ROOT / "ui"
BUILT = ROOT / "src" / "postroom" / "web" / "_ui"
#: the users every server gets, by role (name = role)
PASSWORDS = {"admin": "admin-pass-8fj2", "builder": "builder-pass-k29d", "viewer": "viewer-pass-q81z"}


def _missing(message: str) -> None:
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def _newest(paths: list[Path]) -> float:
    newest = 0.0
    for path in paths:
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        newest = max([newest, *(p.stat().st_mtime for p in files)])
    return newest


def build_ui() -> Path:
    """The built app (src/postroom/web/_ui), rebuilt when ui/src or the lockfile is newer."""
    index = BUILT / "index.html"
    sources = [UI / "src", UI / "index.html", UI / "package-lock.json", UI / "vite.config.ts"]
    if index.exists() and index.stat().st_mtime >= _newest(sources):
        return BUILT
    npm = shutil.which("npm")
    if npm is None:
        _missing("npm is not installed: the browser tests need the UI built (apt-get install nodejs npm; "
                 ".ci/run does)")
    lock = UI / "node_modules" / ".package-lock.json"
    if not lock.exists() or lock.stat().st_mtime < (UI / "package-lock.json").stat().st_mtime:
        subprocess.run([str(npm), "ci", "--no-audit", "--no-fund"], cwd=UI, check=True, timeout=600)
    subprocess.run([str(npm), "run", "build"], cwd=UI, check=True, timeout=600)
    return BUILT


@dataclass
class _Proc:
    popen: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    seen: threading.Condition = field(default_factory=threading.Condition)

    def pump(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            with self.seen:
                self.lines.append(line)
                self.seen.notify_all()
        with self.seen:
            self.seen.notify_all()

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        """The first output line matching ``pattern`` (fails with the output when it never comes)."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        with self.seen:
            while True:
                for line in self.lines:
                    if match := regex.search(line):
                        return match
                left = deadline - time.monotonic()
                if left <= 0 or self.popen.poll() is not None:
                    pytest.fail(f"no line matching {pattern!r} from {self.popen.args!r}:\n{''.join(self.lines)}")
                self.seen.wait(min(left, 0.5))

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)


class Postroom:
    """``postroom serve --port 0 --no-listeners`` and ``postroom devmail`` on free ports, both with
    one temporary POSTROOM_HOME, and the users of :data:`PASSWORDS`."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = {k: v for k, v in os.environ.items() if k not in ("POSTROOM_DATABASE_URL", "POSTROOM_SECRET_KEY")}
        self.env["POSTROOM_HOME"] = str(home)
        self.procs: list[_Proc] = []
        self.url = ""
        self.smtp_port = 0

    def cli(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        """``postroom ARGS`` with this home (as a user types it)."""
        return subprocess.run([sys.executable, "-m", "postroom", *args], input=input, capture_output=True,
                              text=True, env=self.env, cwd=self.home, timeout=120)

    def add_user(self, name: str, role: str, password: str) -> None:
        done = self.cli("users", "add", name, "--role", role, "--password-stdin", input=password + "\n")
        if done.returncode != 0:
            pytest.fail(f"postroom users add {name} failed ({done.returncode}): {done.stderr}{done.stdout}")

    def _start(self, *args: str) -> _Proc:
        popen = subprocess.Popen([sys.executable, "-m", "postroom", *args], stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True, env=self.env, cwd=self.home)
        proc = _Proc(popen)
        self.procs.append(proc)
        threading.Thread(target=proc.pump, daemon=True).start()
        return proc

    def start(self) -> Postroom:
        for role, password in PASSWORDS.items():
            self.add_user(role, role, password)
        devmail = self._start("devmail", "--smtp-port", "0", "--smtps-port", "0", "--pop3-port", "0",
                              "--pop3s-port", "0", "--web-port", "0", "--no-auth")
        self.smtp_port = int(devmail.wait_for(r"SMTP\s+\S+:(\d+)").group(1))
        devmail.wait_for(r"Press Ctrl-C")
        serve = self._start("serve", "--port", "0", "--no-listeners")
        self.url = serve.wait_for(r"(http://127\.0\.0\.1:\d+)").group(1)
        return self

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()

    def output(self) -> str:
        return "\n".join("".join(proc.lines) for proc in self.procs)


def log_in(page: Any, base_url: str, role: str) -> Any:
    """Open the app and log in as the user of ``role``; the page once Log Out shows."""
    page.goto(base_url + "/")
    page.get_by_label("User Name").fill(role)
    page.get_by_label("Password").fill(PASSWORDS[role])
    page.get_by_role("button", name="Log In").click()
    page.get_by_role("button", name="Log Out").wait_for()
    return page


@pytest.fixture(scope="session")
def built_ui() -> Path:
    return build_ui()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's chromium through Playwright (launched from /usr/bin/chromium; nothing downloaded)."""
    if not os.path.exists(CHROMIUM):
        _missing(f"{CHROMIUM} is not installed (apt-get install chromium; .ci/run does)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def postroom(built_ui: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Postroom]:
    """A running Postroom (serve + devmail) with an admin, a builder and a viewer, shared by the
    browser tests (each names its own components, so they do not meet)."""
    server = Postroom(tmp_path_factory.mktemp("web-home"))
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def new_page(browser: Any, postroom: Postroom) -> Iterator[Callable[..., Any]]:
    """``new_page(role=None)``: a fresh browser context's page, logged in as ``role`` when given."""
    contexts: list[Any] = []

    def make(role: str | None = None) -> Any:
        context = browser.new_context(base_url=postroom.url, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        return log_in(page, postroom.url, role) if role else page

    yield make
    for context in contexts:
        context.close()
