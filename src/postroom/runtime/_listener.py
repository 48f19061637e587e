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

A failure (server down, refused login, missing folder, a failed execution) closes the
session and retries after an exponential backoff with jitter, capped at
``backoff_max_seconds``. A cycle counts as a success only once its execution has
succeeded (or when there was nothing new): a read that fetches a first document and
then fails every time, or an execution that fails every time on the same message,
counts up to ``failed`` and backs off like a server that is down. The state is ``retrying``, then ``failed`` from
``failures_before_failed`` consecutive failures on, and the worker keeps retrying: a
listener never ends by itself. Failed checks are also written to the execution records:
one failed execution per outage (its error the latest one, one log line per failed
check, and a last line when the listener recovers); a failed execution of the process
is its own record already.
"""

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
from datetime import UTC, datetime, timedelta
from typing import Any

from ..errors import ConfigError, PostroomError
from ..model import StartShape
from ..repository import ComponentRecord, ExecutionRecord, ListenerHealth, LogEntry, Repository
from ..sdk import Journal, ListeningSession, OperationSession, WatermarkStore
from ._ports import ListenerServices
from ._request import RunHooks, RunRequest

__all__ = [
    "STATES",
    "ListenerOptions",
    "ListenerRuntime",
    "ListenerWorker",
    "listener_processes",
    "listener_report",
]

STATES = ("starting", "running", "standby", "retrying", "failed", "stopped")

log = logging.getLogger("postroom.listeners")


@dataclass
class ListenerOptions:
    """How every listener of one ``serve`` process behaves."""

    lease_seconds: float = 60.0
    failures_before_failed: int = 5
    backoff_initial_seconds: float = 1.0
    backoff_max_seconds: float = 300.0
    default_interval_seconds: float = 30.0
    idle_chunk_seconds: float = 10.0  # longest single IDLE wait: bounds how long a stop takes
    rescan_seconds: float = 15.0  # how often serve looks for new or removed listener processes

    @property
    def heartbeat_seconds(self) -> float:
        return self.lease_seconds / 3

    def check(self) -> None:
        if self.lease_seconds <= 0:
            raise ConfigError("the lease must last more than 0 seconds", field="--lease-seconds")
        if self.failures_before_failed < 1:
            raise ConfigError("failures before failed must be at least 1", field="--failures-before-failed")
        if self.backoff_initial_seconds <= 0 or self.backoff_max_seconds < self.backoff_initial_seconds:
            raise ConfigError("the backoff must start above 0 and be capped at no less than its start",
                              field="--max-backoff")


def _now() -> datetime:
    return datetime.now(UTC)


def _is_listener(body: dict[str, Any]) -> bool:
    shapes = body.get("shapes") or {}
    start = shapes.get(body.get("start") or "") if isinstance(shapes, dict) else None
    return isinstance(start, dict) and start.get("mode") == "listener"


def listener_processes(repo: Repository) -> dict[str, ComponentRecord]:
    """Latest version of every process whose start shape is a listener, by id."""
    return {r.id: r for r in repo.list_components(type="process") if _is_listener(r.body)}


def listener_report(repo: Repository, now: datetime | None = None) -> list[dict[str, Any]]:
    """What ``postroom listeners list`` and ``GET /api/listeners`` show: every health row
    (one per listener and serve process) and, for a listener process no serve has run,
    a row in state ``not_running``. ``stale`` is true when a row that is not stopped has
    missed three heartbeats: its serve process is gone or hung."""
    now = now or _now()
    processes = listener_processes(repo)
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for h in repo.list_listener_health():
        seen.add(h.listener)
        beat = float(h.details.get("heartbeat_seconds") or 20.0)
        stale = (h.state != "stopped" and h.updated_at is not None
                 and now - h.updated_at > timedelta(seconds=3 * beat + 5))
        rows.append({
            "listener": h.listener, "process_name": processes[h.listener].name if h.listener in processes else "",
            "defined": h.listener in processes, "instance": h.instance, "node": h.node, "pid": h.details.get("pid"),
            "state": h.state, "stale": stale, "holds_lease": bool(h.details.get("holds_lease")),
            "resource": h.resource, "mode": h.mode, "interval_seconds": h.interval_seconds,
            "started_at": h.started_at, "updated_at": h.updated_at, "last_check_at": h.last_check_at,
            "last_error": h.last_error, "last_error_at": h.last_error_at,
            "consecutive_failures": h.consecutive_failures, "documents_taken": h.documents_taken,
            "executions": h.executions, "last_execution_id": h.last_execution_id,
        })
    for pid, record in sorted(processes.items()):
        if pid not in seen:
            rows.append({"listener": pid, "process_name": record.name, "defined": True, "instance": None,
                         "node": None, "pid": None, "state": "not_running", "stale": False, "holds_lease": False,
                         "resource": "", "mode": "", "interval_seconds": None, "started_at": None,
                         "updated_at": None, "last_check_at": None, "last_error": None, "last_error_at": None,
                         "consecutive_failures": 0, "documents_taken": 0, "executions": 0,
                         "last_execution_id": None})
    rows.sort(key=lambda r: (r["listener"], r["instance"] or ""))
    return rows


# -- the context a listener's session is opened with -------------------------------------------------
class _RouteHandler(logging.Handler):
    """A session's log lines: into the execution while one runs, else to serve's log."""

    def __init__(self, context: _ListenerContext) -> None:
        super().__init__(logging.DEBUG)
        self.context = context

    def emit(self, record: logging.LogRecord) -> None:
        ctx = self.context
        message = ctx.scrub(record.getMessage())
        if ctx.bound is not None:
            level = ("error" if record.levelno >= logging.ERROR
                     else "warning" if record.levelno >= logging.WARNING else "info")
            ctx.bound.log_line(level, message, getattr(record, "shape", None))
        else:
            log.log(record.levelno, "listener %s: %s", ctx.process_id, message)


class _ListenerContext:
    """The RunContext (sdk) of a session a listener opens before any execution exists.
    While an execution runs on the session it forwards to that execution's context."""

    dry_run = False

    def __init__(self, services: ListenerServices, process_id: str) -> None:
        self.process_id = process_id
        self._services = services
        self.bound: Any = None  # the ExecutionContext of the running execution
        self.secrets: list[str] = []
        self.log = logging.Logger(f"postroom.listener.{process_id}")
        self.log.addHandler(_RouteHandler(self))
        self.log.propagate = False

    @property
    def execution_id(self) -> str:
        return self.bound.execution_id if self.bound is not None else ""

    def bind(self, execution_context: Any) -> None:
        self.bound = execution_context

    def unbind(self) -> None:
        self.bound = None

    def scrub(self, text: str) -> str:
        return _scrub(text, self.secrets)

    def record_dry_run(self, shape_id: str, document: Any, action: str, payload: Any) -> None:
        if self.bound is not None:
            self.bound.record_dry_run(shape_id, document, action, payload)

    def journal(self) -> Journal:
        if self.bound is None:  # a send journal belongs to an execution; a listener opens only gets
            raise RuntimeError("the send journal exists only while an execution runs")
        journal: Journal = self.bound.journal()
        return journal

    def watermarks(self) -> WatermarkStore:
        if self.bound is not None:
            store: WatermarkStore = self.bound.watermarks()
            return store
        return self._services.watermarks()

    def stop_requested(self) -> bool:
        return bool(self.bound.stop_requested()) if self.bound is not None else False

    def value(self, source: Any, document: Any) -> str:
        if self.bound is None:  # value sources are resolved for a document of an execution
            raise RuntimeError("value sources are resolved only while an execution runs")
        return str(self.bound.value(source, document))


