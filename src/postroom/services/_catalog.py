"""What the browser's forms and palette are built from: each connector's connection and
operation JSON Schemas, the component schemas (as ``postroom schema`` writes them), and
every shape type with its title, outlets and schema, derived from the model."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from ..connectors import available_connectors, get_connector
from ..errors import NotFound
from ..model import SHAPE_MODELS
from ._schema import component_schemas

__all__ = ["connector_catalog", "component_schema", "shape_catalog"]


def connector_catalog() -> list[dict[str, Any]]:
    """``[{"name", "title", "connection_schema", "operation_schema"}]``, by name."""
    found = []
    for name in sorted(available_connectors()):
        connector = get_connector(name)
        found.append({"name": name, "title": getattr(connector, "title", None) or name.title(),
                      "connection_schema": connector.connection_model.model_json_schema(by_alias=True),
                      "operation_schema": connector.operation_model.model_json_schema(by_alias=True)})
    return found


def component_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of one component type (``connection``, ``process``...)."""
    schemas = {k: v for k, v in component_schemas().items() if "/" not in k}
    if kind not in schemas:
        raise NotFound(f"no component type {kind!r}", field="kind", fix="use one of: " + ", ".join(schemas))
    return schemas[kind]


def _outlet_keys(model: Any) -> list[str]:
    """The keys of a shape that link to other shapes, from its own ``outlets()``."""
    samples = {"branches": ["", ""], "cases": [SimpleNamespace(next=None)]}  # one of each repeated outlet
    probe = model.model_construct(**{k: v for k, v in samples.items() if k in model.model_fields})
    keys: list[str] = []
    for name, _target in probe.outlets():
        kind = name.split(" ")[0]
        key = {"branch": "branches", "case": "cases[].next"}.get(kind, name)
        if key not in keys:
            keys.append(key)
    return keys


def shape_catalog() -> list[dict[str, Any]]:
    """Every shape type: ``{"type", "title", "outlets", "schema"}``."""
    shapes = []
    for kind, model in SHAPE_MODELS.items():
        title = model.model_config.get("title") or kind.replace("_", " ").title()
        shapes.append({"type": kind, "title": title, "outlets": _outlet_keys(model),
                       "schema": model.model_json_schema(by_alias=True)})
    return shapes
