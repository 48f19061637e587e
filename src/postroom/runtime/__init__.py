"""Where runs happen outside ``postroom run``: listeners and schedules under ``postroom serve``; and
what a run is, as data (:class:`RunRequest`) and in-process hooks (:class:`RunHooks`).
``services`` sits above this package and hands the listeners what they need of it."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names below are imported on first use (see __getattr__)
    from ._broker import (
        BROKER_ENV,
        CHUNK_TASK,
        QUEUE,
        RUN_TASK,
        VISIBILITY_ENV,
        broker_url,
        celery_app,
        ping_broker,
        shown_url,
        visibility_timeout,
    )
    from ._listener import (
        STATES,
        ListenerOptions,
        ListenerRuntime,
        ListenerWorker,
        listener_processes,
        listener_report,
    )
    from ._ports import ListenerServices, SessionBinding
    from ._ratelimit import RedisRateLimit, RedisRateLimits, redis_rate_limits
    from ._request import REQUEST_VERSION, InputFile, RunHooks, RunLimits, RunRequest
    from ._schedule_times import Due, DueTimes, due_times, next_due, plan
    from ._scheduler import Scheduler, SchedulerOptions, ScheduleSpec, schedule_report, schedule_specs

# Every re-exported name and the module that defines it: importing this package imports
# none of them, so a command pays only for the ones it uses (a test keeps this map equal
# to the imports above).
_EXPORTS = {
    "BROKER_ENV": "._broker",
    "CHUNK_TASK": "._broker",
    "QUEUE": "._broker",
    "RUN_TASK": "._broker",
    "VISIBILITY_ENV": "._broker",
    "broker_url": "._broker",
    "celery_app": "._broker",
    "ping_broker": "._broker",
    "shown_url": "._broker",
    "visibility_timeout": "._broker",
    "STATES": "._listener",
    "ListenerOptions": "._listener",
    "ListenerRuntime": "._listener",
    "ListenerWorker": "._listener",
    "listener_processes": "._listener",
    "listener_report": "._listener",
    "ListenerServices": "._ports",
    "SessionBinding": "._ports",
    "RedisRateLimit": "._ratelimit",
    "RedisRateLimits": "._ratelimit",
    "redis_rate_limits": "._ratelimit",
    "REQUEST_VERSION": "._request",
    "InputFile": "._request",
    "RunHooks": "._request",
    "RunLimits": "._request",
    "RunRequest": "._request",
    "Due": "._schedule_times",
    "DueTimes": "._schedule_times",
    "due_times": "._schedule_times",
    "next_due": "._schedule_times",
    "plan": "._schedule_times",
    "Scheduler": "._scheduler",
    "SchedulerOptions": "._scheduler",
    "ScheduleSpec": "._scheduler",
    "schedule_report": "._scheduler",
    "schedule_specs": "._scheduler",
}

__all__ = [
    "BROKER_ENV",
    "QUEUE",
    "CHUNK_TASK",
    "RUN_TASK",
    "VISIBILITY_ENV",
    "broker_url",
    "celery_app",
    "ping_broker",
    "shown_url",
    "visibility_timeout",
    "ListenerServices",
    "SessionBinding",
    "RedisRateLimit",
    "RedisRateLimits",
    "redis_rate_limits",
    "REQUEST_VERSION",
    "InputFile",
    "RunHooks",
    "RunLimits",
    "RunRequest",
    "STATES",
    "ListenerOptions",
    "ListenerRuntime",
    "ListenerWorker",
    "listener_processes",
    "listener_report",
    "Due",
    "DueTimes",
    "ScheduleSpec",
    "Scheduler",
    "SchedulerOptions",
    "due_times",
    "next_due",
    "plan",
    "schedule_report",
    "schedule_specs",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
