"""postroom worker / workers list: the distributed runtime (see docs/scale.md)."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from ._common import command, console, emit_json, err, out

# The commands import services, runtime, engine and web inside their bodies on purpose: the CLI
# imports lazily so that `postroom --help` answers fast (DESIGN, "a lazy, scriptable CLI").

workers_app = typer.Typer(help="The distributed workers (see docs/scale.md).", no_args_is_help=True)

T = TypeVar("T")


def _with_retries(what: str, attempt: Callable[[], T], wait: float, setting: str) -> T:
    """``attempt()`` until it works; each failure said on stderr with the next try. ``wait``
    seconds after the first failure the last error is raised as ConnectionFailed (exit 3): the
    clock starts at the first failure, so a slow first attempt still gets its retries."""
    from ..errors import ConnectionFailed, PostroomError

    deadline: float | None = None
    delay = 1.0
    while True:
        try:
            return attempt()
        except PostroomError as exc:
            deadline = deadline if deadline is not None else time.monotonic() + wait
            left = deadline - time.monotonic()
            if left <= 0:
                raise ConnectionFailed(f"cannot reach {what}: {exc.message}", field=setting,
                                       fix=exc.fix or f"check {setting} and that the server runs") from None
            err(f"cannot reach {what} ({setting}): {exc.message}; retrying in {min(delay, left):.0f} s")
            time.sleep(min(delay, left))
            delay = min(delay * 2, 10.0)


def _refuse_sqlite() -> None:
    from ..errors import ConfigError
    from ..repository import URL_ENV

    url = os.environ.get(URL_ENV, "").strip()
    if not url or url.lower().startswith("sqlite"):
        raise ConfigError(
            "a worker needs the shared PostgreSQL database, and " + (
                f"{URL_ENV} is not set (the default is a SQLite file in this machine's data folder)" if not url
                else f"{URL_ENV} names a SQLite file"), field=URL_ENV,
            fix=f"set {URL_ENV}=postgresql://USER:PASSWORD@HOST:5432/postroom, the same for every worker and for "
                "postroom serve / run --workers (see docs/scale.md)")


@command
def worker_cmd(
    concurrency: int = typer.Option(2, "--concurrency", "-c", min=1, help="Runs this worker executes at once."),
    queues: str = typer.Option("postroom", "--queues", "-Q", help="Queues to take runs from (comma-separated)."),
    name: str | None = typer.Option(None, "--name", help="Node name (default postroom-PID@HOST)."),
    wait: float = typer.Option(60.0, "--wait", min=0,
                               help="Seconds to keep retrying an unreachable broker or database at start, "
                                    "from the first failure, before giving up (exit 3)."),
    loglevel: str = typer.Option("info", "--loglevel", help="debug, info, warning or error."),
    health_port: int | None = typer.Option(None, "--health-port", min=0, max=65535,
                                           help="Serve GET /health on this port (JSON; 200 healthy, 503 not). "
                                                "Off unless given."),
    health_host: str = typer.Option("127.0.0.1", "--health-host",
                                    help="Address the health endpoint listens on (0.0.0.0: every interface)."),
) -> None:
    """Run a worker of the distributed runtime: it takes runs from the broker (POSTROOM_BROKER_URL, Redis)
    and executes them against the shared database (POSTROOM_DATABASE_URL, PostgreSQL)."""
    from ..repository import URL_ENV, open_repository
    from ..runtime import BROKER_ENV, broker_url, celery_app, ping_broker
    from ..services import WorkerState, register_tasks, require_shared_database

    url: str = broker_url()  # type: ignore[assignment]
    _refuse_sqlite()
    repo = _with_retries("the database", open_repository, wait, URL_ENV)
    require_shared_database(repo)
    _with_retries("the broker", lambda: ping_broker(url), wait, BROKER_ENV)
    node = name or f"postroom-{os.getpid()}@{socket.gethostname()}"
    queue_list = [q.strip() for q in queues.split(",") if q.strip()] or ["postroom"]
    app = celery_app(url)
    state = WorkerState(repo, node, queue_list)
    register_tasks(app, state)
    presence = _start_helpers(app, state, url, health_port, health_host)
    worker = app.Worker(hostname=node, pool="threads", concurrency=concurrency, queues=queue_list,
                        loglevel=loglevel.upper(), without_gossip=True, without_mingle=True, without_heartbeat=True,
                        quiet=True)
    err(f"worker {node}: {concurrency} slot(s), queues {', '.join(queue_list)}, database {getattr(repo, 'display_url', '')}")
    try:
        worker.start()
    finally:
        presence.stop()  # a clean stop: off the list of workers
    raise typer.Exit(worker.exitcode or 0)


def _start_helpers(app: Any, state: Any, url: str, health_port: int | None, health_host: str) -> Any:
    """The worker's threads beside Celery's: the health endpoint (when asked), the sweep for
    runs of dead workers and the entry in the list of workers; the last, to stop at the end."""
    import redis

    from ..services import HealthServer, Presence, Requeuer

    if health_port is not None:
        health = HealthServer(state, url, health_port, health_host)
        health.start()
        err(f"worker {state.node}: health at http://{health_host}:{health.port}/health")
    client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30)
    Requeuer(state.repo, app, state.node, client).start()
    presence = Presence(state, client)
    presence.start()
    return presence


def _workers(timeout: float) -> list[dict[str, Any]]:
    """The workers that answer (alive), and those that were seen in the last day but do not
    answer (killed, lost, or too busy to answer within ``timeout``): not alive."""
    import redis

    from ..runtime import broker_url, celery_app, ping_broker
    from ..services import known_workers

    url: str = broker_url()  # type: ignore[assignment]
    ping_broker(url)
    app = celery_app(url)
    try:
        replies = app.control.broadcast("postroom_info", reply=True, timeout=timeout)
    finally:
        app.close()
    found = _answers(replies)
    client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30)
    try:
        known = known_workers(client)
    finally:
        client.close()
    answered = {w["node"] for w in found}
    found += [{**entry, "node": node, "alive": False, "running_tasks": 0, "running": []}
              for node, entry in known.items() if node not in answered]
    return sorted(found, key=lambda w: str(w["node"]))


def _answers(replies: Any) -> list[dict[str, Any]]:
    found = []
    for reply in replies or []:
        for node, info in reply.items():
            if isinstance(info, dict) and "node" in info:
                found.append({"alive": True, **info, "running_tasks": len(info.get("running") or [])})
            else:
                found.append({"node": node, "alive": True, "version": None, "running_tasks": 0, "running": [],
                              "queues": []})
    return found


@workers_app.command("list")
@command
def list_cmd(timeout: float = typer.Option(2.0, "--timeout", min=0.1, help="Seconds to wait for the answers."),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """The workers that answer on the broker: node, Postroom version, the runs they execute now."""
    found = _workers(timeout)
    if as_json:
        emit_json(found)
        return
    if not found:
        out("no worker answered: start one with postroom worker (see docs/scale.md)")
        return
    from rich.table import Table

    table = Table("node", "alive", "version", "queues", "running tasks", "since", "last seen")
    for w in found:
        runs = w.get("running") or []
        running = f"{len(runs)}: " + ", ".join(f"{r['execution_id'][:12]} ({r['process_id']})" for r in runs) if runs else "0"
        table.add_row(w["node"], "yes" if w.get("alive") else "no", str(w.get("version") or "?"),
                      ", ".join(w.get("queues") or []), running, str(w.get("started_at") or ""),
                      "now" if w.get("alive") else str(w.get("last_seen") or "?"))
    console().print(table)
