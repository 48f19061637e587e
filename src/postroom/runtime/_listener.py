"""Listeners: processes whose start shape is ``mode: listener``, run by ``postroom serve``.

One worker thread per listening process. Each cycle it

1. reloads the process (a re-import takes effect at the next cycle; a process that is
   deleted or no longer a listener ends its worker),
2. takes (or renews) the lease ``listener:<resource key>`` in the repository, where the
   resource key is what the start operation's session says it consumes
   (``session.resource_key()``: a mailbox such as ``imap://user@host:993/INBOX``, a
   folder) or else the process id. Without the lease it stands by and tries again every
   ``lease_seconds / 3``: two ``serve`` processes on one database never both consume one
   mailbox. A keeper thread renews the lease every ``lease_seconds / 3`` (also while an
   execution runs) and writes the heartbeat,
3. asks the session for documents (``fetch()``). None: no execution, only the health
   is updated. Some: one execution of the process with them; the execution commits the
   session after success (``RunHooks.start_session``), so a message is deleted, moved
   or marked only once its documents are stored,
4. waits: ``wait_for_new(timeout)`` when the session offers it (IMAP IDLE; right after an
   execution a ``wait_for_new(0)`` first, so that only new mail starts the next one), in chunks so
   that a stop is quick, fetching again at the latest after ``interval_seconds``;
   otherwise it closes the session and sleeps ``interval_seconds`` (a new session per
   poll: a POP3 mailbox only shows new mail to a new login).

A failure (server down, a dropped session, a failed execution) closes the session and
retries after an exponential backoff with jitter, capped at ``backoff_max_seconds``. A
cycle counts as a success only once its execution has succeeded (or when there was
nothing new): a read that fetches a first document and then fails every time, or an
execution that fails every time on the same message, counts up to ``failed`` and backs
off like a server that is down. The state is ``retrying``, then ``failed`` from
``failures_before_failed`` consecutive failures on, and the worker keeps retrying: a
listener never ends by itself. A failure that waiting does not mend (an error that is not
``retryable``: a refused login, bad configuration) is ``failed`` at once and retried only
at ``backoff_max_seconds`` (docs/adr/0011-retryable-errors.md). Failed checks are also
written to the execution records: one failed execution per outage (its error the latest
one, one log line per failed check, a line when it turns failed, and a last line when the
listener recovers); a failed execution of the process is its own record already.

Where each part lives: the options, which processes are listeners and the report
(``_listener_options.py``); the context a session is opened with (``_listener_context.py``);
the lease (``_listener_lease.py``); one worker (``_listener_worker.py``); and here all the
workers of one serve process (:class:`ListenerRuntime`), re-exporting what others import.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import timedelta
from typing import Any

from ..repository import ListenerHealth, Repository
from ._listener_context import describe
from ._listener_options import STATES, ListenerOptions, listener_processes, listener_report, utc_now
from ._listener_worker import ListenerWorker
from ._ports import ListenerServices

__all__ = [
    "STATES",
    "ListenerOptions",
    "ListenerRuntime",
    "ListenerWorker",
    "listener_processes",
    "listener_report",
]

log = logging.getLogger("postroom.listeners")


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


# -- all listeners of one serve process ------------------------------------------------------------------
class ListenerRuntime:
    """Starts a worker for every listener process, follows imports and deletions, and
    stops them all (each finishing its running execution and releasing its lease)."""

    def __init__(self, repo: Repository, services: ListenerServices, options: ListenerOptions | None = None,
                 instance: str | None = None) -> None:
        self.repo = repo
        self.services = services
        self.options = options or ListenerOptions()
        self.options.check()
        self.node = socket.gethostname()
        self.instance = instance or f"{self.node}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._workers: dict[str, ListenerWorker] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._scanner = threading.Thread(target=self._scan_loop, name="listener scanner", daemon=True)

    def start(self) -> None:
        self._prune()
        self._scan()
        self._scanner.start()

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        if self._scanner.is_alive():
            self._scanner.join(timeout)
        with self._lock:
            workers = list(self._workers.values())
        for worker in workers:
            worker.stop()
        for worker in workers:
            if worker.busy:
                log.info("listener %s: waiting for its execution to finish", worker.process_id)
            worker.join(timeout)

    def health(self) -> list[ListenerHealth]:
        with self._lock:
            workers = list(self._workers.values())
        return [w.snapshot() for w in sorted(workers, key=lambda w: w.process_id)]

    def _prune(self) -> None:
        """Forget rows silent for a day, and those of this host's earlier serve processes
        that stopped or are no longer alive (a live one writes its row again anyway)."""
        try:
            self.repo.delete_listener_health(updated_before=utc_now() - timedelta(days=1))
            for h in self.repo.list_listener_health():
                if h.node != self.node or h.instance == self.instance:
                    continue
                if h.state == "stopped" or not _alive(h.details.get("pid")):
                    self.repo.delete_listener_health(listener=h.listener, instance=h.instance)
        except Exception as exc:  # noqa: BLE001
            log.warning("cannot tidy listener health: %s", describe(exc))

    def _scan_loop(self) -> None:
        while not self._stop.wait(self.options.rescan_seconds):
            self._scan()

    def _scan(self) -> None:
        try:
            wanted = listener_processes(self.repo)
        except Exception as exc:  # noqa: BLE001 - the database may be away; try again later
            log.warning("cannot look for listener processes: %s", describe(exc))
            return
        with self._lock:
            if self._stop.is_set():
                return
            for process_id, worker in list(self._workers.items()):
                if not worker.alive:
                    del self._workers[process_id]
                elif process_id not in wanted:
                    worker.stop()
            for process_id in sorted(wanted):
                if process_id not in self._workers:
                    worker = ListenerWorker(self.repo, self.services, process_id, self.options, self.instance, self.node)
                    self._workers[process_id] = worker
                    log.info("listener %s: starting", process_id)
                    worker.start()
