"""Import checks of ``profile_element`` values read through a profile (given on the value
source, on a decision or route shape, or as the process's default): the path must name an
element of that profile, else the import stops naming the shape, the path and the fix
(otherwise it would read as empty text on every document)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ..errors import ConfigError
from ..model import COMPONENT_TYPES, Component, Loaded, Process, Profile
from ..repository import Repository
from ._map_checks import known_elements, path_problem

__all__ = ["profile_element_problems"]

Find = Callable[[str], Component | None]
_SHAPES_WITH_PROFILE = ("decision", "route")  # their profile: is the one their values read through


def profile_element_problems(repo: Repository, parsed: list[tuple[Component, Loaded]]) -> list[ConfigError]:
    here = {c.id: c for c, _ in parsed}

    def find(component_id: str) -> Component | None:
        if component_id in here:
            return here[component_id]
        record = repo.get_component(component_id)
        return None if record is None else COMPONENT_TYPES[record.type].model_validate(record.body)

    problems: list[ConfigError] = []
    for component, loaded in parsed:
        if isinstance(component, Process) and isinstance(loaded.data, dict):
            problems.extend(_check_process(component, loaded, find))
    return problems


def _check_process(process: Process, loaded: Loaded, find: Find) -> list[ConfigError]:
    shapes = loaded.data.get("shapes")
    if not isinstance(shapes, dict):
        return []
    problems = []
    for shape_id, shape in shapes.items():
        if not isinstance(shape, dict):
            continue
        shape_profile = shape.get("profile") if shape.get("type") in _SHAPES_WITH_PROFILE else None
        for where, source in _sources(shape, ("shapes", shape_id)):
            profile_id = source.get("profile") or shape_profile or process.profile
            path = source.get("profile_element")
            if not isinstance(profile_id, str) or not isinstance(path, str):
                continue
            profile = find(profile_id)
            if not isinstance(profile, Profile):
                continue  # a missing profile is reported when the process runs
            problem = None if _column_found(path, profile) else path_problem(path, profile)
            if problem:
                problems.append(ConfigError(
                    f"profile_element {path!r} (read through profile {profile.id}): {problem}", file=loaded.file,
                    line=loaded.line_of(where), component=process.id, shape=shape_id,
                    field=".".join(str(p) for p in where[2:]) or None,
                    fix=f"use an element of profile {profile.id}{known_elements(profile)}, or name the profile "
                        "the document has at this shape (profile: ID on the value)"))
    return problems


def _column_found(path: str, profile: Profile) -> bool:
    """A flat-file column is also found ignoring case and surrounding spaces (``NAME`` finds
    ``name``), as profile_element reads it."""
    if profile.profile_type != "flat_file":
        return False
    wanted = path.strip().lower()
    return any(f.name.strip().lower() == wanted for f in profile.fields)


def _sources(node: Any, where: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
    """Every value source ``{profile_element: PATH, ...}`` under ``node``, with its key path."""
    if isinstance(node, dict):
        if "profile_element" in node:
            yield where, node
            return
        for key, value in node.items():
            yield from _sources(value, (*where, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _sources(value, (*where, index))
