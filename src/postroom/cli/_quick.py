"""The listing commands, called without building the Typer app.

``postroom components list`` and ``postroom executions list`` are run by scripts and
people many times a day; building the whole command tree and coercing parameters (Typer
imports pydantic for that) costs them more than the listing itself. When the arguments
are exactly the simple forms below (each option at most once, ``--name VALUE``), the
command function is called directly, with the same defaults, output and exit codes.
Anything else (``--help``, ``--name=VALUE``, a repeated or unknown option, a value that
looks like an option, a negative ``--limit``) goes to Typer as before.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["quick_command"]

# option -> (parameter, kind): "flag" (no value), "text" or "count" (digits only)
_OPTIONS: dict[tuple[str, str], tuple[str, dict[str, tuple[str, str]], dict[str, Any]]] = {
    ("components", "list"): ("._components",
                             {"--type": ("type_", "text"), "--folder": ("folder", "text"),
                              "--json": ("as_json", "flag")},
                             {"type_": None, "folder": None, "as_json": False}),
    ("executions", "list"): ("._run",
                             {"--process": ("process", "text"), "--status": ("status", "text"),
                              "--limit": ("limit", "count"), "--json": ("as_json", "flag")},
                             {"process": None, "status": None, "limit": 50, "as_json": False}),
}


def quick_command(argv: list[str]) -> Callable[[], int] | None:
    """A call running ``argv`` (without the program name) and returning its exit code, or
    None when Typer should parse it."""
    entry = _OPTIONS.get(tuple(argv[:2]))  # type: ignore[arg-type]
    if entry is None or len(argv) < 2:
        return None
    module, options, defaults = entry
    kwargs = _parse(argv[2:], options, defaults)
    if kwargs is None:
        return None
    return lambda: _call(module, kwargs)


def _parse(args: list[str], options: dict[str, tuple[str, str]],
           defaults: dict[str, Any]) -> dict[str, Any] | None:
    kwargs = dict(defaults)
    seen: set[str] = set()
    i = 0
    while i < len(args):
        name = args[i]
        if name not in options or name in seen:
            return None
        seen.add(name)
        parameter, kind = options[name]
        if kind == "flag":
            kwargs[parameter] = True
            i += 1
            continue
        if i + 1 >= len(args) or args[i + 1].startswith("-") or not args[i + 1]:
            return None
        value = args[i + 1]
        if kind == "count":
            if not (value.isascii() and value.isdigit()):
                return None
            kwargs[parameter] = int(value)
        else:
            kwargs[parameter] = value
        i += 2
    return kwargs


def _call(module: str, kwargs: dict[str, Any]) -> int:
    """The command's exit code as Typer would give it: 0, the code of ``typer.Exit``, or 1
    when stdout is a closed pipe (``postroom executions list | head``)."""
    import importlib

    import typer

    command = importlib.import_module(module, __package__).list_cmd
    try:
        command(**kwargs)
        sys.stdout.flush()
    except typer.Exit as exc:
        return exc.exit_code
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        _silence_stdout()
        return 1
    return 0


def _silence_stdout() -> None:
    """Send what is left of stdout nowhere, so the exit's flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)
