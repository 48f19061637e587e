"""Start a local Postroom cluster from Debian's binaries, no containers: Redis (the broker),
PostgreSQL (the shared database), N workers and ``postroom serve``. ``make cluster`` runs it.

    python tools/cluster.py [--folder .cluster] [--workers 2] [--port 8080]
                            [--redis-port 6390] [--pg-port 5440]

Everything lives in the folder (default ``.cluster``): Redis' and PostgreSQL's data, the
logs of every process, the data home (key file), and ``env`` with the settings to use it
from another shell (``. .cluster/env; postroom run PROCESS --workers``). Ctrl-C (or SIGTERM)
stops it all. PostgreSQL refuses to run as root: as root it runs as the ``postgres`` user
(Debian's package creates it) through ``runuser``. See docs/scale.md."""

from __future__ import annotations

import argparse
import glob
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

PG_USER = "postroom"


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    path = shutil.which(name) or (found[0] if found else None)
    if path is None:
        sys.exit(f"error: {name} not found: apt-get install postgresql")
    return path


def _as_postgres(folder: Path) -> list[str]:
    """A command prefix that drops root (PostgreSQL refuses it), the folder handed over."""
    if os.geteuid() != 0:
        return []
    entry = pwd.getpwnam("postgres")
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return ["runuser", "-u", "postgres", "--"]


def start_postgres(folder: Path, port: int) -> tuple[list[str], Path]:
    data = folder / "pg"
    data.mkdir(exist_ok=True, mode=0o700)
    prefix = _as_postgres(data)
    if not (data / "PG_VERSION").exists():
        subprocess.run([*prefix, _pg_bin("initdb"), "-D", str(data), "-U", PG_USER, "--auth=trust", "-E", "UTF8",
                        "--locale=C"], check=True, stdout=subprocess.DEVNULL, cwd=data)
    subprocess.run([*prefix, _pg_bin("pg_ctl"), "-D", str(data), "-l", str(data / "server.log"), "-w", "-o",
                    f"-h 127.0.0.1 -p {port} -k {data} -c max_connections=300", "start"], check=True,
                   stdout=subprocess.DEVNULL, cwd=data)
    exists = subprocess.run([_pg_bin("psql"), "-h", "127.0.0.1", "-p", str(port), "-U", PG_USER, "-d", "postgres",
                             "-tAc", "SELECT 1 FROM pg_database WHERE datname = 'postroom'"],
                            capture_output=True, text=True, check=True).stdout.strip()
    if exists != "1":
        subprocess.run([_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", PG_USER, "postroom"],
                       check=True)
    return prefix, data


def start_redis(folder: Path, port: int) -> subprocess.Popen[bytes]:
    redis = shutil.which("redis-server") or sys.exit("error: redis-server not found: apt-get install redis-server")
    log = open(folder / "redis.log", "ab")  # noqa: SIM115 - Redis writes it until stopped
    proc = subprocess.Popen([redis, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
                             "--appendonly", "yes"], stdout=log, stderr=subprocess.STDOUT)
    for _ in range(200):
        probe = subprocess.run([shutil.which("redis-cli") or "redis-cli", "-p", str(port), "ping"],
                               capture_output=True, text=True)
        if probe.stdout.strip() == "PONG":
            return proc
        time.sleep(0.05)
    sys.exit(f"error: redis-server did not start; see {folder / 'redis.log'}")


def postroom(folder: Path, name: str, env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    log = open(folder / f"{name}.log", "ab")  # noqa: SIM115 - the process writes it until stopped
    return subprocess.Popen([sys.executable, "-m", "postroom", *args], env={**os.environ, **env}, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


class _Stop(Exception):
    """SIGTERM: stop everything started so far."""


def _raise_stop(*_: object) -> None:
    raise _Stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", default=".cluster")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--port", type=int, default=8080, help="postroom serve's port")
    parser.add_argument("--redis-port", type=int, default=6390)
    parser.add_argument("--pg-port", type=int, default=5440)
    options = parser.parse_args()
    signal.signal(signal.SIGTERM, _raise_stop)  # first: a SIGTERM during start-up stops what started
    folder = Path(options.folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "home").mkdir(exist_ok=True, mode=0o700)
    env = {"POSTROOM_HOME": str(folder / "home"),
           "POSTROOM_DATABASE_URL": f"postgresql://{PG_USER}@127.0.0.1:{options.pg_port}/postroom",
           "POSTROOM_BROKER_URL": f"redis://127.0.0.1:{options.redis_port}/0"}
    (folder / "env").write_text("".join(f"export {k}={v}\n" for k, v in env.items()), encoding="utf-8")
    redis: subprocess.Popen[bytes] | None = None
    postgres: tuple[list[str], Path] | None = None
    processes: list[subprocess.Popen[bytes]] = []
    try:
        redis = start_redis(folder, options.redis_port)
        postgres = start_postgres(folder, options.pg_port)
        processes = [postroom(folder, f"worker{n}", env, "worker", "--name", f"worker{n}@{os.uname().nodename}",
                              "--concurrency", str(options.concurrency)) for n in range(1, options.workers + 1)]
        processes.append(postroom(folder, "serve", env, "serve", "--port", str(options.port)))
        print(f"cluster up: Redis :{options.redis_port}, PostgreSQL :{options.pg_port}, {options.workers} worker(s), "
              f"serve on http://127.0.0.1:{options.port}/ (logs in {folder})", flush=True)
        print(f"use it from another shell: . {folder / 'env'}; postroom workers list; postroom run PROCESS --workers",
              flush=True)
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _stop_all(processes, redis, postgres)


def _stop_all(processes: list[subprocess.Popen[bytes]], redis: subprocess.Popen[bytes] | None,
              postgres: tuple[list[str], Path] | None) -> None:
    for proc in processes:
        if proc.poll() is None:
            proc.terminate()
    for proc in processes:
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
    if postgres is not None:
        prefix, data = postgres
        subprocess.run([*prefix, _pg_bin("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                       stdout=subprocess.DEVNULL, cwd=data)
    if redis is not None:
        redis.terminate()
        redis.wait(30)
    print("cluster stopped", flush=True)


if __name__ == "__main__":
    main()
