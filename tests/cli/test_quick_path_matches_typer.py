"""The quick path (cli/_quick.py) parses the everyday forms of three commands without Typer;
it must mean what Typer means. For each of them: every option it knows is an option of the
Typer command filling the same parameter, every default it supplies is Typer's, and every
parameter it leaves out gets, from the command body's own signature, Typer's default too.
So changing a default or renaming an option in one place and not the other fails here."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Any

import pytest
import typer.main

from postroom.cli import _quick
from postroom.cli._app import app


def _click_command(path: tuple[str, ...]) -> Any:
    """The command as Typer builds it (Typer ships its own copy of click: duck-typed here)."""
    command: Any = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]
    return command


@pytest.mark.fast
@pytest.mark.parametrize("path", sorted(_quick._SPECS), ids=" ".join)  # noqa: SLF001 - the table under test
def test_the_quick_path_means_what_typer_means(path: tuple[str, ...]) -> None:
    spec = _quick._SPECS[path]  # noqa: SLF001
    command = _click_command(path)
    by_option = {opt: param for param in command.params for opt in param.opts}
    for option, (parameter, _kind) in spec.options.items():
        assert option in by_option, f"{' '.join(path)}: Typer has no option {option}"
        assert by_option[option].name == parameter, (option, by_option[option].name, parameter)
    typer_defaults = {param.name: param.default for param in command.params if param.param_type_name == "option"}
    for parameter, default in spec.defaults.items():
        assert typer_defaults[parameter] == default, (parameter, typer_defaults[parameter], default)
    body = getattr(importlib.import_module(spec.module, "postroom.cli"), spec.function)
    signature = inspect.signature(inspect.unwrap(body))
    supplied = set(spec.defaults) | {spec.argument} | {"environment"}  # environment: POSTROOM_ENVIRONMENT
    for name, default in typer_defaults.items():
        if name in supplied or name not in signature.parameters:
            continue
        left_out = signature.parameters[name].default
        typer_value = list(default) if isinstance(default, tuple) else default
        body_value = list(left_out) if isinstance(left_out, tuple) else left_out
        assert body_value == typer_value or (body_value is None and typer_value in ([], None)), (
            f"{' '.join(path)}: {name} defaults to {left_out!r} in {spec.function} but {default!r} in Typer")


@pytest.mark.fast
def test_run_inputs_repeat_in_order_and_odd_forms_go_to_typer() -> None:
    call = _quick.quick_command(["run", "p", "--input", "a.csv", "-q", "--input", "dir/b.csv"])
    assert call is not None
    assert call.args[1] == {"process": "p", "inputs": [Path("a.csv"), Path("dir/b.csv")], "quiet": True,  # type: ignore[attr-defined]
                             "test": False, "dry_run": False, "as_json": False, "environment": None}
    for args in (["run", "p", "--input"], ["run", "p", "--input", "--quiet"], ["run", "p", "--input", ""],
                 ["run", "p", "--input=a.csv"], ["run", "p", "-q", "-q"]):
        assert _quick.quick_command(args) is None, args
