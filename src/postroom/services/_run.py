"""Run a process and record the execution."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..connectors import get_connector
from ..engine import ExecutionContext, ExecutionResult, execute
from ..errors import ConfigError, NotFound
from ..model import Environment, Process, ProcessCallShape
from ..repository import (
    DocumentErrorRecord,
    DryRunRecord,
    ExecutionRecord,
    JournalEntry,
    LogEntry,
    MailReport,
    Repository,
    ShapeDocumentRecord,
)
from ..runtime import InputFile, RunHooks, RunRequest
from ..sdk import Document, spool_directory
from ._binding import Binder, process_binder, settings_resolver
from ._components import component_from_record, get_record
from ._environments import load_environment, run_version
from ._inputs import check_inputs, fingerprint, input_documents, verify_inputs
from ._lease import ExecutionLease, refuse_live_lease

__all__ = ["RunHooks", "RunRequest", "run_process", "resume_execution", "resume_request", "begin_run", "finish_run",
           "StartedRun", "RepositoryRecorder", "settings_resolver",
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


class _SentMail:
    """Sent letters and the reports about them (sdk ``SentMail``), in the repository;
    ``read_by``: the execution reading the reports."""

    def __init__(self, repo: Repository, read_by: str) -> None:
        self.repo, self.read_by = repo, read_by

    def find(self, message_id: str) -> tuple[str, str] | None:
        entry = self.repo.journal_find(message_id)
        return (entry.execution_id, entry.key) if entry is not None else None

    def record(self, report: Mapping[str, str]) -> None:
        def value(name: str) -> str:
            return str(report.get(name, ""))

        self.repo.add_mail_report(MailReport(
            report_id=value("report_id"), recipient=value("recipient"), kind=value("kind"), action=value("action"),
            status=value("status"), diagnostic=value("diagnostic"), original_message_id=value("original_message_id"),
            execution_id=value("execution_id"), journal_key=value("journal_key"), reported_at=value("reported_at"),
            read_by=self.read_by))


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

    def sent_mail(self) -> _SentMail:
        return _SentMail(self.repo, self.execution_id)

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


def _preflight(process: Process, binder: Binder, seen: set[str] | None = None) -> None:
    """Check references and secrets before any document moves, so bad configuration
    fails fast with exit 2 instead of failing every document; the processes it calls too."""
    seen = seen if seen is not None else {process.id}
    for shape_id, shape in process.shapes.items():
        if isinstance(shape, ProcessCallShape) and shape.process not in seen:
            seen.add(shape.process)
            child = binder.components(shape.process)
            if not isinstance(child, Process):
                raise ConfigError(f"process {shape.process!r} does not exist", component=process.id, shape=shape_id,
                                  field="process", fix=f"import a process with id {shape.process}, or fix the id")
            _preflight(child, binder, seen)
        for kind in ("connection", "operation"):
            ref = getattr(shape, kind, None)
            if not ref:
                continue
            comp = binder.component(kind, ref, shape_id)
            get_connector(comp.connector)  # type: ignore[attr-defined]
            binder.settings(comp)
        ref = getattr(shape, "profile", None)
        if ref:
            binder.component("profile", ref, shape_id)


def run_process(repo: Repository, request: RunRequest, hooks: RunHooks | None = None) -> tuple[
        ExecutionRecord, ExecutionResult]:
    """Run the process ``request`` names. Checks everything it can before recording anything."""
    return _run(repo, request, hooks or RunHooks(), None)


def _run(repo: Repository, request: RunRequest, hooks: RunHooks, execution_id: str | None) -> tuple[
        ExecutionRecord, ExecutionResult]:
    """A run, or with ``execution_id`` a resume of that execution: its lease is taken over,
    refused while alive."""
    return finish_run(begin_run(repo, request, hooks, execution_id))


@dataclass
class StartedRun:
    """A run checked and recorded (its execution row exists), not executed yet."""

    repo: Repository
    request: RunRequest
    hooks: RunHooks
    execution_id: str
    process: Process
    version: int
    binder: Binder
    lease: ExecutionLease
    resumed: bool
    environment: Environment | None = None


def begin_run(repo: Repository, request: RunRequest, hooks: RunHooks, execution_id: str | None) -> StartedRun:
    """Everything a run checks before any document moves, then the execution row (or, with
    ``execution_id``, the lease of the execution to resume): errors here are the caller's."""
    environment = load_environment(repo, request.environment) if request.environment else None
    record = get_record(repo, request.process_id, run_version(repo, request))
    if record.type != "process":
        raise ConfigError(f"{request.process_id!r} is a {record.type}, not a process", fix="name a process id")
    process: Process = component_from_record(record)  # type: ignore[assignment]
    check_inputs(request.paths)
    binder = process_binder(repo, record.id, environment)
    _preflight(process, binder)

    stop = hooks.stop
    resumed = execution_id is not None
    execution_id = execution_id or uuid.uuid4().hex
    lease = ExecutionLease(repo, execution_id, on_lost=lambda reason: stop.request(reason, 1))
    if resumed:
        existing = repo.get_execution(execution_id)
        if existing is None:
            raise NotFound(f"no execution {execution_id!r}", fix="see: postroom executions list")
        lease.claim(existing)
    else:
        stored = request.replace(process_version=record.version,
                                 inputs=tuple(InputFile(**fingerprint(p)) for p in request.paths))
        repo.create_execution(ExecutionRecord(
            id=execution_id, process_id=process.id, process_version=record.version, process_name=process.name,
            status="running", mode=request.record_mode, started_at=datetime.now(UTC), node=lease.host,
            lease_host=lease.host, lease_pid=lease.pid, heartbeat_at=datetime.now(UTC), request=stored.to_json()))
    return StartedRun(repo, request, hooks, execution_id, process, record.version, binder, lease, resumed,
                      environment)


