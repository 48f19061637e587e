"""What the forms and the canvas palette are built from: connectors, component schemas, shapes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from ..services import component_schema, connector_catalog, shape_catalog
from ._auth import Role, require

__all__ = ["schemas_router"]


def schemas_router() -> APIRouter:
    router = APIRouter(prefix="/api", tags=["schemas"], dependencies=[Depends(require(Role.viewer))])

    @router.get("/connectors")
    def connectors() -> Any:
        """Each connector's title and the JSON Schemas of its connection and operation settings."""
        return connector_catalog()

    @router.get("/schemas/{kind}")
    def schema(kind: str) -> Any:
        """A component type's JSON Schema, as ``postroom schema`` writes it."""
        return component_schema(kind)

    @router.get("/shapes")
    def shapes() -> Any:
        """Every shape type for the palette: title, outlets (keys that link shapes) and schema."""
        return shape_catalog()

    return router
