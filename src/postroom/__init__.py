"""Postroom: an integration platform of processes, shapes, documents and connectors.

The public API is small and loaded lazily, so that ``postroom --help`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["ConfigError", "ConnectorError", "Document", "DocumentError", "PostroomError", "__version__"]

if TYPE_CHECKING:  # pragma: no cover
    from .errors import ConfigError, ConnectorError, DocumentError, PostroomError
    from .sdk import Document


def __getattr__(name: str) -> Any:
    if name == "Document":
        from .sdk import Document

        return Document
    if name in ("ConfigError", "ConnectorError", "DocumentError", "PostroomError"):
        from . import errors

        return getattr(errors, name)
    raise AttributeError(f"module 'postroom' has no attribute {name!r}")
