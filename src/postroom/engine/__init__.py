"""The engine: walks a process graph; shapes move documents."""

from ._context import (
    Catch,
    ExecutionContext,
    Limits,
    MemoryRecorder,
    Recorder,
    StopFlag,
    TryScope,
    UnitDispatcher,
)
from ._executor import RUNNERS, Executor
from ._run import ExecutionResult, execute, execute_unit
from ._sandbox import ScriptLimits, script_steps, scripts_allowed

__all__ = [
    "Catch",
    "ExecutionContext",
    "ExecutionResult",
    "Executor",
    "Limits",
    "MemoryRecorder",
    "RUNNERS",
    "Recorder",
    "ScriptLimits",
    "StopFlag",
    "TryScope",
    "UnitDispatcher",
    "execute",
    "execute_unit",
    "script_steps",
    "scripts_allowed",
]
