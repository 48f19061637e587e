"""Run a process and record the execution."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from ..connectors import get_connector
from ..engine import ExecutionContext, ExecutionResult, Limits, StopFlag, execute
from ..errors import ConfigError, NotFound
from ..model import Component, Process
from ..repository import (
    ComponentRecord,
    DocumentErrorRecord,
    DryRunRecord,
    ExecutionRecord,
    JournalEntry,
    LogEntry,
    Repository,
    ShapeDocumentRecord,
)
from ..sdk import Document, OperationSession, spool_directory
from ._components import component_from_record, get_record, validate_settings
from ._inputs import check_inputs, fingerprint, input_documents, verify_inputs
from ._lease import ExecutionLease, refuse_live_lease
from ._secrets import resolve_references

__all__ = ["RunOptions", "run_process", "resume_execution", "RepositoryRecorder", "settings_resolver",
           "purge_expired", "retention_days"]


class _Journal:
    """The send journal (sdk ``Journal``) of one execution, in the repository."""

    def __init__(self, repo: Repository, execution_id: str) -> None:
        self.repo, self.execution_id = repo, execution_id

    def begin(self, key: str, message_id: str) -> JournalEntry:
        return self.repo.journal_begin(self.execution_id, key, message_id)

    def finish(self, key: str, status: str, reply: str = "") -> None:
        self.repo.journal_finish(self.execution_id, key, status, reply)

    def begin_many(self, items: list[tuple[str, str]]) -> dict[str, JournalEntry]:
        """``begin`` for many ``(key, message_id)`` in one transaction; entries by key."""
        return self.repo.journal_begin_many(self.execution_id, items)

    def finish_many(self, items: list[tuple[str, str, str]]) -> None:
        """``finish`` for many ``(key, status, reply)`` in one transaction."""
        self.repo.journal_finish_many(self.execution_id, items)

    def entries(self) -> dict[str, JournalEntry]:
        return self.repo.journal_entries(self.execution_id)


class _Watermarks:
    """The watermark store (sdk ``WatermarkStore``), in the repository."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo

    def get(self, mailbox: str, operation: str = "") -> dict[str, Any] | None:
        return self.repo.get_watermark(mailbox, operation)

    def set(self, mailbox: str, value: dict[str, Any], operation: str = "") -> None:
        self.repo.set_watermark(mailbox, value, operation)


class RepositoryRecorder:
    """Buffers an execution's record and writes it to the repository in batches."""

    FLUSH_AT = 500

    def __init__(self, repo: Repository, execution_id: str) -> None:
        self.repo, self.execution_id = repo, execution_id
        self._logs: list[LogEntry] = []
        self._errors: list[DocumentErrorRecord] = []
        self._docs: list[ShapeDocumentRecord] = []
        self._dry: list[DryRunRecord] = []
        self.echo: Callable[[str, str, str | None], None] | None = None

    def log(self, level: str, message: str, shape: str | None) -> None:
        self._logs.append(LogEntry(datetime.now(UTC), level, message, shape))
        if self.echo is not None:
            self.echo(level, message, shape)
        if len(self._logs) >= self.FLUSH_AT:
            self.flush()

    def document_error(self, shape: str, document: int, message: str) -> None:
        self._errors.append(DocumentErrorRecord(shape, document, message, datetime.now(UTC)))
        if len(self._errors) >= self.FLUSH_AT:
            self.flush()

    def shape_document(self, shape: str, document: Document, seq: int) -> None:
        self._docs.append(ShapeDocumentRecord(shape, seq, document.seq, document.data, dict(document.properties),
                                              dict(document.dynamic)))
        if len(self._docs) >= 100:
            self.flush()

    def dry_run(self, shape: str, document: int, action: str, payload: bytes) -> None:
        self._dry.append(DryRunRecord(shape, document, action, payload))
        if len(self._dry) >= 100:
            self.flush()

    def journal(self) -> _Journal:
        return _Journal(self.repo, self.execution_id)

    def watermarks(self) -> _Watermarks:
        return _Watermarks(self.repo)

    def flush(self) -> None:
        if self._logs:
            self.repo.add_logs(self.execution_id, self._logs)
            self._logs = []
        if self._errors:
            self.repo.add_document_errors(self.execution_id, self._errors)
            self._errors = []
        if self._docs:
            self.repo.add_shape_documents(self.execution_id, self._docs)
            self._docs = []
        if self._dry:
            self.repo.add_dry_runs(self.execution_id, self._dry)
            self._dry = []


