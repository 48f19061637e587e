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
def _registry() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=_GROUP)}


def available_connectors() -> list[str]:
    """The names of the installed connectors."""
    return sorted(_registry())


@cache
def get_connector(name: str) -> Connector[Any, Any]:
    """The connector registered under ``name``; ConfigError naming the installed ones."""
    entry = _registry().get(name)
    if entry is None:
        installed = ", ".join(available_connectors()) or "none"
        raise ConfigError(f"unknown connector {name!r} (installed: {installed})", field="connector",
                          fix="use one of the installed connectors, or install the distribution that "
                              f"registers {name!r} in the {_GROUP} entry point group")
    loaded = entry.load()
    connector = loaded() if isinstance(loaded, type) else loaded
    if not isinstance(connector, Connector):
        raise ConfigError(f"the {_GROUP} entry point {name!r} ({entry.value}) is not a Connector",
                          field="connector", fix="point the entry point at a postroom.sdk.Connector instance or class")
    return connector
