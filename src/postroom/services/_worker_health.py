"""A worker's health endpoint (``postroom worker --health-port P``): ``GET /health`` answers
JSON with the node, the Postroom version, whether the worker takes runs (``alive``), whether
the broker and the database answer now, and the runs it executes; 200 when all is well, 503
otherwise, for a load balancer, a supervisor or a container orchestrator's probe.

Each request checks the broker and the database afresh, each within a few seconds (a server
that does not answer makes the answer slow, never hang). Nothing secret is shown: no URL, no
password; a failed check names the setting to look at."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ..errors import ConfigError, PostroomError
from ..repository import URL_ENV
from ..runtime import BROKER_ENV, ping_broker
from ._worker import WorkerState

__all__ = ["HealthServer", "health_report"]

_log = logging.getLogger("postroom.worker")
_CHECK_SECONDS = 3.0


def _check(attempt: Callable[[], object], setting: str) -> str | None:
    """None when ``attempt()`` works within a few seconds; else what went wrong (no secret:
    Postroom's own messages hide passwords, other errors are named by their type)."""
    pool = ThreadPoolExecutor(1)
    try:
        pool.submit(attempt).result(timeout=_CHECK_SECONDS)
        return None
    except FutureTimeout:
        return f"no answer within {_CHECK_SECONDS:.0f} s (check {setting})"
    except PostroomError as exc:
        return exc.message
    except Exception as exc:  # noqa: BLE001 - a driver's own error: its type, not its text
        return f"{type(exc).__name__} (check {setting})"
    finally:
        pool.shutdown(wait=False)


def health_report(state: WorkerState, broker_url: str) -> tuple[int, dict[str, Any]]:
    """The HTTP status and the JSON body of ``GET /health``."""
    info = state.info()
    broker = _check(lambda: ping_broker(broker_url, timeout=_CHECK_SECONDS), BROKER_ENV)
    database = _check(lambda: state.repo.get_execution("health-check"), URL_ENV)
    problems = [f"{name}: {error}" for name, error in (("broker", broker), ("database", database)) if error]
    if not state.alive:
        problems.insert(0, "the worker does not take runs (starting or shutting down)")
    body = {"node": info["node"], "version": info["version"], "healthy": not problems, "alive": state.alive,
            "broker_reachable": broker is None, "database_reachable": database is None,
            "running_tasks": len(info["running"]), "running": info["running"], "queues": info["queues"],
            "started_at": info["started_at"], "problems": problems}
    return (200 if not problems else 503), body


class HealthServer:
    """Serves ``GET /health`` on ``host:port`` in a daemon thread of the worker."""

    def __init__(self, state: WorkerState, broker_url: str, port: int, host: str = "127.0.0.1") -> None:
        handler = _handler(state, broker_url)
        try:
            self._server = ThreadingHTTPServer((host, port), handler)
        except OSError as exc:
            raise ConfigError(f"the health endpoint cannot listen on {host}:{port}: {exc.strerror or exc}",
                              field="--health-port", fix="choose a free port, or leave --health-port out") from None
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])

    def start(self) -> None:
        threading.Thread(target=self._server.serve_forever, name="postroom-health", daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(state: WorkerState, broker_url: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "postroom-worker"

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.path.split("?", 1)[0] != "/health":
                self._send(404, {"error": "not found: the worker serves GET /health only"})
                return
            status, body = health_report(state, broker_url)
            self._send(status, body)

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
            _log.debug("health: " + format, *args)

    return Handler
