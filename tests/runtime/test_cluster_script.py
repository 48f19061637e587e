"""``make cluster`` (tools/cluster.py) starts Redis, PostgreSQL, two workers and serve from
Debian's binaries: the workers answer ``workers list``, serve's health says ok, a run goes to a
worker; SIGTERM stops everything it started."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from support.testsupport import ROOT, require_binary


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_cluster_script_starts_and_stops_everything(cli, workdir):
    require_binary("redis-server")
    require_binary("initdb", *sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb")))
    folder = Path(tempfile.mkdtemp(prefix="postroom-cluster-"))  # PostgreSQL's user must reach it (not tmp_path)
    folder.chmod(0o755)
    port, redis_port, pg_port = _port(), _port(), _port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "tools" / "cluster.py"), "--folder", str(folder / "c"),
                             "--port", str(port), "--redis-port", str(redis_port), "--pg-port", str(pg_port)],
                            cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        first = [proc.stdout.readline()]
        while first[-1] and not first[-1].startswith("cluster up:"):  # past any warning of the servers
            first.append(proc.stdout.readline())
        assert first[-1].startswith("cluster up:"), first
        env = dict(line.removeprefix("export ").split("=", 1)
                   for line in (folder / "c" / "env").read_text().splitlines())
        assert env["POSTROOM_BROKER_URL"] == f"redis://127.0.0.1:{redis_port}/0"
        deadline = time.monotonic() + 90
        nodes: list[str] = []
        while len(nodes) < 2 and time.monotonic() < deadline:
            listed = cli("workers", "list", "--json", env=env)
            nodes = [w["node"] for w in listed.json()] if listed.code == 0 else []
            time.sleep(0.5)
        assert sorted(n.split("@")[0] for n in nodes) == ["worker1", "worker2"]
        health = None
        while health is None and time.monotonic() < deadline:
            try:
                health = urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5).read()
            except OSError:
                time.sleep(0.3)
        assert health is not None and b'"status":"ok"' in health
        shutil.copytree(ROOT / "examples" / "patient-letters", workdir / "example")
        assert cli("import", "example", env=env).code == 0
        ran = cli("run", "patient-letters", "--workers", "--json", env=env)
        assert ran.code == 0 and ran.json()["node"] in nodes, ran
    finally:
        proc.send_signal(signal.SIGTERM)
        rest = proc.communicate(timeout=120)[0]
        shutil.rmtree(folder, ignore_errors=True)
    assert "cluster stopped" in rest
    left = subprocess.run(["pgrep", "-f", str(folder)], capture_output=True, text=True).stdout.split()
    assert [pid for pid in left if int(pid) != os.getpid()] == []
