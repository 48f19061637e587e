"""Import, export and browse components."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from .. import model  # its load_file and dump import PyYAML on first use
from ..connectors import get_connector
from ..engine import script_steps, scripts_allowed
from ..errors import ConfigError, NotFound, PostroomError, ValidationError
from ..model import (
    COMPONENT_TYPES,
    FOLDER_PART_MAX,
    Component,
    Loaded,
    MapComponent,
    parse_component,
)
from ..repository import ComponentRecord, Repository
from ..sdk import secret_fields
from ._call_checks import call_problems, call_warnings
from ._environments import environment_problems, environment_secrets
from ._import_checks import import_warnings
from ._map_checks import map_problems
from ._profile_checks import profile_element_problems
from ._schedule_checks import schedule_problems
from ._secrets import REFERENCE, is_reference, secret_name_for

__all__ = ["ImportResult", "import_paths", "export_components", "component_from_record", "validate_settings",
           "collect_files", "check_loaded", "store_checked", "component_yaml"]

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass
class ImportResult:
    saved: list[ComponentRecord] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def collect_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file()))
        elif path.exists():
            files.append(path)
        else:
            raise ConfigError("no such file or folder", file=str(path), fix="check the path")
    return files


def validate_settings(component: Component, loaded: Loaded | None = None) -> Any:
    """Validate a connection's or operation's settings against its connector's schema."""
    file = loaded.file if loaded else None
    try:
        connector = get_connector(component.connector)  # type: ignore[attr-defined]
    except ConfigError as exc:
        raise ConfigError(exc.message, file=file, line=loaded.line_of(("connector",)) if loaded else None,
                          field="connector", fix=exc.fix) from None
    model = connector.connection_model if component.type == "connection" else connector.operation_model
    settings = component.settings  # type: ignore[attr-defined]
    try:
        return model.model_validate(settings)
    except PydanticValidationError as exc:
        problems: list[PostroomError] = []
        for err in exc.errors(include_input=False):
            value = settings.get(err["loc"][0]) if err["loc"] else None
            if isinstance(value, str) and REFERENCE.search(value):
                continue  # ${env:...} / ${secret:...}: validated at run time, once resolved
            context = err.get("ctx") or {}
            # a check of the whole settings (sdk.setting_error) names the field it is about
            named = (str(context["field"]),) if not err["loc"] and context.get("field") else ()
            loc = ("settings",) + (tuple(err["loc"]) or named)
            message = err["msg"].removeprefix("Value error, ")
            fix = context.get("fix") or _setting_fix(model, err)
            problems.append(ConfigError(message, file=file, line=loaded.line_of(loc) if loaded else None,
                                        component=component.id, field=".".join(map(str, loc)), fix=fix))
        if not problems:
            return None  # only references left to check: the run validates the resolved settings
        raise ValidationError(str(problems[0]), problems=problems) from None


def _setting_fix(model: Any, err: Any) -> str | None:
    """The fix of a setting's error: by pydantic's error type; a bound names the field's range."""
    kind = err["type"]
    if kind == "extra_forbidden":
        return "remove it or use one of: " + ", ".join(model.model_fields)
    if kind in _BOUNDS and err["loc"]:
        field = model.model_json_schema(by_alias=True).get("properties", {}).get(str(err["loc"][0]), {})
        low, high = _bounds(field)
        if low is not None and high is not None:
            return f"write a number from {low} to {high}"
        bound = next(iter((err.get("ctx") or {}).values()), None)
        return f"write a number {_BOUNDS[kind]} {bound}" if bound is not None else None
    return _TYPE_FIXES.get(kind)


#: pydantic's bound errors, as the fix words them
_BOUNDS = {"less_than_equal": "up to", "less_than": "below", "greater_than_equal": "of at least",
           "greater_than": "above"}


def _bounds(field: dict[str, Any]) -> tuple[Any, Any]:
    """A number field's inclusive minimum and maximum (a nullable field's from its non-null option)."""
    for option in [field, *field.get("anyOf", [])]:
        if "minimum" in option or "maximum" in option:
            return option.get("minimum"), option.get("maximum")
    return None, None


#: the fix of a setting's error by pydantic's error type (extra keys get the known names)
_TYPE_FIXES = {"missing": "add it", "int_parsing": "write a whole number, such as 587",
               "int_type": "write a whole number, such as 587", "bool_parsing": "write true or false",
               "bool_type": "write true or false", "float_parsing": "write a number, such as 30",
               "string_type": "write it as text (in quotes)", "literal_error": "use one of the values listed"}


