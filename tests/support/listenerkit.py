"""Helpers of the listener tests: ``postroom serve`` as a subprocess, polling with deadlines."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["Serve", "wait_for", "DISK_LISTENER"]

# A listener that takes every file of INBOX (deleting it once stored) and writes it to OUT;
# a second copy of a file would show as NAME-1 (write_option unique).
DISK_LISTENER = """
type: connection
connector: disk
name: Drop folder
id: drop
settings: {{directory: "{inbox}"}}
---
type: operation
connector: disk
name: Take files
id: take-files
settings: {{action: get, delete_after_read: true}}
---
type: connection
connector: disk
name: Done folder
id: done
settings: {{directory: "{out}"}}
---
type: operation
connector: disk
name: Write files
id: write-files
settings: {{action: send, write_option: unique}}
---
type: process
name: Copy dropped files
id: copy-dropped
start: start
shapes:
  start: {{type: start, mode: listener, connection: drop, operation: take-files, interval_seconds: {interval},
          next: write}}
  write: {{type: connector, connection: done, operation: write-files}}
"""


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, every: float = 0.1) -> Any:
    """Call ``predicate`` until it returns something true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")
        time.sleep(every)


def api_token(env: dict[str, str], name: str, role: str = "admin") -> str:
    """An API token (and, when there is none, a first user) in the repository ``env`` names
    (POSTROOM_HOME, POSTROOM_DATABASE_URL): the API answers nothing but 503 while no user exists."""
    from postroom.repository import data_home, open_repository
    from postroom.services import add_user, create_api_token

    home = data_home(env.get("POSTROOM_HOME"))
    repo = open_repository(env.get("POSTROOM_DATABASE_URL") or f"sqlite:///{home / 'postroom.db'}", home=home)
    try:
        if not repo.has_users():
            add_user(repo, "tests-admin", "admin", "tests-admin-password")
        return create_api_token(repo, name, role)[1]
    finally:
        repo.close()


class Serve:
    """``postroom serve --port 0 ARGS`` in ``cwd``, output in files beside it. ``get`` and
    ``raw`` send an admin API token (created here, with a first user when there is none)
    unless ``login`` is False."""

    _count = 0

    def __init__(self, cwd: Path, env: dict[str, str], *args: str, login: bool = True) -> None:
        Serve._count += 1
        self.name = f"serve{Serve._count}"
        self.token = api_token(env, f"{self.name}-{os.getpid()}") if login else ""
        self.out_path = cwd / f"{self.name}.out"
        self.err_path = cwd / f"{self.name}.err"
        environment = dict(os.environ)
        environment.pop("POSTROOM_DATABASE_URL", None)
        environment.update(env)
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "postroom", "serve", "--port", "0", *args],
                                         cwd=cwd, env=environment, stdout=out, stderr=err,
                                         stdin=subprocess.DEVNULL)
        self.port = 0
        self.instance = ""

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        return self.out_path.read_text(errors="replace") + self.err_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60) -> Serve:
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n{self.output()}")
            found = re.search(r"postroom serve: http://127\.0\.0\.1:(\d+)/api .*instance (\S+)\)",
                              self.out_path.read_text())
            if found:
                self.port, self.instance = int(found.group(1)), found.group(2)
            return bool(found)

        wait_for(ready, timeout, f"{self.name} to start")
        return self

    def _request(self, path: str) -> urllib.request.Request:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers=headers)

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self._request(path), timeout=10) as answer:
            return json.loads(answer.read())

    def raw(self, path: str) -> str:
        with urllib.request.urlopen(self._request(path), timeout=10) as answer:
            return answer.read().decode()

    def terminate(self, timeout: float = 60) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(30)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
