"""JSON Schema for every component type and every connector's settings, so editors can
validate and complete component files (``postroom schema``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..connectors import available_connectors, get_connector
from ..model import COMPONENT_TYPES

__all__ = ["component_schemas", "write_schemas"]


def component_schemas() -> dict[str, dict[str, Any]]:
    """``{"connection": {...}, ..., "connectors/mail.connection": {...}}``"""
    schemas: dict[str, dict[str, Any]] = {}
    connector_settings: dict[str, dict[str, dict[str, Any]]] = {}
    for name in available_connectors():
        connector = get_connector(name)
        connector_settings[name] = {
            "connection": connector.connection_model.model_json_schema(by_alias=True),
            "operation": connector.operation_model.model_json_schema(by_alias=True),
        }
        for kind, schema in connector_settings[name].items():
            schemas[f"connectors/{name}.{kind}"] = schema
    for kind, model in COMPONENT_TYPES.items():
        schema = model.model_json_schema(by_alias=True)
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["title"] = f"Postroom {kind}"
        if kind in ("connection", "operation"):
            schema["properties"]["connector"]["enum"] = sorted(connector_settings)
            schema["allOf"] = [
                {"if": {"properties": {"connector": {"const": name}}, "required": ["connector"]},
                 "then": {"properties": {"settings": _inline(settings[kind])}}}
                for name, settings in connector_settings.items()
            ]
        schemas[kind] = schema
    return schemas


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """A settings schema without its own $defs references (they are hoisted as-is)."""
    return {k: v for k, v in schema.items() if k not in ("title",)}


def write_schemas(out: str | Path) -> list[Path]:
    base = Path(out)
    written = []
    for name, schema in component_schemas().items():
        path = base / f"{name}.schema.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written
