"""The schedule component: run a process on a cron expression in a time zone.

The checks here need nothing but the file: the cron expression parses (five fields or an
``@daily``-style alias), the time zone is an IANA name. Whether the process (and the
environment) exist is checked at import by ``services`` (it needs the repository).
"""

from __future__ import annotations

import difflib
import functools
import zoneinfo
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from ._components import COMPONENT_TYPES, Component

__all__ = ["CATCH_UP", "CRON_ALIASES", "Schedule", "check_cron", "check_timezone"]

#: what a schedule does with due times missed while no ``serve`` ran (see docs/schedules.md)
CATCH_UP = ("none", "last", "all")
CRON_ALIASES = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_EXAMPLE = "such as '0 2 * * *' (every day at 02:00) or '*/15 8-18 * * 1-5' (every quarter hour, 8 to 18, Monday to Friday)"


def check_cron(expression: str) -> str:
    """The expression, stripped; ValueError (naming the fix) when it is not five cron fields
    that parse, or one of the aliases."""
    text = " ".join(expression.split())
    if text.startswith("@"):
        if text.lower() not in CRON_ALIASES:
            raise ValueError(f"cron {expression!r} is not a cron expression; the aliases are "
                             f"{', '.join(CRON_ALIASES)}, or write five fields {_EXAMPLE}")
        return text.lower()
    fields = text.split(" ") if text else []
    if len(fields) != 5:
        raise ValueError(f"cron {expression!r} has {len(fields)} field{'s' if len(fields) != 1 else ''}; write five: "
                         f"minute hour day-of-month month day-of-week, {_EXAMPLE} (seconds are not supported)")
    # croniter on import runs `file` on the interpreter (platform.architecture()): loaded
    # when a schedule is checked, not by every command that loads the model
    from croniter import CroniterBadDateError, croniter

    try:
        iterator = croniter(text, datetime(2000, 1, 1))
    except (ValueError, KeyError) as exc:  # croniter's errors are ValueErrors
        raise ValueError(f"cron {expression!r} is not a cron expression ({exc}); write five fields: minute "
                         f"hour day-of-month month day-of-week, {_EXAMPLE}") from None
    try:
        iterator.get_next(datetime)
    except CroniterBadDateError:
        raise ValueError(f"cron {expression!r} never comes (a day that no month has, such as 30 February); "
                         "check the day-of-month and month fields") from None
    return text


@functools.cache
def _zone_names() -> tuple[str, ...]:
    """Region/City names (and UTC) to suggest; not the legacy abbreviations such as EST."""
    return tuple(sorted(n for n in zoneinfo.available_timezones() if "/" in n and not n.startswith("Etc/"))) + ("UTC",)


def check_timezone(name: str) -> str:
    """The name when it is an IANA time zone; ValueError naming the fix (and the closest names)."""
    try:
        zoneinfo.ZoneInfo(name)
        return name
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        pass
    close = difflib.get_close_matches(name, _zone_names(), n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise ValueError(f"timezone {name!r} is not a time zone{hint}; use an IANA name such as Europe/Paris, "
                     "America/New_York or UTC")


class Schedule(Component):
    """Runs ``process`` at each due time of ``cron`` in ``timezone`` (under ``postroom serve``)."""

    type: Literal["schedule"]
    name: str = Field("", max_length=500, description="Display name; the id when absent.")
    process: str = Field(..., min_length=1, description="Id of the process to run.")
    cron: str = Field(..., description="Five cron fields (minute hour day-of-month month day-of-week) or an "
                                       "alias such as @daily.")
    timezone: str = Field("UTC", description="IANA time zone the cron expression is read in, such as "
                                             "Europe/Paris.")
    environment: str | None = Field(None, description="Environment the runs use (its extensions).")
    enabled: bool = Field(True, description="False: the schedule does not fire.")
    catch_up: Literal["none", "last", "all"] = Field(
        "last", description="Due times missed while no serve ran: none (skip them), last (run once for them), "
                            "all (run each, oldest first, up to 100).")

    @model_validator(mode="before")
    @classmethod
    def _needs_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("id") and not data.get("name"):
            raise ValueError("a schedule needs an id (such as id: nightly-letters)")
        return data

    @field_validator("cron")
    @classmethod
    def _check_cron(cls, value: str) -> str:
        return check_cron(value)

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        return check_timezone(value)

    @model_validator(mode="after")
    def _name(self) -> Schedule:
        if not self.name:
            self.name = self.id
        return self


COMPONENT_TYPES["schedule"] = Schedule
