"""A connector shape's binding, resolved in one place for the engine, the listeners and
anything later: its connector, connection and operation (checked to exist and to be of one
connector), their settings validated with secret and env references resolved, and the
secret values among them (for scrubbing)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import connectors
from ..errors import ConfigError
from ..model import Component, Environment
from ..repository import ComponentRecord, Repository
from ..sdk import Connector, OperationSession, secret_fields
from ._components import component_from_record, validate_settings
from ._environments import apply_extensions, extension_error
from ._secrets import resolve_references

__all__ = ["Binder", "Binding", "process_binder", "settings_resolver"]


@dataclass(frozen=True)
class Binding:
    shape_id: str
    connector: Connector
    connection: Component
    operation: Component
    connection_settings: Any
    operation_settings: Any
    secrets: tuple[str, ...]

    def open(self, context: Any) -> OperationSession:
        """A session of the operation on the connection, for ``context`` (a RunContext)."""
        session = self.connector.open(self.connection_settings, self.operation_settings, context)
        session.operation_id = self.operation.id
        return session


def _secret_values(component: Component, resolved: Any) -> list[str]:
    """The values of secret fields, and of fields that were references, once resolved."""
    raw = component.settings  # type: ignore[attr-defined]
    secret = secret_fields(type(resolved))
    values = []
    for name in type(resolved).model_fields:
        value = getattr(resolved, name, None)
        if isinstance(value, str) and value and (name in secret or "${" in str(raw.get(name, ""))):
            values.append(value)
    return values


class Binder:
    """Resolves the bindings of one process's shapes. ``components``: a component by id
    (None when absent); ``settings``: a component's validated, resolved settings."""

    def __init__(self, process_id: str, components: Callable[[str], Component | None],
                 settings: Callable[[Component], Any]) -> None:
        self.process_id = process_id
        self.components = components
        self.settings = settings

    def component(self, kind: str, ref: str, shape_id: str | None) -> Component:
        """The connection, operation or profile ``ref``; ConfigError when absent or another kind."""
        component = self.components(ref)
        if component is None or component.type != kind:
            raise ConfigError(f"{kind} {ref!r} does not exist", component=self.process_id, shape=shape_id,
                              field=kind, fix=f"import a {kind} with id {ref}, or fix the id in the process")
        return component

    def bind(self, shape_id: str, connection_id: str, operation_id: str) -> Binding:
        connection = self.component("connection", connection_id, shape_id)
        operation = self.component("operation", operation_id, shape_id)
        if connection.connector != operation.connector:  # type: ignore[attr-defined]
            raise ConfigError(
                f"connection {connection.id} is a {connection.connector} connection but operation "  # type: ignore[attr-defined]
                f"{operation.id} is a {operation.connector} operation", shape=shape_id,  # type: ignore[attr-defined]
                fix="pick a connection and an operation of the same connector")
        connector = connectors.get_connector(connection.connector)  # type: ignore[attr-defined]
        connection_settings = self.settings(connection)
        operation_settings = self.settings(operation)
        secrets = (_secret_values(connection, connection_settings)
                   + _secret_values(operation, operation_settings))
        return Binding(shape_id, connector, connection, operation, connection_settings, operation_settings,
                       tuple(secrets))

    def open_session(self, shape_id: str, connection_id: str, operation_id: str, context: Any) -> OperationSession:
        """The engine's way in (ExecutionContext.open_session)."""
        return self.bind(shape_id, connection_id, operation_id).open(context)


def settings_resolver(repo: Repository, records: dict[str, ComponentRecord],
                      environment: Environment | None = None) -> Callable[[Component], Any]:
    """Validated settings with secret and env references resolved, at the last moment. With an
    ``environment``, a component's settings are those its extensions merged in (the binder's
    components already hold them) and an error a setting it overrides causes names it."""

    def resolve(component: Component) -> Any:
        try:
            return _resolve(repo, records, component)
        except ConfigError as exc:
            raise extension_error(environment, component, exc) from None

    return resolve


def _resolve(repo: Repository, records: dict[str, ComponentRecord], component: Component) -> Any:
    record = records.get(component.id)
    file = record.source_file if record else None
    settings = {}
    for key, value in component.settings.items():  # type: ignore[attr-defined]
        if isinstance(value, str) and "${" in value:
            value = resolve_references(value, repo.get_secret, component=component.id,
                                       field=f"settings.{key}", file=file)
        settings[key] = value
    clone = component.model_copy(update={"settings": settings})
    return validate_settings(clone)


def process_binder(repo: Repository, process_id: str, environment: Environment | None = None) -> Binder:
    """The process's binder: components by id (cached, None when absent), their settings
    resolved; with an ``environment``, connections and operations carry its extensions (the
    one place they are applied)."""
    cache: dict[str, Component | None] = {}
    records: dict[str, ComponentRecord] = {}

    def get(component_id: str) -> Component | None:
        if component_id not in cache:
            rec = repo.get_component(component_id)
            if rec is not None:
                records[component_id] = rec
            cache[component_id] = apply_extensions(environment, component_from_record(rec)) if rec else None
        return cache[component_id]

    return Binder(process_id, get, settings_resolver(repo, records, environment))
