"""Import checks of a map: its profiles and cross-reference tables exist, and every mapping's
paths name elements of the profiles. Each problem names the map, the mapping and the fix."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import ConfigError
from ..model import COMPONENT_TYPES, Component, CrossReference, Loaded, MapComponent, Profile
from ..model._maps import MapEntry
from ..model._paths import ElementPath, PathError, parse_path
from ..repository import Repository

__all__ = ["map_problems", "path_problem", "known_elements"]

Find = Callable[[str], Component | None]


def map_problems(repo: Repository, parsed: list[tuple[Component, Loaded]]) -> list[ConfigError]:
    here = {c.id: c for c, _ in parsed}

    def find(component_id: str) -> Component | None:
        if component_id in here:
            return here[component_id]
        record = repo.get_component(component_id)
        if record is None:
            return None
        return COMPONENT_TYPES[record.type].model_validate(record.body)

    problems: list[ConfigError] = []
    for component, loaded in parsed:
        if isinstance(component, MapComponent):
            problems.extend(_check_map(component, loaded, find))
    return problems


def _check_map(map_: MapComponent, loaded: Loaded, find: Find) -> list[ConfigError]:
    problems: list[ConfigError] = []
    profiles: list[Profile] = []
    for key in ("from_profile", "to_profile"):
        ref = getattr(map_, key)
        found = find(ref)
        if not isinstance(found, Profile):
            problems.append(ConfigError(
                f"map {map_.id}: {key} {ref!r} is not a profile" + ("" if found is None else f" (it is a {found.type})"),
                file=loaded.file, line=loaded.line_of((key,)), field=key,
                fix=f"import a profile with id {ref} together with the map, or name an existing one"))
        else:
            profiles.append(found)
    if len(profiles) < 2:
        return problems
    source, target = profiles
    for number, entry in enumerate(map_.mappings):
        where = ("mappings", number)
        for key, path, profile in _paths(entry, source, target):
            problem = _path_problem(path, profile)
            if problem:
                problems.append(ConfigError(
                    f"map {map_.id}: mapping {number + 1} ({key}: {path}): {problem}", file=loaded.file,
                    line=loaded.line_of((*where, key)), field=f"mappings.{number}.{key}",
                    fix=f"use an element of profile {profile.id}{_known(profile)}"))
        if entry.function == "cross_reference":
            table = _table_problem(entry, find)
            if table:
                problems.append(ConfigError(f"map {map_.id}: mapping {number + 1} (to: {entry.to}): {table[0]}",
                                            file=loaded.file, line=loaded.line_of((*where, "table")),
                                            field=f"mappings.{number}.table", fix=table[1]))
    return problems


def _paths(entry: MapEntry, source: Profile, target: Profile) -> list[tuple[str, str, Profile]]:
    out = [("to", entry.to, target)]
    if entry.from_:
        out.append(("from", entry.from_, source))
    out.extend(("inputs", item.path, source) for item in entry.inputs if item.path)
    return out


def path_problem(text: str, profile: Profile) -> str | None:
    """Why ``text`` names no element of ``profile`` (None when it names one)."""
    return _path_problem(text, profile)


def known_elements(profile: Profile) -> str:
    """The elements of ``profile``, for a fix (": a, b, c" or a hint for XML)."""
    return _known(profile)


def _path_problem(text: str, profile: Profile) -> str | None:
    try:
        path = parse_path(text, profile.profile_type)
    except PathError as exc:
        return str(exc)
    if profile.profile_type == "flat_file":
        names = [f.name for f in profile.fields]
    elif profile.profile_type == "database":
        names = [c.name for c in profile.columns]
    elif profile.profile_type == "json":
        return None if _in_tree(path, profile.elements) else "no such element in the profile"
    else:
        return None if _in_xml(path, profile) else "no such element in the profile"
    return None if path.names[0] in names else "no such field in the profile"


def _in_tree(path: ElementPath, elements: list[Any]) -> bool:
    for name in path.names:
        found = next((e for e in elements if e.name == name), None)
        if found is None:
            return False
        elements = found.elements
    return True


def _in_xml(path: ElementPath, profile: Profile) -> bool:
    steps = [s for s in path.steps if s.index is None]
    if steps and not steps[0].attribute and steps[0].name == profile.root:
        steps = steps[1:]
    elements: list[Any] = profile.elements
    attributes: list[Any] = profile.attributes
    for step in steps:
        if step.attribute:
            return any(a.name == step.name for a in attributes)
        found = next((e for e in elements if e.name == step.name), None)
        if found is None:
            return False
        elements, attributes = found.elements, found.attributes
    return True


def _known(profile: Profile) -> str:
    if profile.profile_type == "flat_file":
        return ": " + ", ".join(f.name for f in profile.fields)
    if profile.profile_type == "database":
        return ": " + ", ".join(c.name for c in profile.columns)
    if profile.profile_type == "json":
        return ": " + ", ".join(_flatten(profile.elements, ""))
    return f" (an XML path from the root: {profile.root}/child/@attribute)"


def _flatten(elements: list[Any], prefix: str) -> list[str]:
    out: list[str] = []
    for element in elements:
        path = f"{prefix}.{element.name}" if prefix else element.name
        if element.type == "array":
            path += "[*]"
        out.extend(_flatten(element.elements, path) if element.elements else [path])
    return out


def _table_problem(entry: MapEntry, find: Find) -> tuple[str, str] | None:
    table = find(entry.table or "")
    if not isinstance(table, CrossReference):
        return (f"cross_reference table {entry.table!r} does not exist",
                f"import a cross_reference with id {entry.table} with the map")
    for key in ("match", "output"):
        column = getattr(entry, key)
        if column not in table.columns:
            return (f"{key} {column!r} is not a column of {table.id}", "use one of: " + ", ".join(table.columns))
    return None