class RunOptions:
    def __init__(self, inputs: list[str] | None = None, test: bool = False, dry_run: bool = False,
                 batch_size: int = 1000, limits: Limits | None = None,
                 progress: Callable[[ExecutionContext], None] | None = None,
                 echo: Callable[[str, str, str | None], None] | None = None,
                 documents: Iterable[Document] | None = None,
                 start_session: OperationSession | None = None,
                 on_context: Callable[[ExecutionContext], None] | None = None,
                 request: dict[str, Any] | None = None, stop: StopFlag | None = None) -> None:
        """``documents``: the start documents (any iterable, consumed once, inside the
        execution). ``start_session``: a session already open for the start shape (a
        listener's); the execution commits it after success and leaves closing it to the
        caller. ``on_context``: called with the execution context before any document
        moves. ``request``: more fields for the execution record's request (e.g. the
        listener that started it). ``stop``: set it (a signal handler, another thread) to
        stop the execution cleanly: after the emails in flight, recorded ``stopped``."""
        self.inputs = inputs or []
        self.test = test
        self.dry_run = dry_run
        self.batch_size = batch_size
        self.limits = limits or Limits()
        self.progress = progress
        self.echo = echo
        self.documents = documents
        self.start_session = start_session
        self.on_context = on_context
        self.request = request or {}
        self.stop = stop


def settings_resolver(repo: Repository, records: dict[str, ComponentRecord]) -> Callable[[Component], Any]:
    """Validated settings with secret and env references resolved, at the last moment."""

    def resolve(component: Component) -> Any:
        record = records.get(component.id)
        file = record.source_file if record else None
        settings = {}
        for key, value in component.settings.items():  # type: ignore[attr-defined]
            if isinstance(value, str) and "${" in value:
                value = resolve_references(value, repo.get_secret, component=component.id,
                                           field=f"settings.{key}", file=file)
            settings[key] = value
        clone = component.model_copy(update={"settings": settings})
        return validate_settings(clone)

    return resolve


def _preflight(process: Process, get: Callable[[str], Component | None], resolve) -> None:  # noqa: ANN001
    """Check references and secrets before any document moves, so bad configuration
    fails fast with exit 2 instead of failing every document."""
    for shape_id, shape in process.shapes.items():
        for kind in ("connection", "operation"):
            ref = getattr(shape, kind, None)
            if not ref:
                continue
            comp = get(ref)
            if comp is None or comp.type != kind:
                raise ConfigError(f"{kind} {ref!r} does not exist", component=process.id, shape=shape_id,
                                  field=kind, fix=f"import a {kind} with id {ref}, or fix the id in the process")
            get_connector(comp.connector)  # type: ignore[attr-defined]
            resolve(comp)
        for attr in ("profile",):
            ref = getattr(shape, attr, None)
            if ref and (get(ref) is None or get(ref).type != "profile"):  # type: ignore[union-attr]
                raise ConfigError(f"profile {ref!r} does not exist", component=process.id, shape=shape_id,
                                  field="profile", fix=f"import a profile with id {ref}")


def _loader(repo: Repository, record: ComponentRecord):  # noqa: ANN202
    """``get(component_id)`` (cached, None when absent) and the settings resolver."""
    cache: dict[str, Component | None] = {}
    records: dict[str, ComponentRecord] = {record.id: record}

    def get(component_id: str) -> Component | None:
        if component_id not in cache:
            rec = repo.get_component(component_id)
            if rec is not None:
                records[component_id] = rec
            cache[component_id] = component_from_record(rec) if rec else None
        return cache[component_id]

    return get, settings_resolver(repo, records)


def run_process(repo: Repository, process_id: str, options: RunOptions | None = None,
                execution_id: str | None = None, version: int | None = None) -> tuple[ExecutionRecord, ExecutionResult]:
    """Run a process (or, with ``execution_id``, resume that execution: its lease is taken
    over, refused while alive). Checks everything it can before recording anything."""
    options = options or RunOptions()
    record = get_record(repo, process_id, version)
    if record.type != "process":
        raise ConfigError(f"{process_id!r} is a {record.type}, not a process", fix="name a process id")
    process: Process = component_from_record(record)  # type: ignore[assignment]
    check_inputs(options.inputs)
    get, resolve = _loader(repo, record)
    _preflight(process, get, resolve)

    stop = options.stop or StopFlag()
    resumed = execution_id is not None
    execution_id = execution_id or uuid.uuid4().hex
    lease = ExecutionLease(repo, execution_id, on_lost=lambda reason: stop.request(reason, 1))
    if resumed:
        existing = repo.get_execution(execution_id)
        if existing is None:
            raise NotFound(f"no execution {execution_id!r}", fix="see: postroom executions list")
        lease.claim(existing)
    else:
        mode = "test" if options.test else "dry_run" if options.dry_run else "normal"
        repo.create_execution(ExecutionRecord(
            id=execution_id, process_id=process.id, process_version=record.version, process_name=process.name,
            status="running", mode=mode, started_at=datetime.now(UTC), node=lease.host, lease_host=lease.host,
            lease_pid=lease.pid, heartbeat_at=datetime.now(UTC), request=_request(options, record.version)))
    lease.start()
    try:
        ctx = _context(repo, process, record.version, execution_id, options, get, resolve, stop)
        if resumed:
            ctx.log_line("info", "execution resumed: letters already accepted by the server are skipped")
        result = _execute(repo, ctx, options, lease)
    finally:
        lease.stop()
    return repo.get_execution(execution_id), result  # type: ignore[return-value]


