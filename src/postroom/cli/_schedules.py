"""postroom schedules list / enable / disable: the schedules ``postroom serve`` fires.

Read from the repository, so they work while serve runs elsewhere; a change takes effect at
serve's next look (``--scheduler-tick``, a second by default).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import typer

from ._common import command, console, emit_json, out, repo

# The commands import services inside their bodies on purpose: the CLI imports lazily so that
# `postroom --help` answers fast (DESIGN, "a lazy, scriptable CLI").

schedules_app = typer.Typer(help="Schedules: processes run on a cron expression by postroom serve "
                                 "(see docs/schedules.md).", no_args_is_help=True)


def _when(value: datetime | None, zone: str = "UTC") -> str:
    """A time in the schedule's time zone, as the cron expression reads it."""
    if value is None:
        return ""
    from zoneinfo import ZoneInfo

    return f"{value.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} {zone}"


def _last(row: dict[str, Any]) -> str:
    if row["last_due_at"] is None:
        return "never"
    text = f"{_when(row['last_due_at'], row['timezone'])} {row['last_status']}"
    if row["last_execution_id"]:
        text += f" ({row['last_execution_id']})"
    return text


@schedules_app.command("list")
@command
def list_cmd(as_json: bool = typer.Option(False, "--json", help="Print the schedules as JSON.")) -> None:
    """Every schedule: its process, cron and time zone, whether it is enabled, its next due
    time and its last firing."""
    from ..services import list_schedules

    rows = list_schedules(repo())
    if as_json:
        emit_json(rows)
        return
    if not rows:
        out("no schedules: import a component of type: schedule (see docs/schedules.md)")
        return
    from rich.table import Table

    table = Table("schedule", "process", "cron", "time zone", "enabled", "catch up", "next due", "last fired")
    for row in rows:
        table.add_row(row["id"], row["process"], row["cron"], row["timezone"], "yes" if row["enabled"] else "no",
                      row["catch_up"], _when(row["next_due_at"], row["timezone"]) or "-", _last(row))
    console().print(table)


def _switch(schedule_id: str, enabled: bool, as_json: bool) -> None:
    from ..services import set_schedule_enabled

    row = set_schedule_enabled(repo(), schedule_id, enabled)
    if as_json:
        emit_json(row)
    elif enabled:
        out(f"schedule {schedule_id} enabled (version {row['version']}); next due {_when(row['next_due_at'], row['timezone'])}")
    else:
        out(f"schedule {schedule_id} disabled (version {row['version']}); postroom serve no longer fires it")


@schedules_app.command("enable")
@command
def enable_cmd(schedule_id: str = typer.Argument(..., metavar="ID", help="The schedule's id."),
               as_json: bool = typer.Option(False, "--json")) -> None:
    """Turn a schedule on. It counts from now: due times missed while it was off are not run."""
    _switch(schedule_id, True, as_json)


@schedules_app.command("disable")
@command
def disable_cmd(schedule_id: str = typer.Argument(..., metavar="ID", help="The schedule's id."),
                as_json: bool = typer.Option(False, "--json")) -> None:
    """Turn a schedule off: serve stops firing it at its next look."""
    _switch(schedule_id, False, as_json)
