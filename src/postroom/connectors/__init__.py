"""Connector plugins, found through the ``postroom.connectors`` entry point group only.

Disk and Mail are registered like any third-party connector (``pyproject.toml``,
``[project.entry-points."postroom.connectors"]``); there is no built-in list, so a
connector installed as a distribution is found without touching core files.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from ..errors import ConfigError
from ..sdk import Connector

__all__ = ["get_connector", "available_connectors"]

_GROUP = "postroom.connectors"


@cache
def _registry() -> dict[str, list[EntryPoint]]:
    found: dict[str, list[EntryPoint]] = {}
    for ep in entry_points(group=_GROUP):
        if all(ep.value != other.value for other in found.get(ep.name, [])):
            found.setdefault(ep.name, []).append(ep)
    return found


def available_connectors() -> list[str]:
    """The names of the installed connectors."""
    return sorted(_registry())


@cache
def get_connector(name: str) -> Connector[Any, Any]:
    """The connector registered under ``name``; ConfigError naming the installed ones."""
    entries = _registry().get(name)
    if not entries:
        installed = ", ".join(available_connectors()) or "none"
        raise ConfigError(f"unknown connector {name!r} (installed: {installed})", field="connector",
                          fix="use one of the installed connectors, or install the distribution that "
                              f"registers {name!r} in the {_GROUP} entry point group")
    if len(entries) > 1:
        raise ConfigError(f"the connector name {name!r} is registered more than once: "
                          + ", ".join(ep.value for ep in entries), field="connector",
                          fix="uninstall all but one of the distributions registering it")
    entry = entries[0]
    try:
        loaded = entry.load()
    except Exception as exc:  # noqa: BLE001 - a broken plugin is a configuration problem, said plainly
        raise ConfigError(f"the connector {name!r} ({entry.value}) cannot be loaded: {type(exc).__name__}: {exc}",
                          field="connector", fix="reinstall the distribution that registers it") from exc
    connector = loaded() if isinstance(loaded, type) else loaded
    if not isinstance(connector, Connector):
        raise ConfigError(f"the {_GROUP} entry point {name!r} ({entry.value}) is not a Connector",
                          field="connector", fix="point the entry point at a postroom.sdk.Connector instance or class")
    return connector
