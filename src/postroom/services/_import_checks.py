"""Warnings at import: what is accepted but probably not what the user meant.

* a secret a process will need that is not set (only for connections and operations a
  process uses: a connection nobody uses is not worth a warning at every import), or that an
  environment's extensions name;
* a document property written with Boomi's name (``connector.mail.toAddress``) or a
  ``mail.*`` / ``disk.*`` name the connector does not know;
* a quote in a Message, Notify or Exception text that makes a placeholder literal
  (``it's ... {2}``).

Connector property names come from each connector's ``document_properties``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import BaseModel

from ..connectors import available_connectors, get_connector
from ..model import Component, Loaded, PropertyEntry, ValueSource, quoted_placeholders
from ..repository import Repository
from ..sdk import DocumentProperty
from ._dkim_checks import dkim_alignment_warnings
from ._secrets import REFERENCE

__all__ = ["import_warnings"]


def import_warnings(repo: Repository, parsed: list[tuple[Component, Loaded]]) -> list[str]:
    warnings: list[str] = []
    for component, loaded in parsed:
        if component.type == "process":
            warnings.extend(_shape_warnings(repo, component, {c.id for c, _ in parsed}, loaded))
        if component.type == "environment":
            warnings.extend(_environment_secret_warnings(repo, component, loaded))
    warnings.extend(_secret_warnings(repo, parsed))
    processes = [(str(loaded.file), loaded.data) for component, loaded in parsed if component.type == "process"]
    others = {component.id: loaded.data for component, loaded in parsed if component.type != "process"}
    warnings.extend(dkim_alignment_warnings(repo, processes, others))
    return warnings


# -- references and secrets ---------------------------------------------------------------------
def _shape_warnings(repo: Repository, process: Component, known: set[str], loaded: Loaded) -> list[str]:
    warnings = []
    for shape_id, shape in process.shapes.items():  # type: ignore[attr-defined]
        for kind in ("connection", "operation"):
            ref = getattr(shape, kind, None)
            if ref and ref not in known and repo.get_component(ref) is None:
                warnings.append(f"{loaded.file}: shape {shape_id}: {kind} {ref!r} does not exist yet; "
                                f"import it before running the process")
        warnings.extend(_property_warnings(shape_id, shape, loaded))
        warnings.extend(_text_warnings(shape_id, shape, loaded))
    return warnings


def _used_by_processes(repo: Repository, parsed: list[tuple[Component, Loaded]]) -> dict[str, str]:
    """Connection and operation ids a process refers to (this import's processes, else the
    stored ones), each with the id of one process using it."""
    bodies: dict[str, dict[str, Any]] = {r.id: r.body for r in repo.list_components(type="process")}
    for component, loaded in parsed:
        if component.type == "process":
            bodies[component.id] = loaded.data
    used: dict[str, str] = {}
    for process_id, body in bodies.items():
        shapes = body.get("shapes") if isinstance(body, dict) else None
        for shape in (shapes or {}).values() if isinstance(shapes, dict) else ():
            if isinstance(shape, dict):
                for kind in ("connection", "operation"):
                    if isinstance(shape.get(kind), str):
                        used.setdefault(shape[kind], process_id)
    return used


def _secret_warnings(repo: Repository, parsed: list[tuple[Component, Loaded]]) -> list[str]:
    """Unset secrets of the connections and operations a process uses, whether the
    component or the process came in this import."""
    used = _used_by_processes(repo, parsed)
    imported = {c.id: (c.type, c.settings, loaded.file) for c, loaded in parsed  # type: ignore[attr-defined]
                if c.type in ("connection", "operation")}
    warnings = []
    for component_id, process_id in used.items():
        if component_id in imported:
            kind, settings, where = imported[component_id]
        else:
            record = repo.get_component(component_id)
            if record is None or record.type not in ("connection", "operation"):
                continue
            kind, settings, where = record.type, record.body.get("settings") or {}, f"component {component_id}"
        for key, value in settings.items():
            for name in _unset_secrets(repo, value):
                warnings.append(f"{where}: settings.{key}: the secret {name!r} is not set, and process "
                                f"{process_id} uses {kind} {component_id}; store it with: "
                                f"postroom secrets set {name}")
    return warnings


def _environment_secret_warnings(repo: Repository, environment: Component, loaded: Loaded) -> list[str]:
    """Unset secrets an environment's extensions name (a run with it would stop on them)."""
    warnings = []
    for kind in ("connections", "operations"):
        for target, settings in getattr(environment.extensions, kind).items():  # type: ignore[attr-defined]
            for key, value in settings.items():
                for name in _unset_secrets(repo, value):
                    warnings.append(f"{loaded.file}: extensions.{kind}.{target}.{key}: the secret {name!r} is not "
                                    f"set; store it with: postroom secrets set {name} (runs with environment "
                                    f"{environment.id} need it)")
    return warnings


