"""What the listeners need of ``services``, which sits above this package and hands it in
(``services.listener_runtime``): arrows point one way, services to runtime."""

from __future__ import annotations

from typing import Any, Protocol

from ..model import Process
from ..repository import ComponentRecord, ExecutionRecord
from ..sdk import OperationSession
from ._request import RunHooks, RunRequest

__all__ = ["ListenerServices", "SessionBinding"]


class SessionBinding(Protocol):
    """A start shape's resolved binding (``services.Binding``)."""

    @property
    def secrets(self) -> tuple[str, ...]: ...

    def open(self, context: Any) -> OperationSession: ...


class ListenerServices(Protocol):
    def load_process(self, record: ComponentRecord) -> Process:
        """The process a stored record holds."""
        ...

    def bind(self, process_id: str, shape_id: str, connection_id: str, operation_id: str) -> SessionBinding:
        """The binding of a shape, resolved as for an execution (ConfigError when it cannot be)."""
        ...

    def run(self, request: RunRequest, hooks: RunHooks) -> ExecutionRecord:
        """Run an execution; its record once it ended."""
        ...

    def watermarks(self) -> Any:
        """The watermark store, for a session opened before any execution exists."""
        ...
