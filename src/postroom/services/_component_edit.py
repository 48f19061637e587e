"""Components edited one at a time (the web builder): create, update as a new version,
versions, diff, delete refused while used. Every body goes through the same checks as
``postroom import`` (:func:`check_loaded`), and a literal secret is stored encrypted
with a reference left in the body, as import does."""

from __future__ import annotations

import copy
import difflib
from collections.abc import Iterator
from typing import Any

from ..connectors import get_connector
from ..errors import ConfigError, Conflict, PostroomError, ValidationError
from ..model import Loaded, slugify
from ..repository import ComponentRecord, Repository
from ..sdk import secret_fields
from ._components import ImportResult, check_loaded, component_yaml, get_record, store_checked
from ._schedule_checks import schedule_problems
from ._secrets import REFERENCE, is_reference

__all__ = ["component_diff", "component_records", "component_secrets", "component_versions", "create_component", "delete_component",
           "masked_body", "references_to", "update_component"]

#: keys of a body (at any depth) whose string value names another component
_REFERENCE_KEYS = ("connection", "operation", "profile", "process", "process_property")


def component_records(repo: Repository, type: str | None = None, folder: str | None = None,
                      q: str | None = None) -> list[ComponentRecord]:
    """Latest versions; ``q``: case-insensitive text in the id or the name."""
    records = repo.list_components(type=type, folder=folder)
    if q:
        needle = q.casefold()
        records = [r for r in records if needle in r.id.casefold() or needle in r.name.casefold()]
    return records


def _secret_names(body: dict[str, Any], kind: str) -> list[str]:
    """The secret settings of a connection's or operation's connector ([] for others)."""
    if kind not in ("connection", "operation"):
        return []
    try:
        plugin = get_connector(str(body.get("connector")))
    except ConfigError:
        return []
    return secret_fields(plugin.connection_model if kind == "connection" else plugin.operation_model)


def masked_body(record: ComponentRecord) -> dict[str, Any]:
    """The stored body; a secret setting shows only as a reference or ``""``."""
    body = copy.deepcopy(record.body)
    settings = body.get("settings")
    if isinstance(settings, dict):
        names = _secret_names(body, record.type) if record.type in ("connection", "operation") else []
        if record.type in ("connection", "operation") and not names and not _known_connector(body):
            names = list(settings)  # an unknown connector: no literal string leaves
        for name in names:
            value = settings.get(name)
            if isinstance(value, str) and value and not is_reference(value):
                settings[name] = ""
    return body


def _known_connector(body: dict[str, Any]) -> bool:
    try:
        get_connector(str(body.get("connector")))
    except ConfigError:
        return False
    return True


def component_secrets(repo: Repository, record: ComponentRecord) -> dict[str, str]:
    """Each secret setting: ``"set"`` when it holds a value or names one that exists."""
    settings = record.body.get("settings") or {}
    status = {}
    for name in _secret_names(record.body, record.type):
        status[name] = "set" if _holds_value(repo, settings.get(name)) else "not set"
    return status


def _holds_value(repo: Repository, value: Any) -> bool:
    if not isinstance(value, str) or not value:
        return False
    match = REFERENCE.fullmatch(value.strip())
    if match is None:
        return True
    if match.group(1) == "env":
        import os

        return os.environ.get(match.group(2).strip()) is not None
    return repo.get_secret(match.group(2).strip()) is not None


def _checked(body: Any) -> tuple[Any, Loaded]:
    if not isinstance(body, dict):
        raise ValidationError("the body is not a component: send a JSON object with type, name and settings",
                              problems=[ConfigError("the body must be an object", field="body",
                                                    fix="send {\"body\": {\"type\": ..., \"name\": ...}}")])
    loaded = Loaded(data=body, file="")
    component, problems = check_loaded(loaded)
    if problems or component is None:
        count = len(problems)
        head = problems[0] if problems else ConfigError("the component is not valid")
        raise ValidationError(f"nothing was saved: {count} problem{'s' if count != 1 else ''} found; "
                              f"first: {_sentence(head)}", problems=problems)
    return component, loaded


def _sentence(problem: PostroomError) -> str:
    text = f"{problem.field}: {problem.message}" if problem.field else problem.message
    return f"{text} ({problem.fix})" if problem.fix else text