def _unset_secrets(repo: Repository, value: Any) -> Iterator[str]:
    if isinstance(value, str):
        for match in REFERENCE.finditer(value):
            name = match.group(2).strip()
            if match.group(1) == "secret" and repo.get_secret(name) is None:
                yield name


# -- document property names ------------------------------------------------------------------
def _squash(name: str) -> str:
    """A name compared loosely: Boomi's prefixes, case and underscores ignored."""
    text = name.strip().lower()
    for prefix in ("connector.track.", "connector.dynamic.", "connector."):
        if text.startswith(prefix):
            text = text[len(prefix):]
            break
    return text.replace("_", "")


def _declared() -> dict[str, tuple[DocumentProperty, ...]]:
    return {name: tuple(get_connector(name).document_properties) for name in available_connectors()}


def property_advice(name: str) -> str | None:
    """Why a document property name is probably a mistake, or None when it is fine."""
    declared = _declared()
    every = [p for props in declared.values() for p in props]
    if any(p.matches(name) for p in every):
        return None
    loose = _squash(name)
    for prop in every:
        if not prop.family and loose in (_squash(prop.name), _squash(prop.boomi or prop.name)):
            return f"{name!r} is not a Postroom property name; Postroom's is {prop.name}"
    connector, dot, _ = name.partition(".")
    if dot and declared.get(connector):
        known = ", ".join(p.name for p in declared[connector])
        return f"{name!r} is not a {connector} property, so the {connector} connector never reads it; " \
               f"the {connector} properties are: {known}"
    return None


def _property_warnings(shape_id: str, shape: BaseModel, loaded: Loaded) -> list[str]:
    warnings = []
    for path, name in _property_names(shape, ()):
        advice = property_advice(name)
        if advice:
            line = loaded.line_of(("shapes", shape_id, *path))
            field = ".".join(map(str, path))
            warnings.append(f"{loaded.file}:{line}: shape {shape_id}: {field}: {advice}")
    return warnings


_OTHER_KINDS = ("dynamic", "process", "dynamic_process")  # Set Properties prefixes that are not document properties


def _property_names(value: Any, path: tuple) -> Iterator[tuple[tuple, str]]:
    """Every document property a shape sets (Set Properties) or reads (a value source)."""
    if isinstance(value, ValueSource):
        if value.kind == "document_property":
            yield path, value.arg
        return
    if isinstance(value, BaseModel):
        if isinstance(value, PropertyEntry) and value.property.split(".", 1)[0] not in _OTHER_KINDS:
            yield path + ("property",), value.property
        for name in type(value).model_fields:
            yield from _property_names(getattr(value, name), path + (name,))
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _property_names(item, path + (index,))


# -- Message text quotes --------------------------------------------------------------------------
def _text_warnings(shape_id: str, shape: BaseModel, loaded: Loaded) -> Iterable[str]:
    field = "text" if shape.type == "message" else "message"  # type: ignore[attr-defined]
    text = getattr(shape, field, None) if shape.type in ("message", "notify", "exception") else None  # type: ignore[attr-defined]
    for found in quoted_placeholders(text or ""):
        line = loaded.line_of(("shapes", shape_id, field))
        opening = f"the quote in {found.word}" if found.word != "'" else "a single quote"
        yield (f"{loaded.file}:{line}: shape {shape_id}: {field}: {opening} starts a quoted run, so "
               f"{found.placeholder} is printed as it is, not replaced; write {found.fixed_word} for an "
               f"apostrophe (a quote is written twice in message text)")
