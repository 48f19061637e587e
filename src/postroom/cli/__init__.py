"""The ``postroom`` command.

The Typer app (``_app.py``) is built on first use: the listing commands, called in their
simple forms, run without it (``_quick.py``), and importing this package imports neither.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._app import app

__all__ = ["app", "main"]


def main() -> None:
    from ._quick import quick_command

    quick = quick_command(sys.argv[1:])
    if quick is not None:
        sys.exit(quick())
    from ._app import app

    app()


def __getattr__(name: str) -> Any:
    if name == "app":
        from ._app import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
