"""The REST API of ``postroom serve`` (FastAPI): one router per resource (``_routes_*.py``).
Every route but ``/api/health`` and ``/api/login`` needs a login or an API token
(``_auth.py``, ``_login.py``); other paths serve the browser app (``_pages.py``).

Every answer is JSON built from the repository; none holds a secret value: component
bodies are stored with references (``${secret:NAME}``, ``${env:VAR}``) in place of
secrets, and a secret field that somehow holds a literal is masked again (services).
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from .. import __version__ as _version
from .._http_guard import host_allowed, local_names
from ..repository import Repository
from ..runtime import listener_report
from ..services import DevInbox, Logins, RunService, list_watermarks
from ._auth import Role, require
from ._errors import install_error_handlers
from ._json import jsonable as _jsonable
from ._login import login_routes, require_a_user
from ._pages import UI_DIR, page_routes, security_headers
from ._routes_components import components_router
from ._routes_deployments import deployments_router
from ._routes_devmail import devmail_router
from ._routes_executions import executions_router
from ._routes_schedules import schedules_router
from ._routes_schemas import schemas_router
from ._routes_secrets import secrets_router

__all__ = ["create_app"]

#: what every read route depends on: any logged-in user or API token
VIEWER = [Depends(require(Role.viewer))]


def _guard_hosts(app: FastAPI, names: set[str]) -> None:
    """Refuse requests whose Host header is not a name of this machine (DNS rebinding)."""

    @app.middleware("http")
    async def check_host(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        host = request.headers.get("host", "")
        if not host_allowed(host, names):
            return JSONResponse(status_code=421, content={
                "detail": f"this API answers only to local host names, not {host[:100]!r}: open it as "
                          "http://127.0.0.1:PORT/api or http://localhost:PORT/api, or start postroom serve "
                          "with --allowed-host NAME for a proxy's name"})
        return await call_next(request)


def create_app(repo: Repository, runtime: Any = None, *, bind_host: str = "127.0.0.1",
               allowed_hosts: Iterable[str] = (), logins: Logins | None = None, ui_dir: Path = UI_DIR,
               runs: RunService | None = None) -> FastAPI:
    """The API on ``repo``; ``runtime`` (a ListenerRuntime, or None with ``--no-listeners``)
    adds this process's own view of its listeners to ``/api/health``. Requests must name
    this machine in their Host header (an IP, localhost, ``bind_host``, the host name, or
    one of ``allowed_hosts``). Every route but ``/api/health`` and ``/api/login`` needs a
    login or an API token (``logins``, by default on ``repo``). Other paths serve the browser
    app built into ``ui_dir``. ``runs``: where runs started through the API go (serve passes
    the one its schedules use; by default a new one)."""
    app = FastAPI(title="Postroom", version=_version, docs_url="/api/docs", openapi_url="/api/openapi.json",
                  redoc_url=None)
    logins = logins or Logins(repo)
    require_a_user(app, logins)
    _guard_hosts(app, local_names(bind_host, allowed_hosts))
    security_headers(app)  # the outermost middleware: on every answer, 421 and 503 included
    login_routes(app, logins)

    @app.get("/api/health")
    def health() -> Any:
        """Is this serve process up and can it reach its repository?"""
        payload: dict[str, Any] = {"version": _version, "node": socket.gethostname(), "pid": os.getpid(),
                                   "listeners_enabled": runtime is not None}
        try:
            report = listener_report(repo)
        except Exception as exc:  # noqa: BLE001 - a health check reports, never raises
            payload.update(status="error", database="unreachable", error=str(exc))
            return JSONResponse(_jsonable(payload), status_code=503)
        states: dict[str, int] = {}
        for row in report:
            state = "stale" if row["stale"] else row["state"]
            states[state] = states.get(state, 0) + 1
        own = [{"listener": h.listener, "state": h.state, "consecutive_failures": h.consecutive_failures,
                "last_check_at": h.last_check_at, "last_error": h.last_error}
               for h in (runtime.health() if runtime is not None else [])]
        failing = any(item["state"] == "failed" for item in own)
        payload.update(status="degraded" if failing else "ok", database="ok", listener_states=states,
                       instance=getattr(runtime, "instance", None), this_instance=own)
        return _jsonable(payload)

    @app.get("/api/listeners", dependencies=VIEWER)
    def listeners() -> Any:
        """Every listener's health, one row per listener and serve process."""
        return _jsonable(listener_report(repo))

    @app.get("/api/watermarks", dependencies=VIEWER)
    def watermarks() -> Any:
        """What each mail get operation has already taken (as ``postroom watermarks list``)."""
        return _jsonable(list_watermarks(repo))

    _include_routes(app, repo, runs or RunService(repo))
    page_routes(app, logins, ui_dir)  # last: the API routes above match first
    return app


def _include_routes(app: FastAPI, repo: Repository, runs: RunService) -> None:
    """The API's resources, one router each (the one error shape for all)."""
    install_error_handlers(app)
    app.state.runs = runs
    _stop_runs_on_shutdown(app, runs)
    for router in (components_router(repo), secrets_router(repo), executions_router(repo, runs), schemas_router(),
                   devmail_router(DevInbox()), schedules_router(repo), deployments_router(repo)):
        app.include_router(router)


def _stop_runs_on_shutdown(app: FastAPI, runs: RunService) -> None:
    """When the server stops, runs still going stop after what is in flight (and are waited for)."""
    previous = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        async with previous(application) as state:
            yield state
        await run_in_threadpool(runs.shutdown)

    app.router.lifespan_context = lifespan
