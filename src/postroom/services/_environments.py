"""Environments: their import checks, their extensions applied to a connection or an
operation, and the environment a run names (``--environment``, ``POSTROOM_ENVIRONMENT``,
the API's ``environment``).

Extensions are applied in one place, ``services/_binding.py`` (``process_binder``), where a
shape's connection and operation are found: every run, listener or API call that binds a
shape through it sees the same merged settings, validated after the merge."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..connectors import get_connector
from ..errors import ConfigError, PostroomError, ValidationError
from ..model import Component, Environment, Loaded
from ..repository import Repository
from ..runtime import RunRequest
from ..sdk import secret_fields
from ._secrets import is_reference

__all__ = ["apply_extensions", "environment_problems", "environment_secrets", "extension_error",
           "load_environment", "run_version"]

_KINDS = ("connection", "operation")


def load_environment(repo: Repository, environment_id: str) -> Environment:
    """The environment ``environment_id``; ConfigError (exit 2) naming the known ones when absent."""
    record = repo.get_component(environment_id)
    if record is None or record.type != "environment":
        known = sorted(r.id for r in repo.list_components(type="environment"))
        fix = ("environments: " + ", ".join(known)) if known else \
            "import a component of type environment first (see docs/environments.md)"
        raise ConfigError(f"no environment {environment_id!r}", field="environment", fix=fix)
    environment = Environment.model_validate(record.body)
    environment.version = record.version
    return environment


def apply_extensions(environment: Environment | None, component: Component) -> Component:
    """``component`` with the settings ``environment`` overrides merged in (a copy; the
    component itself when nothing is overridden)."""
    if environment is None or component.type not in _KINDS:
        return component
    overrides = environment.overrides(component.type, component.id)
    if not overrides:
        return component
    settings = {**component.settings, **overrides}  # type: ignore[attr-defined]
    return component.model_copy(update={"settings": settings})


def extension_error(environment: Environment | None, component: Component, error: ConfigError) -> ConfigError:
    """``error`` (from resolving or validating ``component``'s settings) told as the
    environment's when a setting it overrides is at fault; else ``error`` unchanged."""
    if environment is None or component.type not in _KINDS:
        return error
    overrides = environment.overrides(component.type, component.id)
    problems: list[PostroomError] = list(getattr(error, "problems", None) or [error])
    for problem in problems:
        name = (problem.field or "").removeprefix("settings.").split(".")[0]
        if name in overrides:
            where = f"extensions.{component.type}s.{component.id}.{name}"
            return ConfigError(
                f"environment {environment.id!r} sets {component.type} {component.id!r} setting {name!r}: "
                f"{problem.message}", component=environment.id, field=where,
                fix=f"fix {where} in environment {environment.id}" + (f" ({problem.fix})" if problem.fix else ""))
    return error


# -- import ---------------------------------------------------------------------------------------
Lookup = Callable[[str], Component | None]
Validate = Callable[[Component], Any]


def environment_problems(parsed: list[tuple[Component, Loaded]], lookup: Lookup,
                         validate: Validate) -> list[ConfigError]:
    """Every environment of this import checked against the connections and operations it
    extends (``lookup``: this import's, else the stored ones): they exist, each setting is one
    their connector has, and the merged settings pass ``validate``."""
    problems: list[ConfigError] = []
    for component, loaded in parsed:
        if isinstance(component, Environment):
            for kind in _KINDS:
                for target_id, settings in _table(component, kind).items():
                    target = lookup(target_id)
                    problems.extend(_target_problems(target, loaded, kind, target_id, settings, validate))
    return problems


def _table(environment: Environment, kind: str) -> dict[str, dict[str, Any]]:
    ext = environment.extensions
    return ext.connections if kind == "connection" else ext.operations


def _target_problems(target: Component | None, loaded: Loaded, kind: str, target_id: str,
                     settings: dict[str, Any], validate: Validate) -> list[ConfigError]:
    path = ("extensions", f"{kind}s", target_id)
    if target is None or target.type != kind:
        what = f"is a {target.type}" if target is not None else "does not exist"
        return [ConfigError(f"{kind} {target_id!r} named under extensions.{kind}s {what}", file=loaded.file,
                            line=loaded.line_of(path), field=".".join(path),
                            fix=f"use the id of a {kind} (postroom components list --type {kind}), or import it "
                                f"with this environment")]
    connector = get_connector(target.connector)  # type: ignore[attr-defined]
    model = connector.connection_model if kind == "connection" else connector.operation_model
    problems = []
    for name in settings:
        if name not in model.model_fields:
            problems.append(ConfigError(
                f"{target.connector} {kind}s have no setting {name!r}",  # type: ignore[attr-defined]
                file=loaded.file, line=loaded.line_of((*path, name)), field=".".join((*path, name)),
                fix="remove it or use one of: " + ", ".join(model.model_fields)))
    if not problems:
        problems.extend(_merged_problems(target, settings, loaded, path, validate))
    return problems


def _merged_problems(target: Component, settings: dict[str, Any], loaded: Loaded,
                     path: tuple[str, ...], validate: Validate) -> list[ConfigError]:
    """The target's settings with these overrides merged in, validated as a run would
    (references are checked at run time, once resolved)."""
    merged = target.model_copy(update={"settings": {**target.settings, **settings}})  # type: ignore[attr-defined]
    try:
        validate(merged)
    except ValidationError as exc:
        out = []
        for problem in exc.problems or [exc]:
            name = (problem.field or "").removeprefix("settings.").split(".")[0]
            where = (*path, name) if name in settings else path
            out.append(ConfigError(f"with this environment, {target.type} {target.id!r}: {problem.message}",
                                   file=loaded.file, line=loaded.line_of(where), field=".".join(where),
                                   fix=problem.fix))
        return out
    return []


def environment_secrets(component: Component, body: dict[str, Any],
                        target: Component | None) -> list[tuple[str, str]]:
    """Literal values of secret settings an environment overrides: moved to the secret store
    (``ENVIRONMENT.TARGET.SETTING``) and replaced in ``body`` by references, as for connections."""
    if not isinstance(component, Environment) or target is None or target.type not in _KINDS:
        return []
    connector = get_connector(target.connector)  # type: ignore[attr-defined]
    model = connector.connection_model if target.type == "connection" else connector.operation_model
    table = (body.get("extensions") or {}).get(f"{target.type}s") or {}
    settings = table.get(target.id) or {}
    moved = []
    for name in secret_fields(model):
        value = settings.get(name)
        if isinstance(value, str) and value and not is_reference(value):
            secret = f"{component.id}.{target.id}.{name}"
            moved.append((secret, value))
            settings[name] = f"${{secret:{secret}}}"
    return moved


# -- deployments ----------------------------------------------------------------------------------
def run_version(repo: Repository, request: RunRequest) -> int | None:
    """The process version a run takes: the one it names; else, with an environment, the
    version deployed to that environment; else the latest (None)."""
    if request.process_version is not None or not request.environment:
        return request.process_version
    deployed = repo.get_deployment(request.environment, request.process_id)
    return deployed.process_version if deployed is not None else None
