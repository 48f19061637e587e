"""The login routes (``/api/login``, ``/api/logout``, ``/api/session``, ``/api/users``) and the
answer every ``/api`` route gives while no user exists yet (503 with how to create one)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Body, Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse

from ..services import LoginRefused, Logins
from ._auth import SESSION_COOKIE, Principal, Role, current_principal, require

__all__ = ["FIRST_USER_HINT", "login_routes", "require_a_user"]

FIRST_USER_HINT = "no user yet: create the first with: postroom users add NAME --role admin --password-stdin"
OPEN_PATHS = frozenset({"/api/health"})


def _user(name: str, role: str) -> dict[str, str]:
    return {"name": name, "role": role}


def _credentials(body: Any) -> tuple[str, str] | JSONResponse:
    """user_name and password from the body; a 422 answer (never echoing a value) when malformed."""
    errors = []
    for field in ("user_name", "password"):
        if not isinstance(body, dict) or not isinstance(body.get(field), str) or not body[field]:
            errors.append({"field": field, "message": f"{field} is missing, empty or not a string",
                           "fix": 'send {"user_name": "...", "password": "..."}'})
    if errors:
        return JSONResponse({"detail": "the login needs a user_name and a password", "errors": errors},
                            status_code=422)
    return body["user_name"], body["password"]


def login_routes(app: FastAPI, logins: Logins) -> None:
    """POST /api/login, POST /api/logout, GET /api/session, GET /api/users."""
    app.state.logins = logins

    @app.post("/api/login")
    def login(request: Request, response: Response, body: Any = Body(None)) -> Any:
        """Log in: sets the session cookie and answers the user and the CSRF token to send
        as ``X-CSRF-Token`` with every POST, PUT, PATCH and DELETE."""
        credentials = _credentials(body)
        if isinstance(credentials, JSONResponse):
            return credentials
        user_name, password = credentials
        address = request.client.host if request.client else "unknown"
        try:
            info, token = logins.login(user_name, password, address)
        except LoginRefused as exc:
            if exc.retry_after is not None:
                return JSONResponse({"detail": exc.message}, status_code=429,
                                    headers={"Retry-After": str(exc.retry_after)})
            raise HTTPException(401, exc.message) from None
        response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", path="/",
                            secure=request.url.scheme == "https")
        return {"user": _user(info.name, info.role), "csrf_token": info.csrf_token}

    @app.post("/api/logout", status_code=204)
    def logout(request: Request, principal: Principal = Depends(require(Role.viewer))) -> Response:
        """End this session (needs the CSRF token)."""
        cookie = request.cookies.get(SESSION_COOKIE)
        if principal.via == "session" and cookie:
            logins.logout(cookie)
        response = Response(status_code=204)
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
        return response

    @app.get("/api/session")
    def session(request: Request, principal: Principal = Depends(require(Role.viewer))) -> Any:
        """Who is logged in, with the session's CSRF token (null for an API token)."""
        cookie = request.cookies.get(SESSION_COOKIE)
        csrf = logins.csrf_for(cookie) if principal.via == "session" and cookie else None
        return {"user": _user(principal.name, principal.role.value), "csrf_token": csrf}

    @app.get("/api/users")
    def users(_: Principal = Depends(require(Role.admin))) -> Any:
        """Every user (name, role, created_at); never a password hash."""
        return logins.users()


def require_a_user(app: FastAPI, logins: Logins) -> None:
    """While no user exists, every /api route but /api/health answers 503 with the hint.
    Asked of the repository on each request, so a user added meanwhile counts at once. Not
    while a test overrides :func:`current_principal` (its callers are not logins)."""

    @app.middleware("http")
    async def no_user_yet(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        if ((path == "/api" or path.startswith("/api/")) and path not in OPEN_PATHS
                and current_principal not in app.dependency_overrides):
            from starlette.concurrency import run_in_threadpool

            if not await run_in_threadpool(logins.has_users):
                return JSONResponse({"detail": FIRST_USER_HINT}, status_code=503)
        return await call_next(request)
