"""The lease of a running execution: who runs it (host, process id) and a heartbeat.

A running execution writes a heartbeat into its record every few seconds from a daemon
thread. ``postroom executions resume`` refuses an execution whose lease is alive: a
heartbeat younger than the expiry (``POSTROOM_EXECUTION_LEASE_SECONDS``, default 30), from
a process that still exists when it runs on this host. A holder killed on this host frees
the lease at once; on another host, when its heartbeat is older than the expiry. Hosts that
share a repository must keep their clocks in sync (NTP), well within the expiry.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from ..errors import ConfigError
from ..repository import ExecutionRecord, Repository

__all__ = ["ExecutionLease", "holder_alive", "lease_seconds", "lease_alive", "refuse_live_lease", "this_host"]

LEASE_ENV = "POSTROOM_EXECUTION_LEASE_SECONDS"
_ACTIVE: set[str] = set()  # executions this process runs now (a lease of our own pid held elsewhere is dead)
_ACTIVE_LOCK = threading.Lock()


def this_host() -> str:
    return socket.gethostname()


def lease_seconds() -> float:
    """How long a lease lives without a heartbeat (``POSTROOM_EXECUTION_LEASE_SECONDS``)."""
    raw = os.environ.get(LEASE_ENV, "30").strip()
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise ConfigError(f"{LEASE_ENV}={raw!r} is not a positive number of seconds", field=LEASE_ENV,
                          fix="set it to e.g. 30, well above the clock difference between your hosts")
    return value


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    except OSError:
        return False
    return True


def lease_alive(record: ExecutionRecord, now: datetime | None = None, expiry: float | None = None) -> bool:
    """Is the execution still being run by its lease holder?"""
    if record.status != "running" or record.lease_pid is None or record.heartbeat_at is None:
        return False  # ended, or recorded before executions held leases
    now = now or datetime.now(UTC)
    if (now - record.heartbeat_at).total_seconds() > (expiry if expiry is not None else lease_seconds()):
        return False
    if record.lease_host == this_host():
        if record.lease_pid == os.getpid():
            with _ACTIVE_LOCK:
                return record.id in _ACTIVE
        return _pid_alive(record.lease_pid)
    return True


def holder_alive(host: str | None, pid: int | None, heartbeat_at: datetime | None) -> bool:
    """Is the holder of a lease other than an execution's (a chunk's) alive: a heartbeat
    younger than the expiry, from a process that exists when it runs on this host."""
    if pid is None or heartbeat_at is None:
        return False
    if (datetime.now(UTC) - heartbeat_at).total_seconds() > lease_seconds():
        return False
    return host != this_host() or _pid_alive(pid)


def refuse_live_lease(record: ExecutionRecord) -> None:
    """Raise ConfigError (exit 2) naming the holder when the execution's lease is alive."""
    if not lease_alive(record):
        return
    ago = (datetime.now(UTC) - record.heartbeat_at).total_seconds() if record.heartbeat_at else 0.0
    since = f"{record.started_at:%Y-%m-%d %H:%M:%S} UTC" if record.started_at else "an unknown time"
    raise ConfigError(
        f"execution {record.id} is still running: process {record.lease_pid} on host {record.lease_host} "
        f"holds it (running since {since}, last heartbeat {ago:.0f} s ago); resuming it now would send "
        "its letters twice",
        fix=f"wait for it to end, or stop it (kill -TERM {record.lease_pid} on {record.lease_host}) and resume "
            f"then; a holder that died on another host frees it after {lease_seconds():g} s without a heartbeat "
            f"({LEASE_ENV})")


class ExecutionLease:
    """Holds an execution's lease while it runs: a daemon thread writes the heartbeat.

    When the heartbeat finds the lease taken by another (this process stalled past the
    expiry and a resume took over), ``on_lost`` is called once: the run should stop."""

    def __init__(self, repo: Repository, execution_id: str, on_lost: Callable[[str], None],
                 expiry: float | None = None) -> None:
        self.repo, self.execution_id, self.on_lost = repo, execution_id, on_lost
        self.host, self.pid = this_host(), os.getpid()
        self.expiry = expiry if expiry is not None else lease_seconds()
        self.interval = max(0.2, min(5.0, self.expiry / 3))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lost = False  # another process took the lease over: do not write the record's end

    def claim(self, record: ExecutionRecord) -> None:
        """Take over the lease of an existing execution (resume); ConfigError when alive
        or when another resume took it first."""
        refuse_live_lease(record)
        if not self.repo.claim_execution(record.id, self.host, self.pid,
                                         (record.lease_host, record.lease_pid, record.heartbeat_at)):
            current = self.repo.get_execution(record.id)
            if current is not None:
                refuse_live_lease(current)
            raise ConfigError(f"execution {record.id} was just taken by another resume",
                              fix="see postroom executions show " + record.id)

    def start(self) -> None:
        with _ACTIVE_LOCK:
            _ACTIVE.add(self.execution_id)
        self._thread = threading.Thread(target=self._beat, name=f"postroom-lease-{self.execution_id[:8]}",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.interval + 5)
        with _ACTIVE_LOCK:
            _ACTIVE.discard(self.execution_id)

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                held = self.repo.heartbeat_execution(self.execution_id, self.host, self.pid)
            except Exception:  # noqa: BLE001 - a database hiccup: try again at the next beat
                continue
            if not held:
                self.lost = True
                self.on_lost("another process took over this execution's lease (this one missed its "
                             f"heartbeats for over {self.expiry:g} s)")
                return
