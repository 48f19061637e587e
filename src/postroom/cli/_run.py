"""postroom run / executions / connections test."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from ._common import command, console, emit_json, err, out, repo

# The commands import services, runtime, engine and web inside their bodies on purpose: the CLI
# imports lazily so that `postroom --help` answers fast (DESIGN, "a lazy, scriptable CLI");
# no import here dodges a cycle.

executions_app = typer.Typer(help="Process reporting: list, show and resume executions.", no_args_is_help=True)
connections_app = typer.Typer(help="Check connections against their servers.", no_args_is_help=True)


def _progress_reporter(enabled: bool):  # noqa: ANN202
    """A live line on a terminal (stderr); nothing when output is piped."""
    if not enabled or not sys.stderr.isatty():
        return None, None
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                        console=Console(stderr=True), transient=True)
    task = progress.add_task("starting")

    def update(ctx) -> None:  # noqa: ANN001
        progress.update(task, description=(
            f"{ctx.documents_in:,} in · {ctx.documents_out:,} done · {ctx.documents_failed:,} failed"))

    return progress, update


def _summary(record, result, seconds: float) -> str:  # noqa: ANN001
    status = record.status.replace("_", " ")
    text = (f"execution {record.id}: {status}: {record.documents_in} in, {record.documents_out} out, "
            f"{record.documents_failed} failed ({seconds:.1f} s)")
    return text


def _connector_line(record) -> str:  # noqa: ANN001
    """What each connector shape completed and failed: ``send 2 done, 0 failed; ...``."""
    counts = record.connector_counts or {}
    return "; ".join(f"{shape} {c.get('completed', 0)} done, {c.get('failed', 0)} failed"
                     for shape, c in counts.items())


_SIGNAL_NAMES = {"SIGINT": "Ctrl-C (SIGINT)", "SIGTERM": "SIGTERM", "SIGHUP": "SIGHUP"}


@contextmanager
def _graceful_signals(stop) -> Iterator[None]:  # noqa: ANN001
    """SIGINT, SIGTERM and SIGHUP ask the execution to stop after the emails in flight
    (nothing is raised mid-send, so the journal records every email the server accepted);
    the run then exits 128 + the signal's number (130, 143, 129). A second Ctrl-C stops at
    once (KeyboardInterrupt: the email in flight may be repeated, with its Message-ID)."""
    import signal

    def handler(signum: int, _frame: object) -> None:
        if stop.requested:
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            return
        name = signal.Signals(signum).name
        stop.request(f"{_SIGNAL_NAMES.get(name, name)} received", 128 + signum)
        notice = f"{_SIGNAL_NAMES.get(name, name)}: stopping after the emails in flight (Ctrl-C again stops at once)\n"
        try:  # straight to the file descriptor: the handler may run while sys.stderr is mid-write
            os.write(sys.stderr.fileno(), notice.encode())
        except (OSError, ValueError):  # stderr gone (a hang-up): the summary says it
            pass

    previous = {}
    for name in _SIGNAL_NAMES:
        sig = getattr(signal, name, None)
        if sig is not None:
            previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@command
def run_cmd(
    process: str = typer.Argument(..., help="Process id."),
    inputs: list[Path] = typer.Option([], "--input", help="A file given to a data_passthrough start (repeatable)."),
    test: bool = typer.Option(False, "--test", help="Keep the documents that entered every shape."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Record side effects (sends, writes) instead of doing them."),
    as_json: bool = typer.Option(False, "--json", help="Print the execution record as JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the summary."),
    keep_documents: int = typer.Option(100, "--keep-documents", min=0,
                                       help="Test mode: documents kept per shape."),
    keep_bytes: int = typer.Option(10 * 1024 * 1024, "--keep-bytes", min=0,
                                   help="Test mode: bytes of document data kept in all."),
    environment: str | None = typer.Option(None, "--environment", "-e", envvar="POSTROOM_ENVIRONMENT",
                                           help="Apply this environment's extensions (and run the version "
                                                "deployed to it, if any)."),
    version: int | None = typer.Option(None, "--version", min=1,
                                       help="Run this stored version of the process (default: the latest, or "
                                            "the one deployed to --environment)."),
    workers: bool = typer.Option(False, "--workers",
                                 help="Submit the run to the distributed workers (POSTROOM_BROKER_URL) and wait."),
) -> None:
    """Execute a process. Exit 0: complete; 1: some documents failed; 2: bad input; 3: server unreachable;
    130/143/129: stopped by Ctrl-C, SIGTERM or SIGHUP (after the emails in flight)."""
    from ..services import InputFile, RunHooks, RunLimits, RunRequest, run_process

    progress, update = _progress_reporter(not as_json)

    def echo(level: str, message: str, shape: str | None) -> None:
        # execution-level errors (no shape) are printed once, by the summary below
        if not as_json and not quiet and (level == "warning" or (level == "error" and shape)):
            err(f"{level}: {f'[{shape}] ' if shape else ''}{message}")

    request = RunRequest(process_id=process, inputs=tuple(InputFile(str(p)) for p in inputs),
                         mode=RunRequest.mode_of(test, dry_run), environment=environment or None,
                         process_version=version,
                         limits=RunLimits(documents_per_shape=keep_documents, bytes_total=keep_bytes))
    if workers:
        _run_on_workers(request, progress, update, as_json, quiet)
        return
    hooks = RunHooks(progress=update, echo=echo)
    started = time.monotonic()
    with _graceful_signals(hooks.stop):
        if progress is not None:
            with progress:
                record, result = run_process(repo(), request, hooks)
        else:
            record, result = run_process(repo(), request, hooks)
    _report(record, result, time.monotonic() - started, as_json)


def _run_on_workers(request, progress, update, as_json: bool, quiet: bool) -> None:  # noqa: ANN001
    """Submit to the workers and follow the record they write; exit codes as in-process."""
    from ..services import Submitter

    submitter = Submitter(repo())
    submitter.ping()
    execution_id = submitter.queue(request)
    submitter.send(execution_id)
    if not (as_json or quiet):
        err(f"execution {execution_id}: submitted to the workers")
    started = time.monotonic()
    try:
        if progress is not None:
            with progress:
                record, code = submitter.wait(execution_id, update)
        else:
            record, code = submitter.wait(execution_id)
    except KeyboardInterrupt:
        err(f"stopped waiting: execution {execution_id} goes on on the workers "
            f"(postroom executions show {execution_id})")
        raise typer.Exit(130) from None
    finally:
        submitter.close()
    _report_record(record, code, time.monotonic() - started, as_json)


def _report_record(record, code: int, seconds: float, as_json: bool) -> None:  # noqa: ANN001
    from ..services import execution_view, pick

    if as_json:
        view = execution_view(repo(), record.id)
        emit_json({**pick(view.summary(), CLI_FIELDS), "errors": view.errors_json(), "exit_code": code})
    else:
        out(_summary(record, None, seconds) + f" on {record.node}")
        if record.connector_counts:
            out(f"  connector shapes: {_connector_line(record)}")
        if record.error:
            err(f"{'stopped' if record.status == 'stopped' else 'error'}: {record.error}")
    raise typer.Exit(code)


def _report(record, result, seconds: float, as_json: bool) -> None:  # noqa: ANN001
    from ..services import execution_view, pick

    if as_json:
        view = execution_view(repo(), record.id)
        emit_json({**pick(view.summary(), CLI_FIELDS), "errors": view.errors_json(), "exit_code": result.exit_code})
    else:
        out(_summary(record, result, seconds))
        if record.connector_counts:
            out(f"  connector shapes: {_connector_line(record)}")
        if result.error is not None:
            err(f"{'stopped' if record.status == 'stopped' else 'error'}: {result.error}")
    raise typer.Exit(result.exit_code)


#: what the CLI's JSON shows of an execution (the API shows the same less the lease)
CLI_FIELDS = ("id", "process_id", "process_name", "process_version", "environment", "trigger", "listener", "schedule",
              "status", "mode", "started_at", "ended_at",
              "documents_in", "documents_out", "documents_failed", "error", "node", "truncated", "connector_counts",
              "lease_host", "lease_pid", "heartbeat_at")


STATUSES = ("running", "complete", "complete_with_errors", "failed", "stopped")


def _status_filter(status: str | None) -> str | None:
    """``complete with errors`` (as shown), ``complete_with_errors`` or ``complete-with-errors``."""
    if status is None:
        return None
    key = "_".join(status.strip().lower().replace("-", " ").replace("_", " ").split())
    if key not in STATUSES:
        from ..errors import ConfigError

        raise ConfigError(f"no such status {status!r}", field="--status",
                          fix="use one of: " + ", ".join(s.replace("_", " ") for s in STATUSES))
    return key


TRIGGERS = ("manual", "api", "listener", "schedule")


def _trigger_filter(trigger: str | None) -> str | None:
    if trigger is None:
        return None
    key = trigger.strip().lower()
    if key not in TRIGGERS:
        from ..errors import ConfigError

        raise ConfigError(f"no such trigger {trigger!r}", field="--trigger", fix="use one of: " + ", ".join(TRIGGERS))
    return key


@executions_app.command("list")
@command
def list_cmd(
    process: str | None = typer.Option(None, "--process", help="Only this process."),
    status: str | None = typer.Option(None, "--status", help="running, complete, \"complete with errors\", failed "
                                                                 "or stopped (complete_with_errors also works)."),
    limit: int = typer.Option(50, "--limit"),
    trigger: str | None = typer.Option(None, "--trigger", help="Only runs started this way: manual, api, listener "
                                                                "or schedule."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Recent executions, newest first."""
    from ..services import execution_list, execution_summary, pick

    wanted = _status_filter(status)
    records = execution_list(repo(), process, wanted, limit, trigger=_trigger_filter(trigger))
    if as_json:
        emit_json([pick(execution_summary(r), CLI_FIELDS) for r in records])
        return
    if not records:
        out(f"no executions with status {wanted.replace('_', ' ')}" if wanted else "no executions yet: postroom run PROCESS")
        return
    from rich.table import Table

    table = Table("id", "process", "status", "started", "in", "out", "failed")
    for r in records:
        table.add_row(r.id, r.process_id, r.status.replace("_", " "), f"{r.started_at:%Y-%m-%d %H:%M:%S}" if r.started_at else "",
                      str(r.documents_in), str(r.documents_out), str(r.documents_failed))
    console().print(table)


