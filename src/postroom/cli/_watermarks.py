"""postroom watermarks list / reset: what each mail get operation has already taken.

Only the Mail connector's get keeps watermarks; the Disk get has none to list or reset.
"""

from __future__ import annotations

import typer

from ._common import command, emit_json, out, repo

# The commands import services, runtime, engine and web inside their bodies on purpose: the CLI
# imports lazily so that `postroom --help` answers fast (DESIGN, "a lazy, scriptable CLI");
# no import here dodges a cycle.

watermarks_app = typer.Typer(help="What each mail get operation has already taken; reset to read again.",
                             no_args_is_help=True)


@watermarks_app.command("list")
@command
def list_cmd(as_json: bool = typer.Option(False, "--json")) -> None:
    """Each get operation's watermark: the operation, the mailbox (and selection), what it has
    taken and when that last changed. Operation (any): kept before watermarks were per
    operation; each operation reading that mailbox takes it over once."""
    from ..services import list_watermarks

    rows = list_watermarks(repo())
    if as_json:
        emit_json(rows)
        return
    if not rows:
        out("no watermarks yet: no mail get operation has run")
        return
    for row in rows:
        out(f"{row['operation'] or '(any)'}  {row['mailbox']}  {row['taken']}  "
            f"(updated {row['updated_at'].strftime('%Y-%m-%d %H:%M:%S')} UTC)")


@watermarks_app.command("reset")
@command
def reset_cmd(operation: str = typer.Argument(..., metavar="OPERATION", help="The get operation's id."),
              as_json: bool = typer.Option(False, "--json")) -> None:
    """Forget what OPERATION has taken: its next run reads as its first did (start_from: all
    reads every message again; now takes a new baseline; date reads from start_date)."""
    from ..services import reset_watermarks

    count = reset_watermarks(repo(), operation)
    if as_json:
        emit_json({"operation": operation, "reset": count})
    elif count:
        out(f"{operation}: forgot {count} watermark(s); its next run reads as on a first run (start_from)")
    else:
        out(f"{operation}: no watermark kept, nothing to reset")
