"""The web side of ``postroom serve``: the FastAPI app factory (imported by the command only)."""

from ._app import create_app

__all__ = ["create_app"]