@executions_app.command("show")
@command
def show_cmd(
    execution_id: str = typer.Argument(..., metavar="ID"),
    documents: bool = typer.Option(False, "--documents", help="Also show the documents kept in test mode."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """An execution's record: status, counts, errors, log (and documents)."""
    from ..services import execution_view

    view = execution_view(repo(), execution_id, documents)
    if as_json:
        emit_json(view.render(CLI_FIELDS))
        return
    record, errors, logs = view.record, view.errors, view.log
    shape_docs, dry_runs = view.documents or [], view.dry_runs or []
    out(f"execution {record.id}")
    out(f"  process   {record.process_name} ({record.process_id}, version {record.process_version})")
    out(f"  status    {record.status.replace('_', ' ')}   mode {record.mode}")
    if view.summary().get("environment"):
        out(f"  environment {view.summary()['environment']}")
    out(f"  started   {record.started_at}   ended {record.ended_at}")
    out(f"  documents {record.documents_in} in, {record.documents_out} out, {record.documents_failed} failed")
    if record.connector_counts:
        out(f"  connector shapes  {_connector_line(record)}")
    if record.status == "running" and record.lease_pid is not None:
        out(f"  held by   process {record.lease_pid} on {record.lease_host}, heartbeat {record.heartbeat_at}")
    if record.error:
        out(f"  error     {record.error}")
    if errors:
        out("errors:")
        for e in errors:
            out(f"  [{e.shape}] document {e.document}: {e.message}")
    if view.bounces:
        out("bounced later (delivery reports and complaints about its letters):")
        for b in view.bounces:
            when = b.reported_at or (f"{b.recorded_at:%Y-%m-%dT%H:%M:%S%z}" if b.recorded_at else "")
            out(f"  {when}  {b.kind} {b.status or b.action}  {b.recipient}  {b.original_message_id}"
                f"  ({b.diagnostic or 'no diagnostic'}; read by execution {b.read_by or '?'})")
    if logs:
        out("log:")
        for entry in logs:
            out(f"  {entry.time:%H:%M:%S} {entry.level:<7} {f'[{entry.shape}] ' if entry.shape else ''}{entry.message}")
    if documents:
        if record.truncated:
            out("documents (cut at the test-mode limit):")
        elif shape_docs:
            out("documents:")
        for d in shape_docs:
            out(f"  --- shape {d.shape} #{d.seq} (document {d.document}) {d.properties or ''} {d.dynamic or ''}")
            text = d.data.decode("utf-8", "replace")
            for line in text.splitlines() or [""]:
                out(f"    {line}")
        for dry in dry_runs:
            out(f"  --- dry run {dry.action} at {dry.shape} (document {dry.document})")
            for line in dry.payload.decode("utf-8", "replace").splitlines():
                out(f"    {line}")


@executions_app.command("resume")
@command
def resume_cmd(execution_id: str = typer.Argument(..., metavar="ID"),
               as_json: bool = typer.Option(False, "--json")) -> None:
    """Continue an interrupted execution; side effects already done are skipped. Refused (exit 2)
    while another process runs it, or when an --input file it ran on is gone or changed."""
    from ..services import RunHooks, resume_execution

    started = time.monotonic()
    hooks = RunHooks()
    with _graceful_signals(hooks.stop):
        record, result = resume_execution(repo(), execution_id, hooks)
    _report(record, result, time.monotonic() - started, as_json)


@executions_app.command("purge")
@command
def purge_cmd(days: int | None = typer.Option(None, "--older-than-days", min=1,
                                              help="Delete records that ended more than this many days ago "
                                                   "(default: POSTROOM_RETENTION_DAYS, 30)."),
              as_json: bool = typer.Option(False, "--json")) -> None:
    """Delete execution records past their retention. Runs never delete records; postroom serve
    purges every hour (POSTROOM_RETENTION_DAYS; 0 keeps records forever)."""
    from ..services import purge_expired

    count = purge_expired(repo(), days)
    if as_json:
        emit_json({"purged": count})
    else:
        out(f"purged {count} execution(s)")


@connections_app.command("test")
@command
def test_cmd(connection_id: str = typer.Argument(..., metavar="ID"),
             as_json: bool = typer.Option(False, "--json"),
             environment: str | None = typer.Option(None, "--environment", "-e", envvar="POSTROOM_ENVIRONMENT",
                                                    help="Test the connection as this environment extends it.")
             ) -> None:
    """Log in to the server and report what it offers. Exit 3 when it cannot."""
    from ..services import test_connection

    report = test_connection(repo(), connection_id, environment or None)
    if as_json:
        emit_json({"connection": connection_id, "ok": report.ok, "facts": dict(report.facts),
                   "message": report.message})
    else:
        out(f"{connection_id}: {'ok' if report.ok else 'FAILED'}{': ' + report.message if report.message else ''}")
        for key, value in report.facts:
            out(f"  {key}: {value}")
    if not report.ok:
        raise typer.Exit(3)