def _request(options: RunOptions, version: int) -> dict[str, Any]:
    """The run request as recorded: the inputs with their fingerprints (a resume checks them)."""
    files = [fingerprint(p) for p in options.inputs]
    return {"inputs": [f["path"] for f in files], "input_files": files, "test": options.test,
            "dry_run": options.dry_run, "process_version": version, **options.request}


def _context(repo: Repository, process: Process, version: int, execution_id: str, options: RunOptions,
             get: Callable[[str], Component | None], resolve: Callable[[Component], Any],
             stop: StopFlag) -> ExecutionContext:
    recorder = RepositoryRecorder(repo, execution_id)
    recorder.echo = options.echo
    ctx = ExecutionContext(
        process=process, execution_id=execution_id, components=get, connector_for=get_connector,
        settings_for=resolve, recorder=recorder, process_version=version, dry_run=options.dry_run,
        test_mode=options.test, limits=options.limits, batch_size=options.batch_size,
        dynamic_process_properties=dict(repo.get_persisted_properties(process.id)), progress=options.progress,
        stop=stop)
    if options.start_session is not None:
        ctx.adopt_session(process.start, options.start_session)
    if options.on_context is not None:
        options.on_context(ctx)
    return ctx


def _execute(repo: Repository, ctx: ExecutionContext, options: RunOptions, lease: ExecutionLease) -> ExecutionResult:
    spool = tempfile.mkdtemp(prefix=f"postroom-{ctx.execution_id[:8]}-")
    try:
        with spool_directory(spool):
            docs = options.documents if options.documents is not None else (
                input_documents(options.inputs) if options.inputs else None)
            result = execute(ctx, docs)
    except KeyboardInterrupt:
        # a Ctrl-C with no handler installed (or a second one): the record says stopped;
        # the journal may miss the email in flight, which a resume then repeats
        ctx.close_sessions()
        ctx.recorder.log("warning", "execution stopped by the user", None)
        ctx.recorder.flush()
        repo.update_execution(ctx.execution_id, status="stopped", ended_at=datetime.now(UTC),
                              documents_in=ctx.documents_in, documents_out=ctx.documents_out,
                              documents_failed=ctx.documents_failed, connector_counts=ctx.connector_counts)
        raise
    finally:
        shutil.rmtree(spool, ignore_errors=True)
    if lease.lost:  # another process runs the execution now: its record is theirs to write
        return result
    if result.status in ("complete", "complete_with_errors") and ctx.persist_names:
        repo.set_persisted_properties(ctx.process_id, {k: v for k, v in ctx.dynamic_process_properties.items()
                                                       if k in ctx.persist_names})
    repo.update_execution(
        ctx.execution_id, status=result.status, ended_at=datetime.now(UTC), documents_in=result.documents_in,
        documents_out=result.documents_out, documents_failed=result.documents_failed,
        error=str(result.error) if result.error else None, truncated=ctx.truncated,
        connector_counts=ctx.connector_counts)
    return result


def retention_days() -> int:
    """Execution records are kept this many days (POSTROOM_RETENTION_DAYS, default 30; 0: forever)."""
    raw = os.environ.get("POSTROOM_RETENTION_DAYS", "30").strip()
    try:
        days = int(raw)
    except ValueError:
        raise ConfigError(f"POSTROOM_RETENTION_DAYS={raw!r} is not a whole number of days",
                          field="POSTROOM_RETENTION_DAYS", fix="set it to e.g. 30, or 0 to keep records forever") from None
    return max(days, 0)


def purge_expired(repo: Repository, days: int | None = None) -> int:
    """Delete the records of executions that ended more than ``days`` (default: the
    retention, POSTROOM_RETENTION_DAYS) days ago; 0 days keeps everything. Runs never purge:
    ``postroom executions purge`` and ``postroom serve`` (hourly) do."""
    days = retention_days() if days is None else days
    if days <= 0:
        return 0
    return repo.purge_executions(datetime.now(UTC) - timedelta(days=days))


def resume_execution(repo: Repository, execution_id: str, options: RunOptions | None = None):  # noqa: ANN201
    """Run an interrupted execution again under the same id: the send journal makes every
    side effect already done a no-op, and a repeat reuses its Message-ID. Refused (exit 2)
    while another process runs it, and when an input it ran on is gone or changed."""
    record = repo.get_execution(execution_id)
    if record is None:
        raise NotFound(f"no execution {execution_id!r}", fix="see: postroom executions list")
    if record.status == "complete":
        raise ConfigError(f"execution {execution_id} is complete; there is nothing to resume")
    refuse_live_lease(record)
    request = record.request or {}
    options = options or RunOptions()
    options.inputs = verify_inputs(execution_id, request)
    options.dry_run = bool(request.get("dry_run"))
    options.test = bool(request.get("test"))
    return run_process(repo, record.process_id, options, execution_id=execution_id,
                       version=request.get("process_version"))
