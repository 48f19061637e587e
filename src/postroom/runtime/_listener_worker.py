"""One listener: :class:`ListenerWorker` runs one listening process in a thread (the
cycle is described in :mod:`._listener`); its lease is :class:`._listener_lease.ListenerLease`,
the context its session is opened with :class:`._listener_context.ListenerContext`."""

from __future__ import annotations

import itertools
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from ..errors import ExecutionStopped, Interrupted, PostroomError
from ..model import StartShape
from ..repository import ExecutionRecord, ListenerHealth, LogEntry, Repository
from ..sdk import ListeningSession, OperationSession
from ._listener_context import ListenerContext, describe
from ._listener_lease import ListenerLease
from ._listener_options import ListenerOptions, is_listener, utc_now
from ._ports import ListenerServices
from ._request import RunHooks, RunRequest

__all__ = ["ListenerWorker"]

log = logging.getLogger("postroom.listeners")


def lasting(exc: BaseException) -> bool:
    """Does waiting not mend this failure? A Postroom error that says it is not retryable
    (a refused login, a certificate that does not match, bad configuration, a folder the
    server refuses); not a stop, and not an unexpected exception (those are retried as
    usual). See docs/adr/0011-retryable-errors.md."""
    return (isinstance(exc, PostroomError) and not exc.retryable
            and not isinstance(exc, Interrupted | ExecutionStopped))


class _ExecutionFailed(Exception):
    """An execution of the listener's process failed; it has its own failed record."""


@dataclass(frozen=True)
class _Spec:
    version: int
    name: str
    start: str
    connection: str
    operation: str
    interval: float