def finish_run(run: StartedRun) -> tuple[ExecutionRecord, ExecutionResult]:
    """Execute a begun run and record how it ended."""
    repo, lease = run.repo, run.lease
    lease.start()
    try:
        ctx = _context(repo, run, run.request, run.hooks, run.binder)
        if run.environment is not None:
            ctx.log_line("info", f"environment {run.environment.id}: its extensions apply (process version "
                                 f"{run.version})")
        if run.resumed:
            ctx.log_line("info", "execution resumed: letters already accepted by the server are skipped")
        result = _execute(repo, ctx, run.request, run.hooks, lease)
    finally:
        lease.stop()
    return repo.get_execution(run.execution_id), result  # type: ignore[return-value]


def _context(repo: Repository, run: StartedRun, request: RunRequest, hooks: RunHooks,
             binder: Binder) -> ExecutionContext:
    process, version, execution_id = run.process, run.version, run.execution_id
    properties = dict(run.environment.extensions.process_properties) if run.environment else {}
    recorder = RepositoryRecorder(repo, execution_id)
    recorder.echo = hooks.echo
    ctx = ExecutionContext(
        process=process, execution_id=execution_id, components=binder.components,
        open_session=binder.open_session, recorder=recorder, process_version=version, dry_run=request.dry_run,
        test_mode=request.test, limits=request.limits.engine_limits(), batch_size=request.limits.batch_size,
        dynamic_process_properties=dict(repo.get_persisted_properties(process.id)), progress=hooks.progress,
        stop=hooks.stop, process_properties=properties)
    if hooks.start_session is not None:
        ctx.adopt_session(process.start, hooks.start_session)
    if hooks.on_context is not None:
        hooks.on_context(ctx)
    return ctx


def _execute(repo: Repository, ctx: ExecutionContext, request: RunRequest, hooks: RunHooks,
             lease: ExecutionLease) -> ExecutionResult:
    spool = tempfile.mkdtemp(prefix=f"postroom-{ctx.execution_id[:8]}-")
    try:
        with spool_directory(spool):
            docs = hooks.documents if hooks.documents is not None else (
                input_documents(request.paths) if request.inputs else None)
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
        connector_counts=ctx.connector_counts, request=_with_shape_counts(repo, ctx))
    return result


def _with_shape_counts(repo: Repository, ctx: ExecutionContext) -> dict[str, Any]:
    """The execution's stored request with what each shape did (``shape_counts``: shape ->
    [in, out, failed]), which the API's execution detail and progress read after the run."""
    record = repo.get_execution(ctx.execution_id)
    request = dict(record.request or {}) if record is not None else {}
    request["shape_counts"] = {shape: list(counts) for shape, counts in ctx.shape_counts.items()}
    return request


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


def resume_execution(repo: Repository, execution_id: str, hooks: RunHooks | None = None) -> tuple[
        ExecutionRecord, ExecutionResult]:
    """Run an interrupted execution again under the same id, on the request it recorded: the
    send journal makes every side effect already done a no-op, and a repeat reuses its
    Message-ID. Refused (exit 2) while another process runs it, and when an input it ran on
    is gone or changed."""
    return _run(repo, resume_request(repo, execution_id), hooks or RunHooks(), execution_id)


def resume_request(repo: Repository, execution_id: str) -> RunRequest:
    """The request an interrupted (or partly failed) execution recorded, checked for a resume:
    refused while another process runs it and when an input it ran on is gone or changed."""
    record = repo.get_execution(execution_id)
    if record is None:
        raise NotFound(f"no execution {execution_id!r}", fix="see: postroom executions list")
    if record.status == "complete":
        raise ConfigError(f"execution {execution_id} is complete; there is nothing to resume")
    refuse_live_lease(record)
    stored = record.request or {}
    verify_inputs(execution_id, stored)
    return RunRequest.from_json({**stored, "process_id": record.process_id} if "version" not in stored else stored)
