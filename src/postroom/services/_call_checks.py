"""Import checks for Process Call: the called process starts with data_passthrough, and no
process calls itself, directly or through others. The processes of this import count with
the stored ones (an import replaces the stored version of the same id)."""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError
from ..model import Component, Loaded
from ..repository import Repository

__all__ = ["call_problems", "call_warnings"]


def _bodies(repo: Repository, parsed: list[tuple[Component, Loaded]]) -> dict[str, dict[str, Any]]:
    bodies: dict[str, dict[str, Any]] = {r.id: r.body for r in repo.list_components(type="process")}
    for component, loaded in parsed:
        if component.type == "process":
            bodies[component.id] = loaded.data
    return bodies


def _calls(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(shape id, called process id) of every Process Call shape of a process body."""
    shapes = body.get("shapes") if isinstance(body, dict) else None
    out = []
    for shape_id, shape in (shapes or {}).items() if isinstance(shapes, dict) else ():
        if isinstance(shape, dict) and shape.get("type") == "process_call" and isinstance(shape.get("process"), str):
            out.append((str(shape_id), shape["process"]))
    return out


def _start_mode(body: dict[str, Any]) -> str:
    shapes = body.get("shapes") if isinstance(body, dict) else None
    start = shapes.get(body.get("start", "start")) if isinstance(shapes, dict) else None
    return str(start.get("mode", "no_data")) if isinstance(start, dict) else "no_data"


def call_problems(repo: Repository, parsed: list[tuple[Component, Loaded]]) -> list[ConfigError]:
    bodies = _bodies(repo, parsed)
    problems: list[ConfigError] = []
    for component, loaded in parsed:
        if component.type != "process":
            continue
        for shape_id, callee in _calls(loaded.data):
            line = loaded.line_of(("shapes", shape_id, "process"))
            if callee in bodies and _start_mode(bodies[callee]) != "data_passthrough":
                problems.append(ConfigError(
                    f"process {component.id} calls process {callee}, whose start shape is "
                    f"{_start_mode(bodies[callee])}; a called process takes the caller's documents",
                    fix=f"set mode: data_passthrough on the start shape of process {callee}",
                    file=loaded.file, line=line, component=component.id, shape=shape_id,
                    field=f"shapes.{shape_id}.process"))
            cycle = _cycle_from(bodies, component.id, callee)
            if cycle:
                problems.append(ConfigError(
                    "a process may not call itself, directly or through others: " + " → ".join(cycle),
                    fix="remove one of these process calls (a loop in one process is a decision that leads back)",
                    file=loaded.file, line=line, component=component.id, shape=shape_id,
                    field=f"shapes.{shape_id}.process"))
    return problems


def _cycle_from(bodies: dict[str, dict[str, Any]], caller: str, callee: str) -> list[str] | None:
    """The chain caller → callee → ... → caller, when there is one (depth first)."""
    stack: list[tuple[str, list[str]]] = [(callee, [caller, callee])]
    seen: set[str] = set()
    while stack:
        current, path = stack.pop()
        if current == caller:
            return path
        if current in seen or current not in bodies:
            continue
        seen.add(current)
        for _, nxt in _calls(bodies[current]):
            stack.append((nxt, path + [nxt]))
    return None


def call_warnings(repo: Repository, parsed: list[tuple[Component, Loaded]]) -> list[str]:
    """A called process that does not exist yet: accepted, since it may come in a later import."""
    bodies = _bodies(repo, parsed)
    warnings = []
    for component, loaded in parsed:
        if component.type == "process":
            for shape_id, callee in _calls(loaded.data):
                if callee not in bodies:
                    line = loaded.line_of(("shapes", shape_id, "process"))
                    warnings.append(f"{loaded.file}:{line}: shape {shape_id}: process {callee!r} does not exist yet; "
                                    "import it before running the process")
    return warnings
