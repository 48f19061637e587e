"""Where runs happen outside ``postroom run``: listeners under ``postroom serve``."""

from ._listener import (
    STATES,
    ListenerOptions,
    ListenerRuntime,
    ListenerWorker,
    listener_processes,
    listener_report,
)

__all__ = [
    "STATES",
    "ListenerOptions",
    "ListenerRuntime",
    "ListenerWorker",
    "listener_processes",
    "listener_report",
]
