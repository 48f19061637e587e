"""Run a process and record the execution."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..connectors import get_connector
from ..engine import ExecutionContext, ExecutionResult, Limits, execute
from ..errors import ConfigError, NotFound
from ..model import Component, Process
from ..repository import (
    ComponentRecord,
    DocumentErrorRecord,
    DryRunRecord,
    ExecutionRecord,
    LogEntry,
    Repository,
    ShapeDocumentRecord,
)
from ..sdk import Document, OperationSession, spool_directory
from ._components import component_from_record, get_record, validate_settings
from ._secrets import resolve_references

__all__ = ["RunOptions", "run_process", "resume_execution", "RepositoryRecorder", "settings_resolver"]


class _Journal:
    def __init__(self, repo: Repository, execution_id: str) -> None:
        self.repo, self.execution_id = repo, execution_id

    def begin(self, key: str, message_id: str):  # noqa: ANN201
        return self.repo.journal_begin(self.execution_id, key, message_id)

    def finish(self, key: str, status: str, reply: str = "") -> None:
        self.repo.journal_finish(self.execution_id, key, status, reply)

    def begin_many(self, items: list[tuple[str, str]]):  # noqa: ANN201
        """``begin`` for many ``(key, message_id)`` in one transaction; entries by key."""
        return self.repo.journal_begin_many(self.execution_id, items)

    def finish_many(self, items: list[tuple[str, str, str]]) -> None:
        """``finish`` for many ``(key, status, reply)`` in one transaction."""
        self.repo.journal_finish_many(self.execution_id, items)

    def entries(self):  # noqa: ANN201
        return self.repo.journal_entries(self.execution_id)


class _Watermarks:
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
                 request: dict[str, Any] | None = None) -> None:
        """``documents``: the start documents (any iterable, consumed once, inside the
        execution). ``start_session``: a session already open for the start shape (a
        listener's); the execution commits it after success and leaves closing it to the
        caller. ``on_context``: called with the execution context before any document
        moves. ``request``: more fields for the execution record's request (e.g. the
        listener that started it)."""
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


def _check_inputs(paths: list[str]) -> None:
    for path in paths:
        if not os.path.isfile(path):
            raise ConfigError("the input file does not exist or is not a file", file=path, field="--input",
                              fix="check the path")
        if not os.access(path, os.R_OK):
            raise ConfigError("the input file cannot be read (permission denied)", file=path, field="--input",
                              fix="check the file's permissions")


def _input_documents(paths: list[str]) -> Iterator[Document]:
    for path in paths:
        try:
            yield Document.from_file(path, {"disk.file_name": os.path.basename(path),
                                            "disk.directory": os.path.dirname(os.path.abspath(path))})
        except OSError as exc:
            raise ConfigError(f"cannot read the input file: {exc.strerror}", file=path, field="--input") from None


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


def run_process(repo: Repository, process_id: str, options: RunOptions | None = None,
                execution_id: str | None = None, version: int | None = None) -> tuple[ExecutionRecord, ExecutionResult]:
    options = options or RunOptions()
    record = get_record(repo, process_id, version)
    if record.type != "process":
        raise ConfigError(f"{process_id!r} is a {record.type}, not a process", fix="name a process id")
    process: Process = component_from_record(record)  # type: ignore[assignment]
    _check_inputs(options.inputs)

    cache: dict[str, Component | None] = {}
    records: dict[str, ComponentRecord] = {record.id: record}

    def get(component_id: str) -> Component | None:
        if component_id not in cache:
            rec = repo.get_component(component_id)
            if rec is not None:
                records[component_id] = rec
            cache[component_id] = component_from_record(rec) if rec else None
        return cache[component_id]

    resolve = settings_resolver(repo, records)
    _preflight(process, get, resolve)

    resumed = execution_id is not None
    execution_id = execution_id or uuid.uuid4().hex
    mode = "test" if options.test else "dry_run" if options.dry_run else "normal"
    if not resumed:
        repo.create_execution(ExecutionRecord(
            id=execution_id, process_id=process.id, process_version=record.version, process_name=process.name,
            status="running", mode=mode, started_at=datetime.now(UTC), node=socket.gethostname(),
            request={"inputs": [os.path.abspath(p) for p in options.inputs], "test": options.test,
                     "dry_run": options.dry_run, "process_version": record.version, **options.request}))
    else:
        repo.update_execution(execution_id, status="running", ended_at=None)
    recorder = RepositoryRecorder(repo, execution_id)
    recorder.echo = options.echo
    ctx = ExecutionContext(
        process=process, execution_id=execution_id, components=get, connector_for=get_connector,
        settings_for=resolve, recorder=recorder, process_version=record.version, dry_run=options.dry_run,
        test_mode=options.test, limits=options.limits, batch_size=options.batch_size,
        dynamic_process_properties=dict(repo.get_persisted_properties(process.id)), progress=options.progress)
    if options.start_session is not None:
        ctx.adopt_session(process.start, options.start_session)
    if options.on_context is not None:
        options.on_context(ctx)
    if resumed:
        ctx.log_line("info", "execution resumed: letters already accepted by the server are skipped")
    spool = tempfile.mkdtemp(prefix=f"postroom-{execution_id[:8]}-")
    try:
        with spool_directory(spool):
            docs = options.documents if options.documents is not None else (
                _input_documents(options.inputs) if options.inputs else None)
            result = execute(ctx, docs)
    except KeyboardInterrupt:
        # Ctrl-C or a stop request: the record says stopped; resume can continue it
        ctx.close_sessions()
        recorder.log("warning", "execution stopped by the user", None)
        recorder.flush()
        repo.update_execution(execution_id, status="stopped", ended_at=datetime.now(UTC),
                              documents_in=ctx.documents_in, documents_out=ctx.documents_out,
                              documents_failed=ctx.documents_failed)
        raise
    finally:
        shutil.rmtree(spool, ignore_errors=True)
    if result.status != "failed" and ctx.persist_names:
        repo.set_persisted_properties(process.id, {k: v for k, v in ctx.dynamic_process_properties.items()
                                                   if k in ctx.persist_names})
    repo.update_execution(
        execution_id, status=result.status, ended_at=datetime.now(UTC), documents_in=result.documents_in,
        documents_out=result.documents_out, documents_failed=result.documents_failed,
        error=str(result.error) if result.error else None, truncated=ctx.truncated)
    _apply_retention(repo)
    return repo.get_execution(execution_id), result  # type: ignore[return-value]


def retention_days() -> int:
    """Execution records are kept this many days (POSTROOM_RETENTION_DAYS, default 30)."""
    raw = os.environ.get("POSTROOM_RETENTION_DAYS", "30").strip()
    try:
        days = int(raw)
    except ValueError:
        raise ConfigError(f"POSTROOM_RETENTION_DAYS={raw!r} is not a whole number of days",
                          field="POSTROOM_RETENTION_DAYS", fix="set it to e.g. 30, or 0 to keep records forever") from None
    return max(days, 0)


def _apply_retention(repo: Repository) -> None:
    from datetime import timedelta

    days = retention_days()
    if days:
        repo.purge_executions(datetime.now(UTC) - timedelta(days=days))


def resume_execution(repo: Repository, execution_id: str, options: RunOptions | None = None):  # noqa: ANN201
    """Run an interrupted execution again under the same id: the send journal makes every
    side effect already done a no-op, and a repeat reuses its Message-ID."""
    record = repo.get_execution(execution_id)
    if record is None:
        raise NotFound(f"no execution {execution_id!r}", fix="see: postroom executions list")
    if record.status == "complete":
        raise ConfigError(f"execution {execution_id} is complete; there is nothing to resume")
    request = record.request or {}
    options = options or RunOptions()
    options.inputs = [p for p in request.get("inputs", []) if Path(p).exists()] or options.inputs
    options.dry_run = bool(request.get("dry_run"))
    options.test = bool(request.get("test"))
    return run_process(repo, record.process_id, options, execution_id=execution_id,
                       version=request.get("process_version"))