def import_paths(repo: Repository, paths: Iterable[str | os.PathLike[str]]) -> ImportResult:
    """Validate every file first; store everything or nothing."""
    names = [str(p) for p in paths]
    files = collect_files(names)
    if not files:
        raise ConfigError("no component files (.yaml, .yml) found", fix="name a file or a folder holding them")
    named = {os.path.abspath(p) for p in names if not os.path.isdir(p)}
    result = ImportResult()
    parsed, problems = _parse_files(files, named, result.warnings)
    _check_unique_ids(parsed, problems)
    if not problems:
        problems.extend(call_problems(repo, parsed))
        problems.extend(map_problems(repo, parsed))
        problems.extend(schedule_problems(repo, parsed))
        problems.extend(environment_problems(parsed, _lookup(repo, parsed), validate_settings))
        problems.extend(profile_element_problems(repo, parsed))
    if problems:
        count = len(problems)
        head = f"nothing was imported: {count} problem{'s' if count > 1 else ''} found"
        raise ValidationError(head, problems=problems)
    if not parsed:
        raise ConfigError("no components found: every file is empty", file=", ".join(names),
                          fix="write components (type, name...) into the files")
    result.warnings.extend(import_warnings(repo, parsed))
    result.warnings.extend(call_warnings(repo, parsed))
    _store(repo, parsed, result)
    return result


def _parse_files(files: list[Path], named: set[str],
                 warnings: list[str]) -> tuple[list[tuple[Component, Loaded]], list[PostroomError]]:
    """Every component of every file, and every problem found (nothing stops at the first)."""
    problems: list[PostroomError] = []
    parsed: list[tuple[Component, Loaded]] = []
    for path in files:
        try:
            documents = model.load_file(path)
        except ConfigError as exc:
            problems.append(exc)
            continue
        if not documents:
            if os.path.abspath(path) in named:  # named on the command line: the user expected components
                problems.append(ConfigError("no components in this file: it is empty or holds only comments",
                                            file=str(path), fix="write a component (type, name...) into it, "
                                            "or leave the file out"))
            else:
                warnings.append(f"{path}: no components in this file (empty or only comments); skipped")
            continue
        for loaded in documents:
            component, found = check_loaded(loaded)
            problems.extend(found)
            if component is not None:
                parsed.append((component, loaded))
    return parsed, problems


def check_loaded(loaded: Loaded) -> tuple[Component | None, list[PostroomError]]:
    """One component as import checks it (the CLI's files and the API's bodies alike): the
    component, or None and every problem found."""
    try:
        component = parse_component(loaded)
        if component.type in ("connection", "operation"):
            validate_settings(component, loaded)
        refused = refused_scripts(component, loaded)
    except ValidationError as exc:
        return None, list(exc.problems or [exc])
    except ConfigError as exc:
        return None, [exc]
    return (None if refused else component), list(refused)


def _check_unique_ids(parsed: list[tuple[Component, Loaded]], problems: list[PostroomError]) -> None:
    seen: dict[str, str] = {}
    for component, loaded in parsed:
        if component.id in seen:
            problems.append(ConfigError(
                f"id {component.id!r} is used twice (also in {seen[component.id]})", file=loaded.file,
                line=loaded.line_of(("id",)), field="id", fix="give each component its own id"))
        seen[component.id] = loaded.file


def store_checked(repo: Repository, parsed: list[tuple[Component, Loaded]], result: ImportResult,
                  from_files: bool = True) -> None:
    """Store components :func:`check_loaded` accepted (``from_files``: remember each one's file);
    an environment is checked against what it extends first."""
    problems = environment_problems(parsed, _lookup(repo, parsed), validate_settings)
    if problems:
        raise ValidationError(str(problems[0]), problems=problems)
    _store(repo, parsed, result, from_files)


def _store(repo: Repository, parsed: list[tuple[Component, Loaded]], result: ImportResult,
           from_files: bool = True) -> None:
    """Literal secrets into the secret store (replaced by references), then the components."""
    secrets_to_store: list[tuple[str, str]] = []
    records = []
    for component, loaded in parsed:
        body = _as_written(component, loaded)
        if component.type in ("connection", "operation"):
            connector = get_connector(component.connector)  # type: ignore[attr-defined]
            model = connector.connection_model if component.type == "connection" else connector.operation_model
            for name in secret_fields(model):
                value = body.get("settings", {}).get(name)
                if isinstance(value, str) and value and not is_reference(value):
                    secret = secret_name_for(component.id, name)
                    secrets_to_store.append((secret, value))
                    body["settings"][name] = f"${{secret:{secret}}}"
        secrets_to_store.extend(_environment_secrets(repo, parsed, component, body))
        records.append(ComponentRecord(id=component.id, type=component.type, name=component.name, body=body,
                                       folder=component.folder,
                                       source_file=os.path.abspath(loaded.file) if from_files else None))
    for name, value in secrets_to_store:
        repo.set_secret(name, value)
    result.saved = repo.save_components(records)


