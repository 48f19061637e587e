"""postroom secrets set / list / delete."""

from __future__ import annotations

import sys

import typer

from ._common import command, emit_json, out, repo

# The commands import services, runtime, engine and web inside their bodies on purpose: the CLI
# imports lazily so that `postroom --help` answers fast (DESIGN, "a lazy, scriptable CLI");
# no import here dodges a cycle.

secrets_app = typer.Typer(help="Store secrets (encrypted at rest) for ${secret:NAME} references.",
                          no_args_is_help=True)


@secrets_app.command("set")
@command
def set_cmd(name: str = typer.Argument(..., help="Secret name, as in ${secret:NAME}.")) -> None:
    """Store a secret; the value comes from a hidden prompt, or from stdin when piped."""
    from ..errors import ConfigError

    if sys.stdin.isatty():
        import getpass

        value = getpass.getpass(f"value for {name}: ")
    else:
        value = sys.stdin.read()
        if value.endswith("\r\n"):
            value = value[:-2]
        elif value.endswith("\n"):
            value = value[:-1]
    if not value:
        raise ConfigError("the secret value is empty", field=name, fix="type the value at the prompt or pipe it in")
    repo().set_secret(name, value)
    out(f"stored secret {name}")


@secrets_app.command("list")
@command
def list_cmd(as_json: bool = typer.Option(False, "--json")) -> None:
    """List secret names (never values)."""
    items = repo().list_secrets()
    if as_json:
        emit_json([{"name": n, "updated": t} for n, t in items])
        return
    for n, t in items:
        out(f"{n}\t{t:%Y-%m-%d %H:%M:%S}")


@secrets_app.command("delete")
@command
def delete_cmd(name: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Delete a secret; refused while a component references it."""
    from ..services import delete_secret

    delete_secret(repo(), name)
    if as_json:
        emit_json({"deleted": name})
    else:
        out(f"deleted secret {name}")
