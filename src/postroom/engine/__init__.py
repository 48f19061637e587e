"""The engine: walks a process graph; shapes move documents."""

from ._context import Catch, ExecutionContext, Limits, MemoryRecorder, Recorder, StopFlag, TryScope
from ._executor import RUNNERS, Executor
from ._run import ExecutionResult, execute

__all__ = [
    "Catch",
    "ExecutionContext",
    "ExecutionResult",
    "Executor",
    "Limits",
    "MemoryRecorder",
    "RUNNERS",
    "Recorder",
    "StopFlag",
    "TryScope",
    "execute",
]
