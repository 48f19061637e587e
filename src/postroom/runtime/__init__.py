"""Where runs happen outside ``postroom run``: listeners and schedules under ``postroom serve``; and
what a run is, as data (:class:`RunRequest`) and in-process hooks (:class:`RunHooks`).
``services`` sits above this package and hands the listeners what they need of it."""

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
from ._request import REQUEST_VERSION, InputFile, RunHooks, RunLimits, RunRequest
from ._schedule_times import Due, DueTimes, due_times, next_due, plan
from ._scheduler import Scheduler, SchedulerOptions, ScheduleSpec, schedule_report, schedule_specs

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
