"""Import checks for schedules: the process they run exists (in this import or stored) and
is a process; the environment they name, when they name one, exists too. The file-only
checks (cron, time zone) are the model's (``model/_schedules.py``)."""

from __future__ import annotations

from ..errors import ConfigError
from ..model import Component, Loaded, Schedule
from ..repository import Repository

__all__ = ["schedule_problems"]


def _kind_of(repo: Repository, parsed: list[tuple[Component, Loaded]], component_id: str) -> str | None:
    """The type of the component ``component_id`` as it will be after this import; None when absent."""
    for component, _loaded in parsed:
        if component.id == component_id:
            return component.type
    record = repo.get_component(component_id)
    return record.type if record is not None else None


def _reference_problem(repo: Repository, parsed: list[tuple[Component, Loaded]], schedule: Schedule,
                       loaded: Loaded, field: str, wanted: str) -> ConfigError | None:
    ref = getattr(schedule, field)
    if ref is None:
        return None
    kind = _kind_of(repo, parsed, ref)
    if kind == wanted:
        return None
    what = f"is a {kind}, not a {wanted}" if kind else "does not exist"
    return ConfigError(f"{field} {ref!r} {what}", file=loaded.file, line=loaded.line_of((field,)),
                       component=schedule.id, field=field,
                       fix=f"name the id of a {wanted} (see: postroom components list --type {wanted}), or import "
                           f"the {wanted} in the same command")


def schedule_problems(repo: Repository, parsed: list[tuple[Component, Loaded]]) -> list[ConfigError]:
    """One problem per schedule field naming what does not exist."""
    problems: list[ConfigError] = []
    for component, loaded in parsed:
        if isinstance(component, Schedule):
            for field, wanted in (("process", "process"), ("environment", "environment")):
                problem = _reference_problem(repo, parsed, component, loaded, field, wanted)
                if problem is not None:
                    problems.append(problem)
    return problems
