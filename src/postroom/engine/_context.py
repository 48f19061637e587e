"""The execution context: what every shape and connector sees during one run."""

from __future__ import annotations

import itertools
import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import ConfigError, Interrupted
from ..model import Component, Process, Profile, parse_source
from ..sdk import Document, OperationSession, RateLimit
from ..sdk.testing import MemoryJournal, MemorySentMail, MemoryWatermarks
from ._values import resolve

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["UnitDispatcher", "ExecutionContext", "Recorder", "MemoryRecorder", "TryScope", "Catch", "Limits", "StopFlag", "CallFrame"]


class Recorder(Protocol):
    """Where an execution's record goes (the services layer backs it with the repository)."""

    def log(self, level: str, message: str, shape: str | None) -> None: ...
    def document_error(self, shape: str, document: int, message: str) -> None: ...
    def shape_document(self, shape: str, document: Document, seq: int) -> None: ...
    def dry_run(self, shape: str, document: int, action: str, payload: bytes) -> None: ...
    def journal(self, scope: str | None = None) -> Any: ...
    def watermarks(self) -> Any: ...
    def sent_mail(self) -> Any: ...
    def flush(self) -> None: ...


@dataclass
class Limits:
    """Test-mode and dry-run record limits (SEMANTICS: keeps at most N, says when it cuts)."""

    documents_per_shape: int = 100
    bytes_total: int = 10 * 1024 * 1024
    dry_runs: int = 1000


class MemoryRecorder:
    """Keeps the record in lists; used by tests and by ``run_process`` without a repository."""

    def __init__(self) -> None:
        self.logs: list[tuple[str, str, str | None]] = []
        self.errors: list[tuple[str, int, str]] = []
        self.shape_documents: list[tuple[str, int, Document]] = []
        self.dry_runs: list[tuple[str, int, str, bytes]] = []
        self._journal = MemoryJournal()
        self._scoped: dict[str, MemoryJournal] = {}
        self._watermarks = MemoryWatermarks()
        self._sent = MemorySentMail({"": self._journal})

    def log(self, level: str, message: str, shape: str | None) -> None:
        self.logs.append((level, message, shape))

    def document_error(self, shape: str, document: int, message: str) -> None:
        self.errors.append((shape, document, message))

    def shape_document(self, shape: str, document: Document, seq: int) -> None:
        self.shape_documents.append((shape, seq, document.copy()))

    def dry_run(self, shape: str, document: int, action: str, payload: bytes) -> None:
        self.dry_runs.append((shape, document, action, payload))

    def journal(self, scope: str | None = None) -> Any:
        return self._journal if scope is None else self._scoped.setdefault(scope, MemoryJournal())

    def watermarks(self) -> Any:
        return self._watermarks

    def sent_mail(self) -> Any:
        return self._sent

    def flush(self) -> None:
        pass


class StopFlag:
    """Asks an execution to stop where it can do so cleanly (between batches of documents;
    a sending connector, between emails). Safe to set from a signal handler or another
    thread: it only assigns attributes."""

    def __init__(self) -> None:
        self.requested = False
        self.reason = ""
        self.exit_code = 130

    def request(self, reason: str, exit_code: int = 130) -> None:
        """The first request wins (its reason and exit code are the ones reported)."""
        if not self.requested:
            self.reason, self.exit_code = reason, exit_code
            self.requested = True


class TryScope:
    def __init__(self, shape_id: str, trigger: str) -> None:
        self.shape_id = shape_id
        self.trigger = trigger
        self.failed: list[tuple[Document, str]] = []


class Catch:
    """Marks a document inside a Try path: where its failure goes, and what it was."""

    __slots__ = ("scope", "original")

    def __init__(self, scope: TryScope, original: Document) -> None:
        self.scope = scope
        self.original = original


class CallFrame:
    """One run of a called process (Process Call): the documents that failed inside it, counted
    by the threads that run it (a Flow Control inside the child adds lanes, which inherit it)."""

    def __init__(self, name: str, counted: bool = True, profile: str | None = None) -> None:
        self.name = name
        self.profile = profile  # the called process's default profile (profile_element)
        self.counted = counted  # False: a call not waited for; its documents are copies, not counted out
        self.failed = 0
        self.first_error = ""


class _RecorderHandler(logging.Handler):
    def __init__(self, context: ExecutionContext) -> None:
        super().__init__(logging.INFO)
        self.context = context

    def emit(self, record: logging.LogRecord) -> None:
        level = "error" if record.levelno >= logging.ERROR else "warning" if record.levelno >= logging.WARNING else "info"
        self.context.log_line(level, record.getMessage(), getattr(record, "shape", None))


