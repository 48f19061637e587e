"""postroom serve / listeners."""

from __future__ import annotations

import socket
import sys
import threading
from typing import TYPE_CHECKING

import typer

from ._common import command, console, emit_json, err, out, repo

# The commands import services, runtime, engine and web inside their bodies on purpose: the CLI
# imports lazily so that `postroom --help` answers fast (DESIGN, "a lazy, scriptable CLI");
# no import here dodges a cycle.
if TYPE_CHECKING:
    import uvicorn

    from ..repository import Repository
    from ..runtime import ListenerOptions, SchedulerOptions
    from ..services import RunService

listeners_app = typer.Typer(help="Listeners: processes started by new data (see docs/listeners.md).",
                            no_args_is_help=True)


@command
def serve_cmd(
    host: str = typer.Option(
        "127.0.0.1", "--host",
        help="Address to listen on; 0.0.0.0 or :: for every interface (everyone who can reach the port then "
             "sees the login page: use https in front, see docs/web.md)."),
    allowed_host: list[str] = typer.Option(
        [], "--allowed-host",
        help="Another name the API answers to in the Host header (repeatable), such as a proxy's; IP "
             "addresses, localhost and this machine's name always are. Other names get 421 (DNS rebinding)."),
    port: int = typer.Option(8080, "--port", help="Port of the web app and the REST API; 0 picks a free one."),
    no_listeners: bool = typer.Option(False, "--no-listeners", help="Serve the API only; run no listener."),
    lease_seconds: float = typer.Option(
        60.0, "--lease-seconds",
        help="How long a listener's lease lasts unrenewed: another serve takes a mailbox over this long after "
             "its holder died. Renewed every third of it."),
    failures_before_failed: int = typer.Option(
        5, "--failures-before-failed", help="Consecutive failed checks after which a listener shows as failed."),
    max_backoff: float = typer.Option(300.0, "--max-backoff",
                                      help="Longest wait, in seconds, between two retries of a failing listener."),
    rescan_seconds: float = typer.Option(15.0, "--rescan-seconds",
                                         help="How often to look for listener processes imported or deleted."),
    no_schedules: bool = typer.Option(False, "--no-schedules", help="Fire no schedule in this serve process."),
    scheduler_tick: float = typer.Option(
        1.0, "--scheduler-tick",
        help="How often, in seconds, the scheduler looks for due schedules (a run starts at most this late)."),
    environment: str | None = typer.Option(None, "--environment", "-e", envvar="POSTROOM_ENVIRONMENT",
                                           help="The environment whose extensions the listeners bind and run "
                                                "with (docs/environments.md)."),
) -> None:
    """Serve the browser app (at /) and the REST API (at /api), and run the listeners, until
    SIGTERM or Ctrl-C (which stop the listeners, let running executions finish and release
    the leases). It also fires the schedules (see docs/schedules.md)."""
    from ..runtime import ListenerOptions, SchedulerOptions

    options = None if no_listeners else ListenerOptions(
        lease_seconds=lease_seconds, failures_before_failed=failures_before_failed,
        backoff_initial_seconds=min(1.0, max_backoff), backoff_max_seconds=max_backoff,
        rescan_seconds=rescan_seconds)
    schedules = None if no_schedules else SchedulerOptions(tick_seconds=scheduler_tick)
    if schedules is not None:
        schedules.check()
    _serve(host, port, allowed_host, options, schedules, environment or None)


def _serve(host: str, port: int, allowed_hosts: list[str], options: ListenerOptions | None,
           schedules: SchedulerOptions | None = None, environment: str | None = None) -> None:
    """Start the web server, then the listeners and the scheduler; announce; wait for a
    signal; stop them all. ``environment``: the one the listeners bind and run with."""
    import logging

    from ..runtime import listener_processes
    from ..services import RunService, listener_runtime, scheduler_runtime

    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    r = repo()
    runtime = listener_runtime(r, options, environment=environment) if options is not None else None
    runs = RunService(r)
    server, web, bound_port = _start_web(r, runtime, host, port, allowed_hosts, runs)
    instance = getattr(runtime, "instance", None) or _instance()
    scheduler = scheduler_runtime(r, runs, schedules, instance) if schedules is not None else None
    count = 0
    if runtime is not None:
        runtime.start()
        count = len(listener_processes(r))
    if scheduler is not None:
        scheduler.start()
    _announce(r, host, bound_port, f"listeners: {'off' if runtime is None else count}; "
                                    f"schedules: {'off' if scheduler is None else 'on'}; instance {instance}")
    _wait_for_stop(r, web, _stop_on_signals())
    err("stopping: listeners finish their running executions and release their leases; runs started from the "
        "UI, API or a schedule stop after what is in flight (postroom executions resume ID goes on)")
    if scheduler is not None:
        scheduler.stop()
    if runtime is not None:
        runtime.stop()
    runs.shutdown()  # runs the UI, API and schedules started stop after what is in flight
    server.should_exit = True
    web.join(10)
    err("stopped")