# -- one listener -------------------------------------------------------------------------------------------
class ListenerWorker:
    """Runs one listening process in a thread; see the module doc for the cycle."""

    def __init__(self, repo: Repository, services: ListenerServices, process_id: str, options: ListenerOptions,
                 instance: str, node: str | None = None) -> None:
        self.repo = repo
        self.services = services
        self.process_id = process_id
        self.options = options
        self.instance = instance
        self._stop = threading.Event()
        self._lock = threading.Lock()  # guards health
        self.lease = ListenerLease(repo, instance, options.lease_seconds, process_id)
        self._spec: _Spec | None = None
        self._session: OperationSession | None = None
        self._context = ListenerContext(services, process_id)
        self._failure_execution: str | None = None
        self._failed_since: int | None = None  # the failure of this outage from which on it shows failed
        self.busy = False  # an execution is running
        self._woken = False  # the last IDLE wait ended with "new data may be there"
        self._spurious = 0  # wake-ups in a row that found nothing
        self._executed = False  # the last cycle ran a successful execution
        self.health = ListenerHealth(
            listener=process_id, instance=instance, state="starting", node=node or socket.gethostname(),
            started_at=utc_now(), details={"pid": os.getpid(), "heartbeat_seconds": options.heartbeat_seconds,
                                        "lease_seconds": options.lease_seconds, "holds_lease": False})
        self._thread = threading.Thread(target=self._run, name=f"listener {process_id}", daemon=True)
        self._keeper = threading.Thread(target=self._keep, name=f"listener {process_id} keeper", daemon=True)

    # -- control ---------------------------------------------------------------------------------------
    def start(self) -> None:
        self._save()
        self._keeper.start()
        self._thread.start()

    def stop(self) -> None:
        """Ask the worker to stop; a running execution finishes first."""
        self._stop.set()
        self._interrupt()

    def _interrupt(self) -> None:
        """End a wait for new data (IMAP IDLE) now, when the session can."""
        session = self._session
        if session is not None and not self.busy:
            try:
                session.interrupt()
            except Exception as exc:  # noqa: BLE001
                log.warning("listener %s: interrupting the wait failed: %s", self.process_id, describe(exc))

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)
        self._keeper.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def snapshot(self) -> ListenerHealth:
        with self._lock:
            return replace(self.health, details=dict(self.health.details))

    # -- the loop ----------------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                delay = self._cycle()
                if delay > 0:
                    self._stop.wait(delay)
        finally:
            self._stop.set()
            self._keeper.join(self.options.lease_seconds)  # its last heartbeat must not follow "stopped"
            self._close_session()
            self.lease.release()
            with self._lock:
                self.health.state = "stopped"
            self._save()
            log.info("listener %s: stopped", self.process_id)

    def _cycle(self) -> float:
        """One round; returns how long to wait before the next."""
        try:
            spec = self._load()
            if spec is None:
                log.info("listener %s: the process is gone or no longer starts with a listener", self.process_id)
                self._stop.set()
                return 0
            if self.lease.name is None:  # the lease name comes from the session's resource key
                self._open(spec)
            if not self.lease.take():
                self._close_session()
                self._set_state("standby")
                return self.options.heartbeat_seconds
            if self._session is None:
                self._open(spec)
            return self._poll(spec)
        except Exception as exc:  # noqa: BLE001 - every failure is reported and retried, never fatal
            return self._failed(exc)

    def _load(self) -> _Spec | None:
        record = self.repo.get_component(self.process_id)
        if record is None or record.type != "process" or not is_listener(record.body):
            return None
        if self._spec is not None and self._spec.version == record.version:
            return self._spec
        process = self.services.load_process(record)
        start = process.shapes[process.start]
        if not isinstance(start, StartShape):  # is_listener saw a start shape in listener mode
            return None
        spec = _Spec(record.version, process.name, process.start, start.connection or "", start.operation or "",
                     float(start.interval_seconds or self.options.default_interval_seconds))
        if self._spec is not None and (spec.connection, spec.operation, spec.start) != (
                self._spec.connection, self._spec.operation, self._spec.start):
            log.info("listener %s: connection or operation changed; reopening", self.process_id)
            self._close_session()
            self.lease.forget()
        self._spec = spec
        with self._lock:
            self.health.interval_seconds = spec.interval
        return spec

    def _open(self, spec: _Spec) -> None:
        """Open the start operation's session on the binding services resolves for the engine too."""
        binding = self.services.bind(self.process_id, spec.start, spec.connection, spec.operation)
        self._context.secrets = list(binding.secrets)
        session = binding.open(self._context)
        self._session = session
        key = session.resource_key()
        lease = f"listener:{key or self.process_id}"
        self.lease.rename(lease)
        with self._lock:
            self.health.resource = lease
            self.health.mode = "idle" if isinstance(session, ListeningSession) else "poll"

    def _poll(self, spec: _Spec) -> float:
        session = self._session
        assert session is not None  # opened by _cycle
        listening = session if isinstance(session, ListeningSession) else None
        idle = listening is not None
        documents: Iterator[Any] = iter(())
        # after an execution, a waiting session first asks whether mail came meanwhile: a
        # fetch would also bring what the session reads again on every fetch (mail held back
        # because its documents failed), and run it again and again
        if not (self._executed and listening is not None and not listening.wait_for_new(0)):
            documents = iter(session.fetch())
        self._executed = False
        first = next(documents, None)
        # a wake-up that brought nothing (wait_for_new said "maybe" and there was nothing)
        # must not turn into a busy loop: pace them (_spurious counts them in a row)
        if first is not None:
            self._spurious = 0
        elif self._woken:
            self._spurious += 1
        self._woken = False
        if first is not None:
            try:
                self._execute(spec, itertools.chain([first], documents))
            finally:
                self._close_session()
            self._executed = True
            # only now a success: a read or an execution that fails every time (a message
            # that breaks it) must count up to failed and back off, not look ok each cycle
            self._checked(spec)
            # IDLE: mail that came during the execution was not announced; look at once
            return 0 if idle else spec.interval
        self._checked(spec)
        # nothing new: still a successful look, so the session may move its watermark past
        # what it passed over (mail filtered out, a first run's baseline)
        session.commit()
        if listening is None:
            self._close_session()
            return spec.interval
        return self._wait(listening, spec)

    def _wait(self, listening: ListeningSession, spec: _Spec) -> float:
        """Wait on the session for new data, at most ``spec.interval``; 0: fetch now."""
        # IDLE: a session that can be interrupted (stop, lease lost) waits the whole interval
        # in one call; otherwise in chunks, so that a stop is never long in coming
        chunk = spec.interval if listening.interruptible else self.options.idle_chunk_seconds
        if self._spurious:
            pause = min(spec.interval, 0.5 * 2 ** min(self._spurious - 1, 16))
            if self._spurious == 3:
                log.info("listener %s: the session keeps announcing new data that is not there; "
                         "looking at most every %.1f s", self.process_id, pause)
            if self._stop.wait(pause):
                return 0
        deadline = time.monotonic() + spec.interval
        while not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.lease.valid():
                break
            if listening.wait_for_new(min(chunk, remaining)):
                self._woken = True
                break
        else:
            return 0
        if not self._woken:
            self._spurious = 0  # the wait blocked as it should
        return 0

    def _execute(self, spec: _Spec, documents: Iterable[Any]) -> None:
        request = self._request(spec.version)
        hooks = RunHooks(documents=documents, start_session=self._session, on_context=self._context.bind)
        self.busy = True
        try:
            record = self.services.run(request, hooks)
        finally:
            self.busy = False
            self._context.unbind()
        with self._lock:
            self.health.executions += 1
            self.health.last_execution_id = record.id
            if record.status != "failed":
                self.health.documents_taken += record.documents_in
        self._save()
        log.info("listener %s: execution %s %s: %d in, %d out, %d failed", self.process_id, record.id,
                 record.status, record.documents_in, record.documents_out, record.documents_failed)
        if record.status == "failed":
            raise _ExecutionFailed(f"execution {record.id} failed: {record.error or 'see its log'}")

    def _request(self, version: int | None) -> RunRequest:
        """What this listener's executions (and its failed-check records) say started them."""
        return RunRequest(process_id=self.process_id, process_version=version, trigger="listener",
                          listener=self.process_id, instance=self.instance)

    # -- health --------------------------------------------------------------------------------------------
    def _set_state(self, state: str) -> None:
        with self._lock:
            changed = self.health.state != state
            self.health.state = state
        if changed:
            log.info("listener %s: %s", self.process_id, state)
        self._save()

    def _checked(self, spec: _Spec) -> None:
        """The source answered: running, failures reset, an outage record closed."""
        with self._lock:
            failures = self.health.consecutive_failures
            self.health.consecutive_failures = 0
            self.health.last_check_at = utc_now()
        if self._failure_execution is not None:
            self._failure_log(self._failure_execution, "info",
                              f"listener recovered after {failures} failed check(s)")
            self._failure_execution = None
        self._failed_since = None
        if failures:
            log.info("listener %s: recovered after %d failed check(s)", self.process_id, failures)
        self._set_state("running")

    def _failed(self, exc: BaseException) -> float:
        """Count a failed check; how long to wait before the next. A failure that waiting
        does not mend (:func:`lasting`) shows as failed at once and is looked at again only
        at the longest backoff; the others back off exponentially and show as failed from
        ``failures_before_failed`` in a row on. Failed stays until a check succeeds."""
        message = self._context.scrub(describe(exc))
        with self._lock:
            self.health.consecutive_failures += 1
            attempt = self.health.consecutive_failures
            self.health.last_error = message
            self.health.last_error_at = utc_now()
        opts = self.options
        newly_failed = self._failed_since is None and (lasting(exc) or attempt >= opts.failures_before_failed)
        if newly_failed:
            self._failed_since = attempt
        steps = 30 if lasting(exc) else attempt - 1  # a lasting failure waits the longest at once
        delay = min(opts.backoff_max_seconds, opts.backoff_initial_seconds * 2 ** min(steps, 30))
        delay *= random.uniform(0.5, 1.0)
        log.warning("listener %s: %s (failure %d; next try in %.1f s)", self.process_id, message, attempt, delay)
        self._close_session()
        if not isinstance(exc, _ExecutionFailed):
            self._record_failure(message, attempt, delay)
        if newly_failed:
            self._record_failed(attempt, lasting(exc))
        self._set_state("failed" if self._failed_since is not None else "retrying")
        return delay

    def _record_failure(self, message: str, attempt: int, delay: float) -> None:
        """One failed execution per outage, one log line per failed check."""
        now = utc_now()
        spec = self._spec
        try:
            if self._failure_execution is None:
                execution_id = uuid.uuid4().hex
                self.repo.create_execution(ExecutionRecord(
                    id=execution_id, process_id=self.process_id, process_version=spec.version if spec else 0,
                    process_name=spec.name if spec else "", status="failed", mode="normal", started_at=now,
                    ended_at=now, error=f"listener: {message}", node=self.health.node,
                    request={**self._request(spec.version if spec else None).to_json(), "kind": "listener_check"}))
                self._failure_execution = execution_id
            else:
                self.repo.update_execution(self._failure_execution, ended_at=now, error=f"listener: {message}")
            self._failure_log(self._failure_execution, "error",
                              f"listener check failed ({attempt} in a row): {message}; next try in {delay:.1f} s")
        except Exception as exc:  # noqa: BLE001 - the repository itself may be what failed
            log.warning("listener %s: cannot record the failure: %s", self.process_id, describe(exc))

    def _record_failed(self, attempt: int, lasting: bool) -> None:
        """Say once per outage why the listener now shows as failed (the outage's record,
        when there is one: a failed execution of the process is its own record)."""
        every = f"{self.options.backoff_max_seconds:g}"
        if lasting:
            text = (f"the listener is failed: waiting does not mend this failure (fix the connection, the "
                    f"operation or the server account); it keeps checking at least every {every} s")
        else:
            text = (f"the listener is failed after {attempt} consecutive failed checks; it keeps retrying "
                    f"at least every {every} s")
        if self._failure_execution is not None:
            self._failure_log(self._failure_execution, "error", text)
        log.warning("listener %s: %s", self.process_id, text)

    def _failure_log(self, execution_id: str, level: str, message: str) -> None:
        try:
            self.repo.add_logs(execution_id, [LogEntry(utc_now(), level, message, None)])
        except Exception as exc:  # noqa: BLE001
            log.warning("listener %s: cannot record: %s", self.process_id, describe(exc))

    def _save(self) -> None:
        with self._lock:
            self.health.updated_at = utc_now()
            self.health.details["holds_lease"] = self.lease.holding
            row = replace(self.health, details=dict(self.health.details))
        try:
            self.repo.save_listener_health(row)
        except Exception as exc:  # noqa: BLE001 - health is best effort while the database is away
            log.warning("listener %s: cannot save health: %s", self.process_id, describe(exc))

    # -- lease ---------------------------------------------------------------------------------------------
    def _keep(self) -> None:
        """Renew a held lease and write the heartbeat, every lease_seconds / 3."""
        while not self._stop.wait(self.options.heartbeat_seconds):
            if self.lease.renew(self._stop):
                self._interrupt()
            self._save()

    def _close_session(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            try:
                session.close()
            except Exception as exc:  # noqa: BLE001
                log.warning("listener %s: closing the session failed: %s", self.process_id,
                            self._context.scrub(describe(exc)))