class UnitDispatcher(Protocol):
    """Runs the units of a ``parallel`` Flow Control elsewhere (the distributed workers):
    each unit runs the rest of the path from ``target``; at most ``parallel`` at once. It
    returns when every unit ended, with their counts added to ``ctx``, and raises the first
    error a unit ended with (as the threads do)."""

    def run_units(self, ctx: ExecutionContext, shape_id: str, target: str, parallel: int,
                  work: Iterator[list[Document]]) -> None: ...


@dataclass
class ExecutionContext:
    process: Process
    execution_id: str
    components: Callable[[str], Component | None]
    #: opens a session of ``(shape_id, connection_id, operation_id)`` for this context: the
    #: services layer resolves the binding (connector, settings, secrets) in one place
    open_session: Callable[[str, str, str, ExecutionContext], OperationSession]
    recorder: Recorder = field(default_factory=MemoryRecorder)
    process_version: int = 0
    dry_run: bool = False
    test_mode: bool = False
    limits: Limits = field(default_factory=Limits)
    batch_size: int = 1000
    process_properties: dict[str, str] = field(default_factory=dict)
    dynamic_process_properties: dict[str, str] = field(default_factory=dict)
    node: str = field(default_factory=socket.gethostname)
    progress: Callable[[ExecutionContext], None] | None = None
    start_time: datetime = field(default_factory=lambda: datetime.now(UTC))
    stop: StopFlag = field(default_factory=StopFlag)
    #: ``(key, per_minute)`` → the rate limit shared by every process of the runtime (the
    #: services layer gives one when a broker is set), or None: connectors keep their own
    rate_limits: Callable[[str, int], RateLimit | None] | None = None
    #: set by the services layer on the workers: where a parallel Flow Control's units go
    unit_dispatcher: UnitDispatcher | None = None

    # counters and state
    documents_in: int = 0
    documents_out: int = 0
    documents_failed: int = 0
    connector_failures: int = 0
    #: per connector shape (not the start): documents it completed and failed
    connector_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    #: per shape entered: [documents in, documents out, documents failed] (live progress)
    shape_counts: dict[str, list[int]] = field(default_factory=dict)
    return_requested: bool = False
    skipped_by_return: int = 0
    persist_names: set[str] = field(default_factory=set)
    _seq: int = 0
    _recorded_per_shape: dict[str, int] = field(default_factory=dict)
    _recorded_bytes: int = 0
    #: numbers the dry-run records: ``next`` on a count is one step under the GIL, no lock needed
    _dry_runs: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    truncated: bool = False
    _sessions: dict[str, OperationSession] = field(default_factory=dict)
    _adopted: set[str] = field(default_factory=set)
    _last_progress: float = 0.0
    _counts_connectors: bool = False
    _delivered: bytearray = field(default_factory=bytearray)  # by document number: counted out
    #: guards the counters, the record and the sessions: Flow Control lanes and Process Calls
    #: that do not wait run shapes in other threads of the same execution
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _session_locks: dict[str, threading.Lock] = field(default_factory=dict)
    _local: threading.local = field(default_factory=threading.local)
    _background: list[threading.Thread] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.process_id = self.process.id
        self.log = logging.Logger(f"postroom.execution.{self.execution_id}")
        self.log.addHandler(_RecorderHandler(self))
        self.log.propagate = False
        self._counts_connectors = any(shape.type == "connector" and shape_id != self.process.start
                                      for shape_id, shape in self.process.shapes.items())

    # -- stopping ----------------------------------------------------------------------
    def stop_requested(self) -> bool:
        """True once the execution was asked to stop (RunContext: a connector sending
        many documents takes no new one after this, and raises Interrupted)."""
        return self.stop.requested

    def check_stop(self) -> None:
        """Raise :class:`Interrupted` when a stop was asked for."""
        if self.stop.requested:
            raise self.interrupted()

    def interrupted(self) -> Interrupted:
        """The error a stopped execution reports: why, and how to continue it."""
        error = Interrupted(self.stop.reason or "stop requested", fix=f"postroom executions resume "
                            f"{self.execution_id} continues it; what was sent is not sent again")
        error.exit_code = self.stop.exit_code
        return error

    # -- documents out -------------------------------------------------------------------
    def path_end(self, count: int) -> None:
        """Documents reached the end of a path: they are out when the process has no
        connector shape besides its start."""
        if not self._counts_connectors and all(frame.counted for frame in self.frames()):
            with self._lock:
                self.documents_out += count

    def count_in(self, count: int) -> None:
        with self._lock:
            self.documents_in += count

    def skip_by_return(self, count: int) -> None:
        """Documents an end-and-return stop kept from running."""
        with self._lock:
            self.skipped_by_return += count
    def connector_done(self, shape_id: str, docs: list[Document], failed: int) -> None:
        """A connector shape (not the start) completed ``docs`` and failed ``failed`` documents.
        Documents out counts each document once, however many connector shapes it passed."""
        with self._lock:
            self._connector_done(shape_id, docs, failed)

    def _connector_done(self, shape_id: str, docs: list[Document], failed: int) -> None:
        counts = self.connector_counts.setdefault(shape_id, {"completed": 0, "failed": 0})
        counts["completed"] += len(docs)
        counts["failed"] += failed
        if not self._counts_connectors:
            return
        seen = self._delivered
        for doc in docs:
            seq = doc.seq
            if seq < 0:  # a new document a connector returned (a response, a row): numbered now,
                self._seq += 1  # so that a later connector shape does not count it out again
                doc.seq = seq = self._seq
            if seq >= len(seen):
                seen.extend(bytes(max(seq + 1 - len(seen), len(seen))))
            if not seen[seq]:
                seen[seq] = 1
                self.documents_out += 1

    def shape_entered(self, shape_id: str, count: int) -> None:
        """``count`` documents entered a shape; its first batch is reported at once."""
        counts = self.shape_counts.get(shape_id)
        if counts is None:
            counts = self.shape_counts[shape_id] = [0, 0, 0]
            self._last_progress = 0.0  # a shape reached: tell the watchers now
        counts[0] += count

    def shape_left(self, shape_id: str, count: int) -> None:
        """``count`` documents left a shape by one of its outlets."""
        self.shape_counts.setdefault(shape_id, [0, 0, 0])[1] += count

    # -- records ---------------------------------------------------------------------
    def log_line(self, level: str, message: str, shape: str | None = None) -> None:
        with self._lock:
            self.recorder.log(level, message, shape)

    def next_seq(self) -> int:
        with self._lock:
            self._seq += 1
            return self._seq

    def number(self, docs: list[Document]) -> None:
        """Give the documents not numbered yet (new ones: a split's) their numbers, in order."""
        with self._lock:
            seq = self._seq
            for doc in docs:
                if doc.seq < 0:
                    seq += 1
                    doc.seq = seq
            self._seq = seq

    def record_entry(self, shape_id: str, docs: list[Document]) -> None:
        """Test mode: keep the documents entering a shape, within the limits."""
        with self._lock:
            self._record_entry(shape_id, docs)

    def _record_entry(self, shape_id: str, docs: list[Document]) -> None:
        count = self._recorded_per_shape.get(shape_id, 0)
        for doc in docs:
            if count >= self.limits.documents_per_shape or self._recorded_bytes + doc.size > self.limits.bytes_total:
                if not self.truncated:
                    self.truncated = True
                    self.log_line("warning", (
                        f"test mode keeps at most {self.limits.documents_per_shape} documents per shape and "
                        f"{self.limits.bytes_total} bytes in all; later documents are not kept"), shape_id)
                break
            count += 1
            self._recorded_bytes += doc.size
            self.recorder.shape_document(shape_id, doc, count)
        self._recorded_per_shape[shape_id] = count

    def record_dry_run(self, shape_id: str, document: Document, action: str,
                       payload: bytes | str | Callable[[], bytes | str]) -> None:
        """``payload``: bytes, text, or a function returning them (built only when kept)."""
        number = next(self._dry_runs)
        if number > self.limits.dry_runs:
            if number == self.limits.dry_runs + 1:
                self.log_line("warning", f"dry run keeps the first {self.limits.dry_runs} side effects; "
                              "later ones are counted, not kept", shape_id)
            return
        if callable(payload):
            payload = payload()
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        with self._lock:
            self.recorder.dry_run(shape_id, document.seq, action, payload)

    def journal(self, scope: str | None = None) -> Any:
        """RunContext: the execution's journal, or a scope's (shared by the scope's executions)."""
        return self.recorder.journal() if scope is None else self.recorder.journal(scope)

    def value(self, source: str | Mapping[str, str], document: Document) -> str:
        """RunContext: a value source written in a connector's setting, for one document."""
        return resolve(parse_source(dict(source) if isinstance(source, Mapping) else source), document, self)

    def watermarks(self) -> Any:
        return self.recorder.watermarks()

    def shared_rate_limit(self, key: str, per_minute: int) -> RateLimit | None:
        """RunContext: the rate limit shared across processes for ``key``, or None."""
        return self.rate_limits(key, per_minute) if self.rate_limits is not None else None

    def sent_mail(self) -> Any:
        """RunContext: letters sent by any execution, and the reports about them."""
        return self.recorder.sent_mail()

    def fail(self, doc: Document, shape_id: str, message: str, *, process_error: bool = False,
             connector_error: bool = False) -> None:
        """A document failed: to its Try/Catch when inside one, else into the record."""
        self.shape_counts.setdefault(shape_id, [0, 0, 0])[2] += 1
        origin = doc.origin
        if isinstance(origin, Catch) and (not process_error or origin.scope.trigger == "all_errors"):
            origin.scope.failed.append((origin.original, message))
            return
        with self._lock:
            self.documents_failed += 1
            if connector_error:
                self.connector_failures += 1
            for frame in self.frames():
                frame.failed += 1
                frame.first_error = frame.first_error or f"document {doc.seq} at {shape_id}: {message}"
            self.recorder.document_error(shape_id, doc.seq, message)
            self.log_line("error", f"document {doc.seq} failed: {message}", shape_id)
            sessions = list(self._sessions.values())
        for session in sessions:
            session.document_failed(doc)

    def catches_all(self, doc: Document) -> bool:
        """Is the document inside a Try/Catch whose failure_trigger is all_errors?"""
        origin = doc.origin
        return isinstance(origin, Catch) and origin.scope.trigger == "all_errors"

    def tick(self) -> None:
        if self.progress is not None:
            now = time.monotonic()
            if now - self._last_progress > 0.2:
                self._last_progress = now
                self.progress(self)

    # -- components and sessions -------------------------------------------------------
    def component(self, component_id: str, kind: str, shape_id: str | None = None) -> Component:
        comp = self.components(component_id)
        if comp is None or comp.type != kind:
            raise ConfigError(
                f"{kind} {component_id!r} does not exist", component=self.process.id, shape=shape_id,
                fix=f"import a {kind} with id {component_id} or fix the id (postroom components list)")
        return comp

    def profile(self, profile_id: str | None, shape_id: str | None = None) -> Profile | None:
        if not profile_id:
            return None
        return self.component(profile_id, "profile", shape_id)  # type: ignore[return-value]

    def session(self, shape_id: str, connection_id: str, operation_id: str) -> OperationSession:
        with self._lock:
            session = self._sessions.get(shape_id)
            if session is None:
                session = self.open_session(shape_id, connection_id, operation_id, self)
                self._sessions[shape_id] = session
            return session

    def session_guard(self, shape_id: str) -> threading.Lock:
        """Held while a shape's session works on a batch: one session per connector shape (so
        the send journal keys each email once), used by one thread at a time."""
        with self._lock:
            return self._session_locks.setdefault(shape_id, threading.Lock())

    # -- threads: Flow Control lanes and Process Calls that do not wait ---------------------
    def frames(self) -> list[CallFrame]:
        """The called processes the current thread runs inside, outermost first."""
        frames: list[CallFrame] | None = getattr(self._local, "frames", None)
        if frames is None:
            frames = self._local.frames = []
        return frames

    def default_profile(self) -> str | None:
        """The default profile of the process whose shape runs now (a called one's inside a call)."""
        frames = self.frames()
        return frames[-1].profile if frames else self.process.profile

    def set_frames(self, frames: list[CallFrame]) -> None:
        """A new thread of this execution inherits the frames of the thread that started it."""
        self._local.frames = list(frames)

    def start_background(self, name: str, work: Callable[[], None]) -> None:
        """Run ``work`` in a thread the execution waits for before it ends."""
        frames = list(self.frames())

        def run() -> None:
            self.set_frames(frames)
            work()

        thread = threading.Thread(target=run, name=name, daemon=True)
        with self._lock:
            self._background.append(thread)
        thread.start()

    def join_background(self) -> None:
        while True:
            with self._lock:
                threads = list(self._background)
                self._background.clear()
            if not threads:
                return
            for thread in threads:
                thread.join()

    def adopt_session(self, shape_id: str, session: OperationSession) -> None:
        """Use a session opened outside this execution for ``shape_id`` (a listener's start
        session: it fetched before the execution existed). The execution commits it after
        success like its own sessions, but does not close it: its opener does."""
        self._sessions[shape_id] = session
        self._adopted.add(shape_id)

    def sessions(self) -> list[OperationSession]:
        return list(self._sessions.values())

    def close_sessions(self) -> None:
        for shape_id, session in self._sessions.items():
            if shape_id in self._adopted:
                continue
            try:
                session.close()
            except Exception as exc:  # noqa: BLE001 - closing must not hide the run's result
                self.log_line("warning", f"closing a connector session failed: {exc}")
        self._sessions.clear()
        self._adopted.clear()
