"""What ``postroom serve`` answers outside ``/api``: the built browser app (``_ui``, which
``cd ui && npm ci && npm run build`` fills), ``index.html`` for the app's own routes, a page
with the first-user hint while no user exists, and a page saying to build the app when it
was not built. Plus the security headers on every answer, ``/api`` included."""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from ..services import Logins

__all__ = ["SECURITY_HEADERS", "UI_DIR", "page_routes", "security_headers"]

#: where Vite builds the browser app (ui/vite.config.ts: build.outDir)
UI_DIR = Path(__file__).parent / "_ui"

#: React Flow positions nodes with inline styles, hence style-src 'unsafe-inline' (styles only;
#: scripts stay 'self'); frame-src 'self' for the Dev Inbox's sandboxed message frames
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "frame-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Postroom</title></head>
<body><main><h1>Postroom</h1><p>{message}</p><pre>{command}</pre></main></body></html>
"""


def _page(message: str, command: str, status: int) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(message=html.escape(message), command=html.escape(command)), status_code=status)


def security_headers(app: FastAPI) -> None:
    """Every answer carries the Content-Security-Policy, nosniff and Referrer-Policy headers."""

    @app.middleware("http")
    async def add_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def _ui_file(ui_dir: Path, path: str) -> Path | None:
    """The built file at ``path`` inside ``ui_dir``; None for a directory, a missing file or
    a path that leaves the folder."""
    root = ui_dir.resolve()
    candidate = (root / path.lstrip("/")).resolve()
    if candidate != root and root in candidate.parents and candidate.is_file():
        return candidate
    return None


def page_routes(app: FastAPI, logins: Logins, ui_dir: Path = UI_DIR) -> None:
    """``GET /`` and every other path outside ``/api`` (added last: the API routes match first)."""

    async def page(request: Request) -> Response:
        path = request.url.path
        if path == "/api" or path.startswith("/api/"):
            return JSONResponse({"detail": f"no API route {path[:200]!r}: see /api/docs"}, status_code=404)
        if not await run_in_threadpool(logins.has_users):
            return _page("No user yet. Create the first one, then reload this page:",
                         "postroom users add NAME --role admin --password-stdin", 503)
        index = ui_dir / "index.html"
        if not index.is_file():
            return _page("The browser app was not built. Build it from the source folder, then reload this page:",
                         "cd ui && npm ci && npm run build", 503)
        found = _ui_file(ui_dir, path)
        if found is not None:
            return FileResponse(found)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    app.router.add_route("/{path:path}", page, methods=["GET", "HEAD"], include_in_schema=False)
