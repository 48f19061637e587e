"""Secrets as an admin manages them (names, users, set, delete; never a value out), and
the connection test ``postroom connections test`` and the API share."""

from __future__ import annotations

from typing import Any

from ..connectors import get_connector
from ..errors import ConfigError, Conflict, NotFound
from ..repository import Repository
from ..sdk import TestReport
from ._binding import settings_resolver
from ._components import component_from_record, get_record
from ._environments import apply_extensions, load_environment
from ._secrets import REFERENCE

__all__ = ["delete_secret", "secret_list", "secret_users", "set_secret", "test_connection"]


def _names_in(value: Any) -> set[str]:
    if isinstance(value, str):
        return {m.group(2).strip() for m in REFERENCE.finditer(value) if m.group(1) == "secret"}
    if isinstance(value, dict):
        return set().union(*(_names_in(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_names_in(v) for v in value)) if value else set()
    return set()


def secret_users(repo: Repository) -> dict[str, list[str]]:
    """Secret name -> the ids of the components (latest versions) that reference it."""
    users: dict[str, list[str]] = {}
    for record in repo.list_components():
        for name in sorted(_names_in(record.body)):
            users.setdefault(name, []).append(record.id)
    return users


def secret_list(repo: Repository) -> list[dict[str, Any]]:
    """``[{"name", "updated_at", "used_by"}]``: never a value."""
    users = secret_users(repo)
    return [{"name": name, "updated_at": updated, "used_by": users.get(name, [])}
            for name, updated in repo.list_secrets()]


def set_secret(repo: Repository, name: str, value: Any) -> None:
    if not isinstance(value, str):
        raise ConfigError(f"secret {name!r}: the value must be text", field="value", fix="send {\"value\": \"...\"}")
    repo.set_secret(name, value)


def delete_secret(repo: Repository, name: str) -> None:
    """Refused (Conflict) while a component references it."""
    if name not in {n for n, _ in repo.list_secrets()}:
        raise NotFound(f"no secret named {name!r}", fix="see: postroom secrets list")
    users = secret_users(repo).get(name, [])
    if users:
        raise Conflict(f"secret {name!r} is used by {', '.join(users)}", field="name",
                       fix="change those components to another secret first",
                       used_by=[{"id": i} for i in users])
    repo.delete_secret(name)


def test_connection(repo: Repository, connection_id: str, environment: str | None = None) -> TestReport:
    """Log in to the connection's server and report what it offers (secrets resolved here);
    with ``environment``, as that environment extends the connection."""
    record = get_record(repo, connection_id)
    if record.type != "connection":
        raise ConfigError(f"{connection_id!r} is a {record.type}, not a connection", fix="name a connection id")
    env = load_environment(repo, environment) if environment else None
    component = apply_extensions(env, component_from_record(record))
    settings = settings_resolver(repo, {record.id: record}, env)(component)
    return get_connector(component.connector).test(settings)  # type: ignore[attr-defined]
