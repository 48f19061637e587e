"""Issue 7, item 14: the REST API of ``postroom serve`` refuses requests that name another
host (DNS rebinding); since logins exist (issue 9) it may listen beyond this machine."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from support.listenerkit import Serve


def _request(port: int, path: str, host: str, token: str = "") -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("GET", path, skip_host=True)
        conn.putheader("Host", host)
        if token:
            conn.putheader("Authorization", f"Bearer {token}")
        conn.endheaders()
        answer = conn.getresponse()
        return answer.status, json.loads(answer.read() or b"{}")
    finally:
        conn.close()


@pytest.fixture
def serve(workdir: Path, home: Path):  # noqa: ANN201
    servers: list[Serve] = []

    def start(*args: str) -> Serve:
        server = Serve(workdir, {"POSTROOM_HOME": str(home)}, "--no-listeners", *args)
        servers.append(server)
        return server.wait_ready()

    yield start
    for server in servers:
        server.close()


def test_a_rebound_host_name_is_refused_and_local_names_answer(serve, cli, workdir: Path) -> None:  # noqa: ANN001
    (workdir / "c.yaml").write_text("type: connection\nconnector: disk\nname: Out\nid: out\n"
                                    "settings: {directory: out}\n")
    assert cli("import", "c.yaml").code == 0
    server = serve("--allowed-host", "postroom.proxy.example")
    port = server.port
    for host in ("evil.example", f"evil.example:{port}", "127.0.0.1.nip.io", "localhost.evil.example"):
        for path in ("/api/components", "/api/executions", "/api/health", "/api/nope"):
            status, body = _request(port, path, host, server.token)
            assert status == 421, (host, path, status, body)
            assert "answers only to local host names" in body["detail"] and "--allowed-host" in body["detail"]
            assert "components" not in body and "out" not in json.dumps(body).replace("out ", "")
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", socket.gethostname(),
                 "postroom.proxy.example", "POSTROOM.proxy.example.:443"):
        status, body = _request(port, "/api/components/out", host, server.token)
        assert status == 200 and body["id"] == "out", (host, status, body)
    assert server.terminate() == 0


def test_a_non_loopback_bind_is_allowed_now_that_logins_exist_and_still_checks_host(
        workdir: Path, home: Path) -> None:
    server = Serve(workdir, {"POSTROOM_HOME": str(home)}, "--no-listeners", "--host", "0.0.0.0")
    try:
        import re
        import time

        deadline = time.monotonic() + 60
        found = None
        while found is None and time.monotonic() < deadline and server.proc.poll() is None:
            found = re.search(r"postroom serve: http://0\.0\.0\.0:(\d+)/api", server.out_path.read_text())
            time.sleep(0.1)
        assert found, server.output()
        port = int(found.group(1))
        assert _request(port, "/api/health", f"127.0.0.1:{port}")[0] == 200
        assert _request(port, "/api/health", "rebound.example")[0] == 421
        assert _request(port, "/api/components", f"127.0.0.1:{port}")[0] == 401
        assert _request(port, "/api/components", f"127.0.0.1:{port}", server.token) == (200, [])
    finally:
        server.close()


def test_serve_help_names_the_address_options() -> None:
    result = subprocess.run([sys.executable, "-m", "postroom", "serve", "--help"], capture_output=True, text=True,
                            env=dict(os.environ, COLUMNS="200"), timeout=60)
    text = " ".join(result.stdout.split())
    assert "0.0.0.0 or :: for every interface" in text and "--allowed-host" in text
    assert "POSTROOM_ALLOW_UNAUTHENTICATED_BIND" not in text
