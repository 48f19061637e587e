"""Connector plugins, found through the ``postroom.connectors`` entry point group."""

from __future__ import annotations

from functools import cache
from importlib import import_module
from importlib.metadata import entry_points

from ..errors import ConfigError
from ..sdk import Connector

__all__ = ["get_connector", "available_connectors"]

# Used only when the package metadata is missing (running from a source tree).
_BUILT_IN = {"disk": "postroom.connectors.disk:connector", "mail": "postroom.connectors.mail:connector"}


@cache
def _registry() -> dict[str, str]:
    found = dict(_BUILT_IN)
    for ep in entry_points(group="postroom.connectors"):
        found[ep.name] = ep.value
    return found


def available_connectors() -> list[str]:
    return sorted(_registry())


@cache
def get_connector(name: str) -> Connector:
    target = _registry().get(name)
    if target is None:
        raise ConfigError(f"unknown connector {name!r}", field="connector",
                          fix="use one of: " + ", ".join(available_connectors()))
    module_name, _, attr = target.partition(":")
    module = import_module(module_name)
    connector = getattr(module, attr)
    if isinstance(connector, type):
        connector = connector()
    return connector
