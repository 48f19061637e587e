"""What every command shares: opening the repository, errors, JSON and tables.

Heavy modules (SQLAlchemy, pydantic models, connectors) are imported inside the
commands, so ``postroom --help`` answers fast.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["command", "console", "emit_json", "listing", "repo", "run_repo", "err", "out", "to_jsonable"]


def err(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def out(message: str = "") -> None:
    sys.stdout.write(message + "\n")


def to_jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            import base64

            return {"base64": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {k: to_jsonable(getattr(value, k)) for k in value.__dataclass_fields__}
    return value


def console():  # noqa: ANN201
    """A Rich console for stdout; wide when piped, so ids are never cut."""
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 240)


def emit_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(to_jsonable(payload), ensure_ascii=False, indent=2) + "\n")


_REPO = None


def repo():  # noqa: ANN201
    global _REPO
    if _REPO is None:
        from ..repository import open_repository
        from . import startup_done

        _REPO = open_repository()
        startup_done()
    return _REPO


def run_repo():  # noqa: ANN201
    """The repository for ``postroom run`` (see repository/_runstore.py): a run's own reads
    and writes on a current SQLite file without SQLAlchemy; what :func:`repo` returns after."""
    global _REPO
    if _REPO is None:
        from ..repository import open_run_repository
        from . import startup_done

        _REPO = open_run_repository()
        startup_done()
    return _REPO


def listing():  # noqa: ANN201
    """The repository for a command that only lists: plain sqlite3 when the SQLite schema is
    current (no SQLAlchemy import), else the full repository (see repository/_listing.py)."""
    from ..repository import open_listing
    from . import startup_done

    opened = open_listing()
    startup_done()
    return opened


def command(func: F) -> F:
    """Map Postroom errors to a clear message on stderr and the contract's exit codes."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from ..errors import PostroomError, ValidationError

        as_json = bool(kwargs.get("as_json"))
        try:
            return func(*args, **kwargs)
        except PostroomError as exc:
            problems = exc.problems if isinstance(exc, ValidationError) and exc.problems else [exc]
            if as_json:
                emit_json({"error": exc.message, "exit_code": exc.exit_code,
                           "problems": [{"message": p.message, "file": p.file, "line": p.line, "field": p.field,
                                         "fix": p.fix} for p in problems]})
            if isinstance(exc, ValidationError) and exc.problems:
                err(f"error: {exc.message}")
                for problem in problems:
                    err(f"  {problem}")
            else:
                err(f"error: {exc}")
            raise _exit(exc.exit_code if exc.exit_code in (1, 2, 3) else 1) from None
        except KeyboardInterrupt:
            err("interrupted")
            raise _exit(130) from None

    return wrapper  # type: ignore[return-value]


def _exit(code: int) -> BaseException:
    """Typer's Exit with ``code``; Typer is imported here, on the error paths only, so the
    quick commands (``_quick.py``) never load it when all goes well."""
    import typer

    return typer.Exit(code)
