"""The environment component: per-environment extensions of connection and operation
settings and of process properties (Boomi's environment extensions).

```yaml
type: environment
id: production
name: Production
extensions:
  connections:
    gmail-mail-connection: {user_name: clinic@gmail.com, password: "${secret:prod-gmail}"}
  operations:
    gmail-mail-send: {subject: "From the clinic"}
  process_properties: {sender: records@clinic.example}
```

The model checks the shape of the file only; which connections, operations and settings
exist is checked on import (``services/_environments.py``), and the merged settings are
validated when a run binds a shape."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ._components import COMPONENT_TYPES, Component

__all__ = ["Environment", "Extensions"]


def _texts(value: Any) -> Any:
    """Process property values are text; a YAML number or boolean is written as the user would read it."""
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if isinstance(item, bool):
            item = "true" if item else "false"
        elif isinstance(item, int | float):
            item = str(item)
        out[key] = item
    return out


class Extensions(BaseModel):
    """What an environment overrides: settings of connections and operations by their id,
    and process properties by name."""

    model_config = ConfigDict(extra="forbid")
    connections: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Connection id → the settings this environment overrides "
                                          "(a secret as ${secret:NAME}).")
    operations: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Operation id → the settings this environment overrides.")
    process_properties: dict[str, str] = Field(
        default_factory=dict, description="Process property name (or COMPONENT/NAME) → its value in this "
                                          "environment.")

    @field_validator("process_properties", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        return _texts(value)

    @field_validator("connections", "operations", mode="before")
    @classmethod
    def _blank_is_empty(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: ({} if item is None else item) for key, item in value.items()}
        return value


class Environment(Component):
    """A named environment (Test, Production): ``postroom run --environment ID`` and a
    deployment apply its extensions."""

    type: Literal["environment"]
    extensions: Extensions = Field(default_factory=Extensions)

    def overrides(self, kind: str, component_id: str) -> dict[str, Any]:
        """The settings this environment overrides of a connection or an operation (``kind``)."""
        table = self.extensions.connections if kind == "connection" else self.extensions.operations
        return dict(table.get(component_id) or {})


COMPONENT_TYPES["environment"] = Environment
