"""A real HTTP server (uvicorn, in a thread, on a free port) serving the app on a fresh
SQLite repository, and a small client that keeps the session cookie as a browser would."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from postroom.repository import Repository, open_repository
from postroom.services import LoginLimiter, Logins, add_user
from postroom.web import create_app

PASSWORDS = {"anna": "Anna-s3cret-pw!", "bert": "Bert-s3cret-pw!", "vera": "Vera-s3cret-pw!"}
ROLES = {"anna": "admin", "bert": "builder", "vera": "viewer"}


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    text: str

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def json(self) -> Any:
        return json.loads(self.text)


@dataclass
class Client:
    """Keeps ``postroom_session`` like a browser (set by Set-Cookie, cleared when expired)."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    seen: list[Answer] = field(default_factory=list)

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Answer:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        sent = {"Host": f"127.0.0.1:{self.port}", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data, sent["Content-Type"] = json.dumps(body).encode(), "application/json"
        try:
            conn.request(method, path, body=data, headers=sent)
            raw = conn.getresponse()
            answer = Answer(raw.status, raw.getheaders(), raw.read().decode("utf-8", "replace"))
        finally:
            conn.close()
        for name, value in answer.headers:
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                val = rest.split(";", 1)[0].strip('"')
                if val and "max-age=0" not in value.lower():
                    self.cookies[key] = val
                else:
                    self.cookies.pop(key, None)
        self.seen.append(answer)
        return answer

    def login(self, name: str, password: str | None = None) -> str:
        """Log in; the CSRF token."""
        answer = self.request("POST", "/api/login", {"user_name": name, "password": password or PASSWORDS[name]})
        assert answer.status == 200, answer
        return str(answer.json()["csrf_token"])


@dataclass
class Web:
    port: int
    repo: Repository
    logins: Logins
    clock: list[float]
    app: Any

    def client(self) -> Client:
        return Client(self.port)

    def add_users(self, *names: str) -> None:
        for name in names:
            add_user(self.repo, name, ROLES[name], PASSWORDS[name])


@pytest.fixture
def ui_dir(tmp_path: Path) -> Path:
    """The folder the app serves the browser app from: empty (not built) until a test writes it."""
    folder = tmp_path / "ui-build"
    folder.mkdir()
    return folder


@pytest.fixture
def web(home: Path, ui_dir: Path) -> Iterator[Web]:
    import uvicorn

    repo = open_repository(home=home)
    clock = [1000.0]
    logins = Logins(repo, limiter=LoginLimiter(clock=lambda: clock[0]))
    app = create_app(repo, logins=logins, ui_dir=ui_dir)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "uvicorn did not start"
    yield Web(sock.getsockname()[1], repo, logins, clock, app)
    server.should_exit = True
    thread.join(10)
    repo.close()
