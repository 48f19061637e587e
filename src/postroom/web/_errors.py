"""One error shape for every route: ``{"detail": "...", "errors": [{"field", "message", "fix"}]}``.

Postroom's own errors map to a status (NotFound 404, Conflict 409, bad input 422, a server
that cannot be reached 502); FastAPI's request validation answers 422 in the same shape.
Messages never hold a secret value (the errors do not: callers name secrets, never show them).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from ..errors import Conflict, NotFound, PostroomError, ValidationError

__all__ = ["install_error_handlers", "error_status"]


def error_status(exc: PostroomError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Conflict):
        return 409
    return 502 if exc.exit_code == 3 else 422


def _problem(exc: PostroomError) -> dict[str, Any]:
    return {"field": exc.field, "message": exc.message, "fix": exc.fix}


def _postroom_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PostroomError)
    content: dict[str, Any] = {"detail": exc.message if isinstance(exc, ValidationError) else str(exc)}
    problems = exc.problems if isinstance(exc, ValidationError) and exc.problems else (
        [exc] if exc.field else [])
    if problems:
        content["errors"] = [_problem(p) for p in problems]
    if isinstance(exc, Conflict) and exc.used_by:
        content["used_by"] = exc.used_by
    return JSONResponse(content, status_code=error_status(exc))


def _field(loc: tuple[Any, ...]) -> str:
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(str(p) for p in parts)


def _request_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"field": _field(tuple(e.get("loc", ()))), "message": str(e.get("msg", "")).removeprefix(
        "Value error, "), "fix": "send it as the API describes (see /api/docs)"} for e in exc.errors()]
    first = errors[0] if errors else {"field": "", "message": "the request is not valid"}
    detail = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
    return JSONResponse({"detail": f"the request is not valid: {detail} (see /api/docs)", "errors": errors},
                        status_code=422)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(PostroomError, _postroom_error)
    app.add_exception_handler(RequestValidationError, _request_error)
