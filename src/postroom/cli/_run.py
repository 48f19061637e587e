"""postroom run / executions / connections test."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer

from ._common import command, emit_json, out, repo
from ._lists import CLI_FIELDS, executions_list
from ._run_local import connector_line, graceful_signals, report, run_here

# The commands import services, runtime, engine and web inside their bodies on purpose: the CLI
# imports lazily so that `postroom --help` answers fast (DESIGN, "a lazy, scriptable CLI");
# no import here dodges a cycle.

executions_app = typer.Typer(help="Process reporting: list, show and resume executions.", no_args_is_help=True)
connections_app = typer.Typer(help="Check connections against their servers.", no_args_is_help=True)


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
    raise typer.Exit(run_here(process, inputs, test, dry_run, as_json, quiet, keep_documents, keep_bytes, environment,
                              version, workers))


@executions_app.command("list")
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
    executions_list(process=process, status=status, limit=limit, as_json=as_json, trigger=trigger)


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
        out(f"  connector shapes  {connector_line(record)}")
    if record.status == "running" and record.lease_pid is not None:
        out(f"  held by   process {record.lease_pid} on {record.lease_host}, heartbeat {record.heartbeat_at}")
    if record.error:
        out(f"  error     {record.error}")
    _show_chunks(view.chunks_json())
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


def _show_chunks(chunks: list[dict[str, Any]]) -> None:
    if not chunks:
        return
    out(f"chunks ({len(chunks)}, run on the workers):")
    for c in chunks:
        again = f", {c['attempts']} attempts" if c["attempts"] > 1 else ""
        out(f"  [{c['shape']}] chunk {c['number']}: {c['documents']} document(s), {c['status'].replace('_', ' ')} "
            f"on {c['node'] or 'no worker yet'}{again}{': ' + c['error'] if c['error'] else ''}")


@executions_app.command("resume")
@command
def resume_cmd(execution_id: str = typer.Argument(..., metavar="ID"),
               as_json: bool = typer.Option(False, "--json")) -> None:
    """Continue an interrupted execution; side effects already done are skipped. Refused (exit 2)
    while another process runs it, or when an --input file it ran on is gone or changed."""
    from ..services import RunHooks, resume_execution

    started = time.monotonic()
    hooks = RunHooks()
    with graceful_signals(hooks.stop):
        record, result = resume_execution(repo(), execution_id, hooks)
    raise typer.Exit(report(record, result, time.monotonic() - started, as_json))


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
