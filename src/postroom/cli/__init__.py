"""The ``postroom`` command.

The Typer app (``_app.py``) is built on first use: the listing commands, called in their
simple forms, run without it (``_quick.py``), and importing this package imports neither.

Start-up: a command imports a few hundred modules (and builds the models' classes) before
it does anything; those imports allocate many objects and free almost none, so the cyclic
garbage collector's young collections (every 700 allocations) and the full one they lead to
find nothing and cost 30-60 ms of a ``postroom run``. :func:`main` turns the collector off
first thing; :func:`startup_done` (called when the command's repository is open, before
Typer's app runs, and at the latest when :func:`main` returns) moves what start-up built
out of the collector's sight (``gc.freeze``) and turns it back on.
"""

from __future__ import annotations

import gc
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._app import app

__all__ = ["app", "main", "startup_done"]

_PAUSED: list[bool] = []  # [True] while main() holds the collector off


def main() -> None:
    if gc.isenabled():  # a collector someone turned off stays off
        gc.disable()
        _PAUSED.append(True)
    try:
        _main()
    finally:
        startup_done()


def _main() -> None:
    from ._quick import quick_command

    quick = quick_command(sys.argv[1:])
    if quick is not None:
        sys.exit(quick())
    from ._app import app

    startup_done()
    app()


def startup_done() -> None:
    """The collector back on, if :func:`main` turned it off, with the objects start-up
    built frozen (never collected: modules, classes and models live as long as the process).
    Idempotent; a no-op outside :func:`main`."""
    if _PAUSED:
        _PAUSED.clear()
        gc.freeze()
        gc.enable()


def __getattr__(name: str) -> Any:
    if name == "app":
        from ._app import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
