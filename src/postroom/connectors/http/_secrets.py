"""Keep the connection's secret values out of every message the connector writes."""

from __future__ import annotations

from ...sdk import secret_fields
from .spec import HttpConnection

__all__ = ["Scrubber"]


class Scrubber:
    """Replaces each secret value of a connection (password, tokens, keys) with ``***``."""

    def __init__(self, connection: HttpConnection) -> None:
        values = {str(getattr(connection, name)) for name in secret_fields(HttpConnection)}
        self._values = sorted((v for v in values if len(v) >= 3), key=len, reverse=True)

    def add(self, value: str) -> None:
        """Also hide ``value`` (an access token obtained at run time)."""
        if len(value) >= 3 and value not in self._values:
            self._values = sorted([*self._values, value], key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for value in self._values:
            text = text.replace(value, "***")
        return text
