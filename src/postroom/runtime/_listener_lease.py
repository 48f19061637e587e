"""The lease a listener worker holds in the repository, ``listener:<resource key>``: two
``serve`` processes on one database never both consume one mailbox or folder.

The worker takes (or renews) it before each cycle; its keeper thread renews it every
``lease_seconds / 3`` (:meth:`ListenerLease.renew`), also while an execution runs. The
lease is *surely* ours until ``lease_seconds`` after the start of the last successful
take or renewal (:meth:`ListenerLease.valid`): a wait for new mail ends when it is not.
"""

from __future__ import annotations

import logging
import threading
import time

from ..repository import Repository
from ._listener_context import describe

__all__ = ["ListenerLease"]

log = logging.getLogger("postroom.listeners")


class ListenerLease:
    """One worker's lease; ``name`` is None until the session says what it consumes."""

    def __init__(self, repo: Repository, instance: str, seconds: float, process_id: str) -> None:
        self.repo = repo
        self.instance = instance
        self.seconds = seconds
        self.process_id = process_id  # for log lines
        self.name: str | None = None
        self.holding = False
        self._held_until = 0.0  # monotonic time until which the lease is surely ours
        self._lock = threading.Lock()  # serialises take / renew / release

    def take(self) -> bool:
        """Take or renew the lease now; True when it is ours. Repository errors propagate."""
        assert self.name is not None
        with self._lock:
            started = time.monotonic()
            try:
                ok = self.repo.acquire_lease(self.name, self.instance, self.seconds)
            except Exception:
                self.holding, self._held_until = False, 0.0
                raise
            was = self.holding
            self.holding = ok
            self._held_until = started + self.seconds if ok else 0.0
        if ok and not was:
            log.info("listener %s: took the lease %s", self.process_id, self.name)
        return ok

    def valid(self) -> bool:
        return self.holding and time.monotonic() < self._held_until

    def rename(self, name: str) -> None:
        """The session names another resource: let the old lease go first."""
        if self.name is not None and name != self.name:
            self.release()
        self.name = name

    def forget(self) -> None:
        """Release the lease and forget its name (the start shape now reads elsewhere)."""
        self.release()
        self.name = None

    def release(self) -> None:
        with self._lock:
            if self.holding and self.name is not None:
                try:
                    self.repo.release_lease(self.name, self.instance)
                except Exception as exc:  # noqa: BLE001 - it expires by itself
                    log.warning("listener %s: cannot release the lease: %s", self.process_id, describe(exc))
            self.holding, self._held_until = False, 0.0

    def renew(self, stopping: threading.Event) -> bool:
        """Renew a held lease (the keeper's beat); True when another serve took it."""
        lost = False
        with self._lock:
            if self.holding and self.name is not None and not stopping.is_set():
                started = time.monotonic()
                try:
                    if self.repo.acquire_lease(self.name, self.instance, self.seconds):
                        self._held_until = started + self.seconds
                    else:
                        self.holding, self._held_until, lost = False, 0.0, True
                except Exception as exc:  # noqa: BLE001 - the main loop retries and reports
                    log.warning("listener %s: cannot renew the lease: %s", self.process_id, describe(exc))
        if lost:
            log.warning("listener %s: lost the lease %s to another serve process", self.process_id, self.name)
        return lost