def _save(repo: Repository, body: dict[str, Any]) -> ComponentRecord:
    component, loaded = _checked(body)
    problems = schedule_problems(repo, [(component, loaded)])
    if problems:
        raise ValidationError(f"nothing was saved: {len(problems)} problem{'s' if len(problems) != 1 else ''} "
                              f"found; first: {_sentence(problems[0])}", problems=problems)
    result = ImportResult()
    store_checked(repo, [(component, loaded)], result, from_files=False)
    return result.saved[0]


def _drop_null_secrets(body: dict[str, Any], kind: str, previous: dict[str, Any]) -> dict[str, Any]:
    """A secret setting sent as null or left out keeps its stored value (the form never holds it)."""
    settings = body.get("settings")
    if not isinstance(settings, dict):
        return body
    body = {**body, "settings": dict(settings)}
    for name in _secret_names(body, kind):
        if body["settings"].get(name) is None:
            body["settings"].pop(name, None)
            if previous.get(name) not in (None, ""):
                body["settings"][name] = previous[name]
    return body


def create_component(repo: Repository, body: Any) -> ComponentRecord:
    """A new component; its id (or the slug of its name) must be free."""
    if isinstance(body, dict):
        body = _drop_null_secrets(dict(body), str(body.get("type")), {})
        wanted = body.get("id") or (slugify(body["name"]) if isinstance(body.get("name"), str) else None)
        if isinstance(wanted, str) and wanted and repo.get_component(wanted) is not None:
            raise Conflict(f"a component with id {wanted!r} exists already", field="id",
                           fix="choose another id (or name), or edit that component")
    return _save(repo, body)


def update_component(repo: Repository, component_id: str, body: Any, base_version: int | None) -> ComponentRecord:
    """A new version of ``component_id``; refused when ``base_version`` is not the latest."""
    latest = get_record(repo, component_id)
    if base_version is not None and base_version != latest.version:
        raise Conflict(f"component {component_id!r} changed since version {base_version}: the latest is "
                       f"version {latest.version}", field="base_version",
                       fix="reload it, apply your change again and save")
    if isinstance(body, dict):
        if body.get("type") != latest.type:
            raise ValidationError("a component keeps its type", problems=[ConfigError(
                f"component {component_id!r} is a {latest.type}, not a {body.get('type')}", field="type",
                fix=f"send type {latest.type!r}; for another type, create a new component")])
        if body.get("id") not in (None, "", component_id):
            raise ValidationError("the body's id differs from the component's", problems=[ConfigError(
                f"the id {body.get('id')!r} is not {component_id!r}", field="id",
                fix="leave the id as it is; to copy a component, create a new one")])
        body = _drop_null_secrets({**body, "id": component_id}, latest.type,
                                  latest.body.get("settings") or {})
    return _save(repo, body)


def _named(value: Any, key: str | None) -> Iterator[str]:
    """The component ids a body names (under the reference keys), at any depth; an
    environment names the connections and operations it extends by their keys."""
    if isinstance(value, dict):
        if key in ("connections", "operations"):
            yield from (name for name in value if isinstance(name, str))
        for name, item in value.items():
            yield from _named(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from _named(item, key)
    elif isinstance(value, str) and key in _REFERENCE_KEYS:
        yield value


def references_to(repo: Repository, component_id: str) -> list[ComponentRecord]:
    """The components (latest versions) that name ``component_id``: processes naming
    connections, operations, profiles or other processes, and so on."""
    return [r for r in repo.list_components() if r.id != component_id and component_id in set(_named(r.body, None))]


def delete_component(repo: Repository, component_id: str) -> None:
    """Delete every version; refused (Conflict with ``used_by``) while another names it."""
    get_record(repo, component_id)
    users = references_to(repo, component_id)
    if users:
        names = ", ".join(r.id for r in users)
        raise Conflict(f"component {component_id!r} is used by {names}", field="id",
                       fix="remove it from those components first, then delete it",
                       used_by=[{"id": r.id, "type": r.type, "name": r.name} for r in users])
    repo.delete_component(component_id)


def component_versions(repo: Repository, component_id: str) -> list[ComponentRecord]:
    """Every version, newest first (NotFound for an unknown id)."""
    get_record(repo, component_id)
    return list(reversed(repo.component_versions(component_id)))


def component_diff(repo: Repository, component_id: str, old: int, new: int) -> str:
    """The unified diff of two versions' YAML (as export writes them)."""
    before, after = get_record(repo, component_id, old), get_record(repo, component_id, new)
    return "".join(difflib.unified_diff(component_yaml(before).splitlines(keepends=True),
                                        component_yaml(after).splitlines(keepends=True),
                                        fromfile=f"{component_id} version {old}",
                                        tofile=f"{component_id} version {new}"))
