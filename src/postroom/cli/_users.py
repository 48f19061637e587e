"""postroom users add / list / delete and postroom tokens create / list / revoke."""

from __future__ import annotations

import sys

import typer

from ._common import command, console, emit_json, out, repo

# The commands import services inside their bodies on purpose: the CLI imports lazily so that
# `postroom --help` answers fast (DESIGN, "a lazy, scriptable CLI").

users_app = typer.Typer(help="Logins of the web app and the REST API (see docs/web.md).", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens for scripts: 'Authorization: Bearer TOKEN' (see docs/web.md).",
                         no_args_is_help=True)

ROLE_HELP = "viewer (reads), builder (also edits, tests and runs) or admin (also users and secrets)."


def _read_password(from_stdin: bool) -> str:
    """The password: one line of stdin with --password-stdin, else typed twice at a hidden prompt."""
    from ..errors import ConfigError

    if from_stdin:
        line = sys.stdin.readline()
        return line[:-2] if line.endswith("\r\n") else line[:-1] if line.endswith("\n") else line
    import getpass

    first = getpass.getpass("password: ")
    if first and getpass.getpass("password again: ") != first:
        raise ConfigError("the two passwords differ", field="password", fix="type the same password twice")
    return first


@users_app.command("add")
@command
def add_cmd(name: str = typer.Argument(..., help="User name (letters, digits, . _ @ -)."),
            role: str = typer.Option(..., "--role", help=ROLE_HELP),
            password_stdin: bool = typer.Option(False, "--password-stdin",
                                                help="Read the password from the first line of stdin.")) -> None:
    """Add a user who can log in to the web app at once (even while serve runs)."""
    from ..services import add_user, check_role

    check_role(role)  # before the prompt: a typo in --role should not cost typing a password
    user = add_user(repo(), name, role, _read_password(password_stdin))
    out(f"added user {user.name} ({user.role})")


@users_app.command("list")
@command
def list_cmd(as_json: bool = typer.Option(False, "--json", help="Print the users as JSON.")) -> None:
    """Users and their roles (never a password or its hash)."""
    from ..services import Logins

    rows = Logins(repo()).users()
    if as_json:
        emit_json(rows)
        return
    if not rows:
        out("no users: add the first with: postroom users add NAME --role admin --password-stdin")
        return
    from rich.table import Table

    table = Table("name", "role", "created")
    for row in rows:
        table.add_row(row["name"], row["role"], (row["created_at"] or "")[:19].replace("T", " "))
    console().print(table)


@users_app.command("delete")
@command
def delete_cmd(name: str = typer.Argument(..., help="User name.")) -> None:
    """Delete a user; their sessions end at once."""
    from ..services import delete_user

    delete_user(repo(), name)
    out(f"deleted user {name}")


@tokens_app.command("create")
@command
def token_create_cmd(name: str = typer.Argument(..., help="Token name (what the script is), e.g. nightly-export."),
                     role: str = typer.Option("viewer", "--role", help="The token's own role: " + ROLE_HELP)) -> None:
    """Create an API token and print it once (only its hash is stored)."""
    from ..services import create_api_token

    record, token = create_api_token(repo(), name, role)
    out(token)
    sys.stderr.write(f"created API token {record.name} ({record.role}); it is shown only now: keep it safe, "
                     "send it as 'Authorization: Bearer TOKEN'\n")


@tokens_app.command("list")
@command
def token_list_cmd(as_json: bool = typer.Option(False, "--json", help="Print the tokens as JSON.")) -> None:
    """API tokens: name, role, created, last used (never the token)."""
    rows = [{"name": t.name, "role": t.role, "created_at": t.created_at, "last_used_at": t.last_used_at}
            for t in repo().list_api_tokens()]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        out("no API tokens: create one with: postroom tokens create NAME --role viewer|builder|admin")
        return
    for row in rows:
        used = f"{row['last_used_at']:%Y-%m-%d %H:%M:%S}" if row["last_used_at"] else "never used"
        out(f"{row['name']}\t{row['role']}\t{row['created_at']:%Y-%m-%d %H:%M:%S}\t{used}")


@tokens_app.command("revoke")
@command
def token_revoke_cmd(name: str = typer.Argument(..., help="Token name.")) -> None:
    """Revoke an API token: requests with it get 401 at once."""
    from ..services import revoke_api_token

    revoke_api_token(repo(), name)
    out(f"revoked API token {name}")
