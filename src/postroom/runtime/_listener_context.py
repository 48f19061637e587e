"""The RunContext (sdk) a listener opens its session with, before any execution exists
(:class:`ListenerContext`), and the two texts a listener writes about a failure: the
error described (:func:`describe`) and its secrets scrubbed (:func:`scrub_secrets`)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from ..errors import PostroomError
from ..sdk import Journal, SentMail, WatermarkStore
from ._ports import ListenerServices

__all__ = ["ListenerContext", "describe", "scrub_secrets"]

log = logging.getLogger("postroom.listeners")


class _RouteHandler(logging.Handler):
    """A session's log lines: into the execution while one runs, else to serve's log."""

    def __init__(self, context: ListenerContext) -> None:
        super().__init__(logging.DEBUG)
        self.context = context

    def emit(self, record: logging.LogRecord) -> None:
        ctx = self.context
        message = ctx.scrub(record.getMessage())
        if ctx.bound is not None:
            level = ("error" if record.levelno >= logging.ERROR
                     else "warning" if record.levelno >= logging.WARNING else "info")
            ctx.bound.log_line(level, message, getattr(record, "shape", None))
        else:
            log.log(record.levelno, "listener %s: %s", ctx.process_id, message)


class ListenerContext:
    """The RunContext (sdk) of a session a listener opens before any execution exists.
    While an execution runs on the session it forwards to that execution's context."""

    dry_run = False

    def __init__(self, services: ListenerServices, process_id: str) -> None:
        self.process_id = process_id
        self._services = services
        self.bound: Any = None  # the ExecutionContext of the running execution
        self.secrets: list[str] = []
        self.log = logging.Logger(f"postroom.listener.{process_id}")
        self.log.addHandler(_RouteHandler(self))
        self.log.propagate = False

    @property
    def execution_id(self) -> str:
        return self.bound.execution_id if self.bound is not None else ""

    def bind(self, execution_context: Any) -> None:
        self.bound = execution_context

    def unbind(self) -> None:
        self.bound = None

    def scrub(self, text: str) -> str:
        return scrub_secrets(text, self.secrets)

    def record_dry_run(self, shape_id: str, document: Any, action: str, payload: Any) -> None:
        if self.bound is not None:
            self.bound.record_dry_run(shape_id, document, action, payload)

    def journal(self) -> Journal:
        if self.bound is None:  # a send journal belongs to an execution; a listener opens only gets
            raise RuntimeError("the send journal exists only while an execution runs")
        journal: Journal = self.bound.journal()
        return journal

    def watermarks(self) -> WatermarkStore:
        if self.bound is not None:
            store: WatermarkStore = self.bound.watermarks()
            return store
        return self._services.watermarks()

    def sent_mail(self) -> SentMail:
        if self.bound is None:  # a report is linked and kept while an execution reads it
            raise RuntimeError("sent mail is looked up only while an execution runs")
        sent: SentMail = self.bound.sent_mail()
        return sent

    def stop_requested(self) -> bool:
        return bool(self.bound.stop_requested()) if self.bound is not None else False

    def value(self, source: Any, document: Any) -> str:
        if self.bound is None:  # value sources are resolved for a document of an execution
            raise RuntimeError("value sources are resolved only while an execution runs")
        return str(self.bound.value(source, document))


def scrub_secrets(text: str, secrets: Iterable[str]) -> str:
    for value in sorted(secrets, key=len, reverse=True):
        if value and len(value) >= 3:
            text = text.replace(value, "***")
    return text


def describe(exc: BaseException) -> str:
    if isinstance(exc, PostroomError):
        return str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        return f"{type(exc).__name__}: {exc.strerror}"
    return f"{type(exc).__name__}: {exc}"