def _scrub(text: str, secrets: Iterable[str]) -> str:
    for value in sorted(secrets, key=len, reverse=True):
        if value and len(value) >= 3:
            text = text.replace(value, "***")
    return text


def _describe(exc: BaseException) -> str:
    if isinstance(exc, PostroomError):
        return str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        return f"{type(exc).__name__}: {exc.strerror}"
    return f"{type(exc).__name__}: {exc}"


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
        self._lease_lock = threading.Lock()  # serialises take / renew / release of the lease
        self._lease: str | None = None
        self._holding = False
        self._held_until = 0.0  # monotonic time until which the lease is surely ours
        self._spec: _Spec | None = None
        self._session: OperationSession | None = None
        self._context = _ListenerContext(services, process_id)
        self._failure_execution: str | None = None
        self.busy = False  # an execution is running
        self._woken = False  # the last IDLE wait ended with "new data may be there"
        self._spurious = 0  # wake-ups in a row that found nothing
        self._executed = False  # the last cycle ran a successful execution
        self.health = ListenerHealth(
            listener=process_id, instance=instance, state="starting", node=node or socket.gethostname(),
            started_at=_now(), details={"pid": os.getpid(), "heartbeat_seconds": options.heartbeat_seconds,
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
                log.warning("listener %s: interrupting the wait failed: %s", self.process_id, _describe(exc))

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
            self._release_lease()
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
            if self._lease is None:  # the lease name comes from the session's resource key
                self._open(spec)
            if not self._take_lease():
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
        if record is None or record.type != "process" or not _is_listener(record.body):
            return None
        if self._spec is not None and self._spec.version == record.version:
            return self._spec
        process = self.services.load_process(record)
        start = process.shapes[process.start]
        if not isinstance(start, StartShape):  # _is_listener saw a start shape in listener mode
            return None
        spec = _Spec(record.version, process.name, process.start, start.connection or "", start.operation or "",
                     float(start.interval_seconds or self.options.default_interval_seconds))
        if self._spec is not None and (spec.connection, spec.operation, spec.start) != (
                self._spec.connection, self._spec.operation, self._spec.start):
            log.info("listener %s: connection or operation changed; reopening", self.process_id)
            self._close_session()
            self._release_lease()
            self._lease = None
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
        if self._lease is not None and lease != self._lease:
            self._release_lease()
        self._lease = lease
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
            if remaining <= 0 or not self._lease_valid():
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
            self.health.last_check_at = _now()
        if self._failure_execution is not None:
            self._failure_log(self._failure_execution, "info",
                              f"listener recovered after {failures} failed check(s)")
            self._failure_execution = None
        if failures:
            log.info("listener %s: recovered after %d failed check(s)", self.process_id, failures)
        self._set_state("running")

    def _failed(self, exc: BaseException) -> float:
        message = self._context.scrub(_describe(exc))
        with self._lock:
            self.health.consecutive_failures += 1
            attempt = self.health.consecutive_failures
            self.health.last_error = message
            self.health.last_error_at = _now()
        threshold = self.options.failures_before_failed
        state = "failed" if attempt >= threshold else "retrying"
        delay = min(self.options.backoff_max_seconds, self.options.backoff_initial_seconds * 2 ** min(attempt - 1, 30))
        delay *= random.uniform(0.5, 1.0)
        log.warning("listener %s: %s (failure %d; next try in %.1f s)", self.process_id, message, attempt, delay)
        self._close_session()
        if not isinstance(exc, _ExecutionFailed):
            self._record_failure(message, attempt, delay)
        self._set_state(state)
        return delay

    def _record_failure(self, message: str, attempt: int, delay: float) -> None:
        """One failed execution per outage, one log line per failed check."""
        now = _now()
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
            if attempt == self.options.failures_before_failed:
                self._failure_log(self._failure_execution, "error", (
                    f"the listener is failed after {attempt} consecutive failed checks; it keeps retrying "
                    f"at least every {self.options.backoff_max_seconds:g} s"))
        except Exception as exc:  # noqa: BLE001 - the repository itself may be what failed
            log.warning("listener %s: cannot record the failure: %s", self.process_id, _describe(exc))

    def _failure_log(self, execution_id: str, level: str, message: str) -> None:
        try:
            self.repo.add_logs(execution_id, [LogEntry(_now(), level, message, None)])
        except Exception as exc:  # noqa: BLE001
            log.warning("listener %s: cannot record: %s", self.process_id, _describe(exc))

    def _save(self) -> None:
        with self._lock:
            self.health.updated_at = _now()
            self.health.details["holds_lease"] = self._holding
            row = replace(self.health, details=dict(self.health.details))
        try:
            self.repo.save_listener_health(row)
        except Exception as exc:  # noqa: BLE001 - health is best effort while the database is away
            log.warning("listener %s: cannot save health: %s", self.process_id, _describe(exc))

    # -- lease ---------------------------------------------------------------------------------------------
    def _take_lease(self) -> bool:
        assert self._lease is not None
        with self._lease_lock:
            started = time.monotonic()
            try:
                ok = self.repo.acquire_lease(self._lease, self.instance, self.options.lease_seconds)
            except Exception:
                self._holding, self._held_until = False, 0.0
                raise
            was = self._holding
            self._holding = ok
            self._held_until = started + self.options.lease_seconds if ok else 0.0
        if ok and not was:
            log.info("listener %s: took the lease %s", self.process_id, self._lease)
        return ok

    def _lease_valid(self) -> bool:
        return self._holding and time.monotonic() < self._held_until

    def _release_lease(self) -> None:
        with self._lease_lock:
            if self._holding and self._lease is not None:
                try:
                    self.repo.release_lease(self._lease, self.instance)
                except Exception as exc:  # noqa: BLE001 - it expires by itself
                    log.warning("listener %s: cannot release the lease: %s", self.process_id, _describe(exc))
            self._holding, self._held_until = False, 0.0

    def _keep(self) -> None:
        """Renew a held lease and write the heartbeat, every lease_seconds / 3."""
        while not self._stop.wait(self.options.heartbeat_seconds):
            lost = False
            with self._lease_lock:
                if self._holding and self._lease is not None and not self._stop.is_set():
                    started = time.monotonic()
                    try:
                        if self.repo.acquire_lease(self._lease, self.instance, self.options.lease_seconds):
                            self._held_until = started + self.options.lease_seconds
                        else:
                            self._holding, self._held_until, lost = False, 0.0, True
                    except Exception as exc:  # noqa: BLE001 - the main loop retries and reports
                        log.warning("listener %s: cannot renew the lease: %s", self.process_id, _describe(exc))
            if lost:
                log.warning("listener %s: lost the lease %s to another serve process", self.process_id, self._lease)
                self._interrupt()
            self._save()

    def _close_session(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            try:
                session.close()
            except Exception as exc:  # noqa: BLE001
                log.warning("listener %s: closing the session failed: %s", self.process_id,
                            self._context.scrub(_describe(exc)))


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
            self.repo.delete_listener_health(updated_before=_now() - timedelta(days=1))
            for h in self.repo.list_listener_health():
                if h.node != self.node or h.instance == self.instance:
                    continue
                if h.state == "stopped" or not _alive(h.details.get("pid")):
                    self.repo.delete_listener_health(listener=h.listener, instance=h.instance)
        except Exception as exc:  # noqa: BLE001
            log.warning("cannot tidy listener health: %s", _describe(exc))

    def _scan_loop(self) -> None:
        while not self._stop.wait(self.options.rescan_seconds):
            self._scan()

    def _scan(self) -> None:
        try:
            wanted = listener_processes(self.repo)
        except Exception as exc:  # noqa: BLE001 - the database may be away; try again later
            log.warning("cannot look for listener processes: %s", _describe(exc))
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
