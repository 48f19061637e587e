"""Postroom: an integration platform of processes, shapes, documents and connectors."""

from .errors import ConfigError, ConnectorError, DocumentError, PostroomError
from .sdk import Document

__version__ = "0.1.0"

__all__ = ["ConfigError", "ConnectorError", "Document", "DocumentError", "PostroomError", "__version__"]
