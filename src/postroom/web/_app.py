"""The REST API of ``postroom serve`` (FastAPI). Every route but ``/api/health`` and
``/api/login`` needs a login or an API token (``_auth.py``, ``_login.py``).

Every answer is JSON built from the repository; none holds a secret value: component
bodies are stored with references (``${secret:NAME}``, ``${env:VAR}``) in place of
secrets, and a secret field that somehow holds a literal is masked again here.
"""

from __future__ import annotations

import base64
import os
import socket
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse

from .. import __version__ as _version
from .._http_guard import host_allowed, local_names
from ..connectors import get_connector
from ..errors import NotFound
from ..repository import ComponentRecord, Repository
from ..runtime import listener_report
from ..sdk import secret_fields
from ..services import (
    Logins,
    execution_list,
    execution_summary,
    execution_view,
    is_reference,
    list_watermarks,
    pick,
)
from ._auth import Role, require
from ._login import login_routes, require_a_user
from ._pages import UI_DIR, page_routes, security_headers

__all__ = ["create_app"]

#: what every read route depends on: any logged-in user or API token
VIEWER = [Depends(require(Role.viewer))]

MASK = "********"


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return {"base64": base64.b64encode(data).decode()}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


#: what the API shows of an execution (the CLI shows the lease instead of the trigger)
API_FIELDS = ("id", "process_id", "process_name", "process_version", "status", "mode", "started_at", "ended_at",
              "documents_in", "documents_out", "documents_failed", "error", "node", "truncated", "trigger",
              "listener", "connector_counts")


def _masked_body(record: ComponentRecord) -> dict[str, Any]:
    """The stored body; a secret field that is not a reference is masked."""
    body = dict(record.body)
    settings = body.get("settings")
    connector = body.get("connector")
    if record.type in ("connection", "operation") and isinstance(settings, dict) and connector:

        try:
            plugin = get_connector(str(connector))
        except Exception:  # noqa: BLE001 - an unknown connector: mask every non-reference string
            names = set(settings)
        else:
            model = plugin.connection_model if record.type == "connection" else plugin.operation_model
            names = set(secret_fields(model))
        settings = dict(settings)
        for name in names:
            value = settings.get(name)
            if isinstance(value, str) and value and not is_reference(value) and "${" not in value:
                settings[name] = MASK
        body["settings"] = settings
    return body


def _component(record: ComponentRecord, with_body: bool) -> dict[str, Any]:
    item: dict[str, Any] = {"id": record.id, "type": record.type, "name": record.name, "folder": record.folder,
                            "version": record.version, "created_at": record.created_at}
    if with_body:
        item["body"] = _masked_body(record)
    return item


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
               allowed_hosts: Iterable[str] = (), logins: Logins | None = None, ui_dir: Path = UI_DIR) -> FastAPI:
    """The API on ``repo``; ``runtime`` (a ListenerRuntime, or None with ``--no-listeners``)
    adds this process's own view of its listeners to ``/api/health``. Requests must name
    this machine in their Host header (an IP, localhost, ``bind_host``, the host name, or
    one of ``allowed_hosts``). Every route but ``/api/health`` and ``/api/login`` needs a
    login or an API token (``logins``, by default on ``repo``). Other paths serve the browser
    app built into ``ui_dir``."""
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

    _read_routes(app, repo)
    page_routes(app, logins, ui_dir)  # last: the API routes above match first
    return app


def _read_routes(app: FastAPI, repo: Repository) -> None:
    """Executions (rendered from services' one execution view) and components."""

    @app.get("/api/executions", dependencies=VIEWER)
    def executions(process: str | None = None, status: str | None = None,
                   limit: int = Query(50, ge=1, le=1000)) -> Any:
        """Recent executions, newest first."""
        return _jsonable([pick(execution_summary(r), API_FIELDS)
                          for r in execution_list(repo, process, status, limit)])

    @app.get("/api/executions/{execution_id}", dependencies=VIEWER)
    def execution(execution_id: str, documents: bool = False) -> Any:
        """One execution with its errors and log (and, with ?documents=true, the documents
        kept in test mode and the dry-run records)."""
        try:
            view = execution_view(repo, execution_id, documents)
        except NotFound:
            raise HTTPException(404, f"no execution {execution_id!r}") from None
        return _jsonable(view.render(API_FIELDS, error_time=True))

    @app.get("/api/components", dependencies=VIEWER)
    def components(type: str | None = None, folder: str | None = None, body: bool = True) -> Any:
        """The latest version of every component (secrets as references)."""
        return _jsonable([_component(r, body) for r in repo.list_components(type=type, folder=folder)])

    @app.get("/api/components/{component_id}", dependencies=VIEWER)
    def component(component_id: str, version: int | None = None) -> Any:
        record = repo.get_component(component_id, version)
        if record is None:
            raise HTTPException(404, f"no component {component_id!r}")
        return _jsonable(_component(record, True))
