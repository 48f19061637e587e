"""``postroom run``'s body, free of Typer: ``cli/_quick.py`` calls :func:`run_here`
directly for ``postroom run PROCESS``, the Typer command (``_run.py``) with the parsed options.
Both exit with the code it returns."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from ._common import command, emit_json, err, out, repo, run_repo
from ._lists import CLI_FIELDS

__all__ = ["connector_line", "graceful_signals", "report", "run_here"]


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


def _summary(record, seconds: float) -> str:  # noqa: ANN001
    status = record.status.replace("_", " ")
    return (f"execution {record.id}: {status}: {record.documents_in} in, {record.documents_out} out, "
            f"{record.documents_failed} failed ({seconds:.1f} s)")


def connector_line(record) -> str:  # noqa: ANN001
    """What each connector shape completed and failed: ``send 2 done, 0 failed; ...``."""
    counts = record.connector_counts or {}
    return "; ".join(f"{shape} {c.get('completed', 0)} done, {c.get('failed', 0)} failed"
                     for shape, c in counts.items())


_SIGNAL_NAMES = {"SIGINT": "Ctrl-C (SIGINT)", "SIGTERM": "SIGTERM", "SIGHUP": "SIGHUP"}


@contextmanager
def graceful_signals(stop) -> Iterator[None]:  # noqa: ANN001
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
def run_here(process: str, inputs: Sequence[Path] = (), test: bool = False, dry_run: bool = False,
             as_json: bool = False, quiet: bool = False, keep_documents: int = 100,
             keep_bytes: int = 10 * 1024 * 1024, environment: str | None = None, version: int | None = None,
             workers: bool = False) -> int:
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
        return _run_on_workers(request, progress, update, as_json, quiet)
    hooks = RunHooks(progress=update, echo=echo)
    started = time.monotonic()
    with graceful_signals(hooks.stop):
        if progress is not None:
            with progress:
                record, result = run_process(run_repo(), request, hooks)
        else:
            record, result = run_process(run_repo(), request, hooks)
    return report(record, result, time.monotonic() - started, as_json)


def _run_on_workers(request, progress, update, as_json: bool, quiet: bool) -> int:  # noqa: ANN001
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
        return 130
    finally:
        submitter.close()
    return _report(record, code, record.error or None, time.monotonic() - started, as_json, f" on {record.node}")


def report(record, result, seconds: float, as_json: bool) -> int:  # noqa: ANN001
    """An in-process run's (or resume's) outcome: its summary, or its JSON; the exit code."""
    error = None if result.error is None else str(result.error)
    return _report(record, result.exit_code, error, seconds, as_json)


def _report(record, code: int, error: str | None, seconds: float, as_json: bool,  # noqa: ANN001
            where: str = "") -> int:
    """The summary line and connector counts (or the JSON view) of an ended execution;
    ``where``: " on NODE" for a run on the workers."""
    from ..services import execution_view, pick

    if as_json:
        view = execution_view(repo(), record.id)
        emit_json({**pick(view.summary(), CLI_FIELDS), "errors": view.errors_json(), "exit_code": code})
    else:
        out(_summary(record, seconds) + where)
        if record.connector_counts:
            out(f"  connector shapes: {connector_line(record)}")
        if error is not None:
            err(f"{'stopped' if record.status == 'stopped' else 'error'}: {error}")
    return code
