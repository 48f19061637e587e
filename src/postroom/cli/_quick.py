"""The everyday commands, called without building the Typer app.

``postroom components list``, ``postroom executions list`` and ``postroom run PROCESS`` are
run by scripts and people many times a day; building the whole command tree and coercing
parameters (Typer builds a pydantic adapter per parameter) costs a listing more than the
listing itself. When the arguments are exactly the simple forms below (each option at most
once, ``--name VALUE``), the command function is called directly, with the same defaults,
output and exit codes. Anything else (``--help``, ``--name=VALUE``, a repeated or unknown
option (``--input`` may repeat), a value that looks like an option, a negative ``--limit``)
goes to Typer as before.
"""

from __future__ import annotations

import errno
import functools
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["quick_command"]

# What a command accepts here: its module and function, the parameter its one argument fills
# (if any), its options (option -> (parameter, kind): "flag" takes no value, "text" one, "count"
# digits only, "paths" one path each time it is given, in order, as Typer's list[Path] option)
# and the parameters' defaults (as the command's Typer options declare them).
@dataclass(frozen=True)
class _Spec:
    module: str
    function: str
    argument: str | None
    options: dict[str, tuple[str, str]]
    defaults: dict[str, Any]


_SPECS = {
    ("components", "list"): _Spec("._lists", "components_list", None,
                                  {"--type": ("type_", "text"), "--folder": ("folder", "text"),
                                   "--json": ("as_json", "flag")},
                                  {"type_": None, "folder": None, "as_json": False}),
    ("executions", "list"): _Spec("._lists", "executions_list", None,
                                  {"--process": ("process", "text"), "--status": ("status", "text"),
                                   "--limit": ("limit", "count"), "--json": ("as_json", "flag")},
                                  {"process": None, "status": None, "limit": 50, "as_json": False}),
    # `postroom run PROCESS` with flags and --input files; --environment, --version... go to Typer
    ("run",): _Spec("._run_local", "run_here", "process",
                    {"--json": ("as_json", "flag"), "--quiet": ("quiet", "flag"), "-q": ("quiet", "flag"),
                     "--test": ("test", "flag"), "--dry-run": ("dry_run", "flag"),
                     "--input": ("inputs", "paths")},
                    {"test": False, "dry_run": False, "as_json": False, "quiet": False}),
}


def quick_command(argv: list[str]) -> Callable[[], int] | None:
    """A call running ``argv`` (without the program name) and returning its exit code, or
    None when Typer should parse it."""
    for size in (2, 1):
        spec = _SPECS.get(tuple(argv[:size]))
        if spec is not None and len(argv) >= size:
            kwargs = _parse(argv[size:], spec)
            return None if kwargs is None else functools.partial(_call, spec, kwargs)
    return None


def _parse(args: list[str], spec: _Spec) -> dict[str, Any] | None:
    kwargs = dict(spec.defaults)
    if spec.argument is not None:
        if not args or not args[0] or args[0].startswith("-"):
            return None
        kwargs[spec.argument] = args[0]
        args = args[1:]
        if spec.function == "run_here":  # its --environment option reads POSTROOM_ENVIRONMENT
            kwargs["environment"] = os.environ.get("POSTROOM_ENVIRONMENT") or None
    seen: set[str] = set()
    i = 0
    while i < len(args):
        name = args[i]
        if name not in spec.options:
            return None
        parameter, kind = spec.options[name]
        if parameter in seen and kind != "paths":
            return None
        seen.add(parameter)
        if kind == "flag":
            kwargs[parameter] = True
            i += 1
            continue
        if i + 1 >= len(args) or not args[i + 1] or args[i + 1].startswith("-"):
            return None
        value = args[i + 1]
        if kind == "count":
            if not (value.isascii() and value.isdigit()):
                return None
            kwargs[parameter] = int(value)
        elif kind == "paths":
            kwargs.setdefault(parameter, []).append(Path(value))
        else:
            kwargs[parameter] = value
        i += 2
    return kwargs


def _call(spec: _Spec, kwargs: dict[str, Any]) -> int:
    """The command's exit code as Typer would give it: 0, the code of ``typer.Exit``, or 1
    when stdout is a closed pipe (``postroom executions list | head``)."""
    import importlib

    command = getattr(importlib.import_module(spec.module, __package__), spec.function)
    try:
        code = command(**kwargs)
        sys.stdout.flush()
    except RuntimeError as exc:  # typer.Exit is one; Typer is imported only to recognise it
        import typer

        if isinstance(exc, typer.Exit):
            return exc.exit_code
        raise
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        _silence_stdout()
        return 1
    return code if isinstance(code, int) else 0


def _silence_stdout() -> None:
    """Send what is left of stdout nowhere, so the exit's flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)