def _environment_secrets(repo: Repository, parsed: list[tuple[Component, Loaded]], component: Component,
                         body: dict[str, Any]) -> list[tuple[str, str]]:
    """An environment's literal secret overrides, moved out of ``body`` (see environment_secrets)."""
    if component.type != "environment":
        return []
    lookup = _lookup(repo, parsed)
    moved = []
    for kind in ("connections", "operations"):
        for target_id in getattr(component.extensions, kind):  # type: ignore[attr-defined]
            moved.extend(environment_secrets(component, body, lookup(target_id)))
    return moved


def _lookup(repo: Repository, parsed: list[tuple[Component, Loaded]]) -> Callable[[str], Component | None]:
    """A component by id: this import's, else the stored one (None when neither)."""
    imported = {c.id: c for c, _ in parsed}

    def find(component_id: str) -> Component | None:
        if component_id in imported:
            return imported[component_id]
        record = repo.get_component(component_id)
        return component_from_record(record) if record else None

    return find


def _as_written(component: Component, loaded: Loaded) -> dict[str, Any]:
    """The component as the user wrote it (so export gives their file back), with the id
    filled in when it was derived from the name; never a version."""
    import copy

    body = copy.deepcopy(loaded.data)
    body.pop("version", None)
    if "id" not in body:
        items = list(body.items())
        at = next((i for i, (k, _) in enumerate(items) if k == "name"), len(items) - 1) + 1
        items.insert(at, ("id", component.id))
        body = dict(items)
    if isinstance(body.get("settings"), dict):
        body["settings"] = dict(body["settings"])
    return body


def component_from_record(record: ComponentRecord) -> Component:
    model = COMPONENT_TYPES[record.type]
    component = model.model_validate(record.body)
    component.version = record.version
    return component


def export_components(repo: Repository, out: str | os.PathLike[str]) -> list[Path]:
    """Write each component to ``OUT/<folder>/<id>.yaml``; secrets stay references."""
    written = []
    base = Path(out)
    for record in repo.list_components():
        path = base.joinpath(*_folder_parts(record.folder), f"{record.id}.yaml")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(component_yaml(record), encoding="utf-8")
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise ConfigError(f"cannot write {path}: {reason}", component=record.id,
                              fix="choose another --out folder, or move the component to another folder") from None
        written.append(path)
    return written


def component_yaml(record: ComponentRecord) -> str:
    """A component's YAML as ``postroom export`` writes it (secrets stay references)."""
    return model.dump(record.body)


def _folder_parts(folder: str) -> list[str]:
    """A component's folder as path parts that are safe on disk: import refuses control
    characters and long names; an older record's are replaced here, never a crash."""
    parts = []
    for part in folder.split("/"):
        part = "".join("_" if ord(ch) < 32 or ch == "\x7f" else ch for ch in part).strip()
        if part and part not in (".", ".."):
            parts.append(part[:FOLDER_PART_MAX])
    return parts


def get_record(repo: Repository, component_id: str, version: int | None = None) -> ComponentRecord:
    record = repo.get_component(component_id, version)
    if record is None:
        if version is not None and repo.get_component(component_id) is not None:
            versions = [r.version for r in repo.component_versions(component_id)]
            raise NotFound(f"component {component_id!r} has no version {version}",
                           fix=f"versions: {', '.join(map(str, versions))}")
        raise NotFound(f"no component with id {component_id!r}", fix="see: postroom components list")
    return record


def refused_scripts(component: Component, loaded: Loaded) -> list[ConfigError]:
    """With ``POSTROOM_ALLOW_SCRIPTS=false``, each script step of a process and each script
    mapping of a map is refused."""
    steps = script_steps(component) if component.type == "process" else []
    mappings = [n for n, entry in enumerate(component.mappings) if entry.function == "script"] \
        if isinstance(component, MapComponent) else []
    if not (steps or mappings) or scripts_allowed():
        return []
    if mappings:
        return [ConfigError(f"map {component.id}: mapping {n + 1} is a script and scripts are turned off "
                            "(POSTROOM_ALLOW_SCRIPTS=false)", file=loaded.file,
                            line=loaded.line_of(("mappings", n, "function")), component=component.id,
                            field=f"mappings.{n}.function",
                            fix="use another function, or set POSTROOM_ALLOW_SCRIPTS=true to allow scripts")
                for n in mappings]
    return [ConfigError(f"step {number} is a script and scripts are turned off (POSTROOM_ALLOW_SCRIPTS=false)",
                        file=loaded.file, line=loaded.line_of(("shapes", shape_id, "steps", number - 1)),
                        component=component.id, shape=shape_id, field=f"steps.{number}",
                        fix="remove the script step, or set POSTROOM_ALLOW_SCRIPTS=true to allow scripts")
            for shape_id, number in steps]