def _instance() -> str:
    """This serve process's name in the records when no listener runtime gives one."""
    import os
    import uuid

    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _start_web(r: Repository, runtime: object, host: str, port: int, allowed_hosts: list[str],
               runs: RunService | None = None) -> tuple[uvicorn.Server, threading.Thread, int]:
    """The web server running in a thread: the server, the thread and the port it took."""
    import time

    import uvicorn

    from ..errors import ConfigError
    from ..web import create_app

    sock = _bind(host, port)
    bound_port = sock.getsockname()[1]
    app = create_app(r, runtime, bind_host=host, allowed_hosts=allowed_hosts, runs=runs)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    web = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="web", daemon=True)
    web.start()
    deadline = time.monotonic() + 30
    while not server.started and web.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:
        raise ConfigError(f"the web server did not start on {host}:{bound_port}", field="--port")
    return server, web, bound_port


def _announce(r: Repository, host: str, port: int, listeners: str) -> None:
    """Where to open the app; with no user yet, how to create the first one."""
    shown = f"[{host}]" if ":" in host else host
    out(f"postroom serve: http://{shown}:{port}/api ({listeners})")
    out(f"open the web app at http://{shown}:{port}/")
    if not r.has_users():
        out("no user yet: create the first with: postroom users add NAME --role admin --password-stdin "
            "(it can log in at once, no restart needed)")
    sys.stdout.flush()


def _stop_on_signals() -> threading.Event:
    """An event SIGTERM and Ctrl-C set; a second Ctrl-C stops at once, a repeated SIGTERM (a
    supervisor, a process group) does not."""
    import os
    import signal

    stopping = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        if stopping.is_set() and signum == signal.SIGINT:
            err("stopping now: a running execution stays 'running' (postroom executions resume ID)")
            os._exit(130)
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return stopping


def _bind(host: str, port: int) -> socket.socket:
    """The API's listening socket (exit 2 when the port is taken)."""
    from ..errors import ConfigError

    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}", field="--port",
                          fix="pick a free port (0 picks one) or stop what uses it") from None
    return sock


def _wait_for_stop(r: Repository, web: threading.Thread, stopping: threading.Event) -> None:
    """Until a signal sets ``stopping`` or the web server dies; purges expired records hourly."""
    import time

    purge_at = time.monotonic()
    while not stopping.wait(0.5):
        if not web.is_alive():
            err("error: the web server stopped")
            break
        if time.monotonic() >= purge_at:
            purge_at = time.monotonic() + PURGE_SECONDS
            _purge(r)


#: How often ``serve`` deletes execution records past their retention (POSTROOM_RETENTION_DAYS).
PURGE_SECONDS = 3600.0


def _purge(r) -> None:  # noqa: ANN001
    """Delete the records past their retention; a failure is logged, serve goes on."""
    from ..errors import PostroomError
    from ..services import purge_expired

    try:
        count = purge_expired(r)
    except PostroomError as exc:
        err(f"warning: purging old execution records failed: {exc}")
        return
    if count:
        err(f"purged {count} execution record(s) past their retention")
    from ..services import Logins

    try:
        Logins(r).purge()
    except PostroomError as exc:
        err(f"warning: deleting idle login sessions failed: {exc}")


@listeners_app.command("list")
@command
def list_cmd(as_json: bool = typer.Option(False, "--json", help="Print the health rows as JSON.")) -> None:
    """Health of every listener, one row per listener and serve process (read from the
    repository, so it works while serve runs elsewhere)."""
    from ..runtime import listener_report

    rows = listener_report(repo())
    if as_json:
        emit_json(rows)
        return
    if not rows:
        out("no listeners: a process whose start shape has mode: listener runs under postroom serve")
        return
    from rich.table import Table

    table = Table("listener", "state", "instance", "lease", "last check", "failures", "taken", "last error")
    for row in rows:
        state = row["state"] + (" (stale: no heartbeat)" if row["stale"] else "")
        checked = row["last_check_at"]
        table.add_row(row["listener"], state, row["instance"] or "", "held" if row["holds_lease"] else "",
                      f"{checked:%Y-%m-%d %H:%M:%S}" if checked else "", str(row["consecutive_failures"]),
                      str(row["documents_taken"]), row["last_error"] or "")
    console().print(table)
