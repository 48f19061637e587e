"""A real Redis server for tests, started from Debian's binary (DESIGN principle 12).

Loaded as a pytest plugin by ``tests/conftest.py``. Fixtures:

* ``redis_server`` (function): a running ``redis-server`` of the test's own, on a free port
  of 127.0.0.1, no persistence, stopped afterwards (:class:`RedisServer`; ``url`` is its
  broker URL). One server per test keeps tests independent under pytest-xdist; it starts
  in milliseconds.
* ``free_port``: a port nothing listens on (for "the broker does not answer").

Under ``CI=true`` a missing binary fails the test instead of skipping it.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.testsupport import require_binary

__all__ = ["RedisServer", "redis_server", "free_port"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RedisServer:
    binary: str
    folder: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, port: int | None = None) -> None:
        """Start on ``port`` (default: a free one); retried on another port if it was taken."""
        for _ in range(3):
            self.port = port or _free_port()
            log = open(self.folder / "redis.log", "ab")  # noqa: SIM115 - the server writes it until stop
            self.proc = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", str(self.folder), "--protected-mode", "no"], stdout=log, stderr=subprocess.STDOUT)
            log.close()
            if self._wait_ready():
                return
            self.stop()
            if port:
                break
        raise RuntimeError(f"redis-server did not start: {(self.folder / 'redis.log').read_text()[-2000:]}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return True
            except OSError:
                pass
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    binary = require_binary("redis-server", "/usr/bin/redis-server")
    folder = tmp_path / "redis"
    folder.mkdir()
    server = RedisServer(binary=binary, folder=folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def free_port() -> int:
    return _free_port()
