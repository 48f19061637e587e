"""A real PostgreSQL server for tests, started from Debian's binaries (DESIGN principle 12).

Loaded as a pytest plugin by ``tests/conftest.py``. Fixtures:

* ``postgres_server`` (session): the running server (:class:`PostgresServer`).
* ``postgres_url`` (session): a ``postgresql+psycopg://`` URL of the database ``postroom``.
* ``postgres_database`` (function): a URL of a fresh, empty database, dropped afterwards,
  for tests that need isolation (every repository test does).

PostgreSQL refuses to run as root. As root (CI containers) the server runs as the
``postgres`` user the Debian package creates, else as ``nobody``, through ``runuser`` (or
``setpriv``), in a private folder under /tmp owned by that user (pytest's own tmp folders
are 0700 root and unreadable to it). As any other user it runs as that user. It listens on
127.0.0.1 on a free port with trust authentication and keeps its socket in its folder, so
it never touches a system cluster. ``fsync`` is off: test data need not survive a crash.
Under ``CI=true`` a missing binary fails the session's PostgreSQL tests instead of
skipping them (``require_binary``).
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from support.testsupport import require_binary

__all__ = ["PostgresServer", "postgres_server", "postgres_url", "postgres_database"]

SUPERUSER = "postroom"


def _candidates(name: str) -> list[str]:
    """Debian keeps the server binaries off PATH, one folder per major version; newest first."""
    return sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                  key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0, reverse=True)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run_as() -> tuple[list[str], int | None, int | None]:
    """Command prefix to drop root, and the uid/gid that will own the server's folder."""
    if os.geteuid() != 0:
        return [], None, None
    for user in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(user)
        except KeyError:
            continue
        runuser = shutil.which("runuser")
        if runuser:
            return [runuser, "-u", user, "--"], entry.pw_uid, entry.pw_gid
        setpriv = shutil.which("setpriv")
        if setpriv:
            return ([setpriv, f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups", "--"],
                    entry.pw_uid, entry.pw_gid)
        pytest.fail("running as root, but neither runuser nor setpriv is installed to start PostgreSQL "
                    "as a normal user (apt-get install util-linux)")
    pytest.fail("running as root, and no 'postgres' or 'nobody' user exists to run PostgreSQL as")


@dataclass
class PostgresServer:
    """One running cluster. ``url(db)`` gives a URL; ``create_database()`` a fresh database."""

    bindir: Path
    folder: Path
    port: int = 0
    prefix: list[str] = field(default_factory=list)
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    @property
    def socket_dir(self) -> Path:
        return self.folder / "sock"

    @property
    def log_file(self) -> Path:
        return self.folder / "server.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        proc = subprocess.run([*self.prefix, *args], cwd=self.folder, env=env, capture_output=True,
                              text=True, timeout=120)
        if proc.returncode != 0:
            log = self.log_file.read_text(errors="replace")[-3000:] if self.log_file.exists() else ""
            raise RuntimeError(f"{' '.join(args[:2])} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}\n{log}")

    def init(self) -> None:
        self._run(str(self.bindir / "initdb"), "-D", str(self.data_dir), "-U", SUPERUSER, "--auth=trust",
                  "-E", "UTF8", "--locale=C", "--no-sync")

    def start(self) -> None:
        """Start on a free port; retried on another port if one was taken in between."""
        last: Exception | None = None
        for _ in range(3):
            self.port = _free_port()
            options = (f"-h 127.0.0.1 -p {self.port} -k {self.socket_dir} -c fsync=off "
                       "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
            try:
                self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_file),
                          "-o", options, "-w", "-t", "60", "start")
                return
            except RuntimeError as exc:
                last = exc
        raise RuntimeError(f"PostgreSQL did not start: {last}")

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop")

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(sql)

    def create_database(self, name: str | None = None) -> str:
        name = name or f"test_{os.getpid()}_{next(self._names)}"
        self.admin(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    initdb = require_binary("initdb", *_candidates("initdb"))
    bindir = Path(initdb).resolve().parent
    require_binary("pg_ctl", str(bindir / "pg_ctl"), *_candidates("pg_ctl"))
    require_binary("postgres", str(bindir / "postgres"), *_candidates("postgres"))
    prefix, uid, gid = _run_as()
    folder = Path(tempfile.mkdtemp(prefix="postroom-pg-"))
    if uid is not None:
        os.chown(folder, uid, gid if gid is not None else -1)
    server = PostgresServer(bindir=bindir, folder=folder, prefix=prefix)
    try:
        server.init()
        server.socket_dir.mkdir()
        if uid is not None:
            os.chown(server.socket_dir, uid, gid if gid is not None else -1)
        server.start()
        yield server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    return postgres_server.create_database("postroom")


@pytest.fixture
def postgres_database(postgres_server: PostgresServer) -> Iterator[str]:
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url.rsplit("/", 1)[1])
