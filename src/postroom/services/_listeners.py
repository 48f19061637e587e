"""Listeners, wired: the runtime's supervision with this layer's use cases (loading a
process, resolving a binding, running an execution) handed in."""

from __future__ import annotations

from typing import Any

from ..model import Process
from ..repository import ComponentRecord, ExecutionRecord, Repository
from ..runtime import ListenerOptions, ListenerRuntime, RunHooks, RunRequest
from ._binding import Binding, process_binder
from ._components import component_from_record
from ._run import RepositoryRecorder, run_process

__all__ = ["RepositoryListenerServices", "listener_runtime"]


class RepositoryListenerServices:
    """The runtime's ``ListenerServices`` on a repository."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo

    def load_process(self, record: ComponentRecord) -> Process:
        return component_from_record(record)  # type: ignore[return-value]

    def bind(self, process_id: str, shape_id: str, connection_id: str, operation_id: str) -> Binding:
        return process_binder(self.repo, process_id).bind(shape_id, connection_id, operation_id)

    def run(self, request: RunRequest, hooks: RunHooks) -> ExecutionRecord:
        record, _result = run_process(self.repo, request, hooks)
        return record

    def watermarks(self) -> Any:
        return RepositoryRecorder(self.repo, "").watermarks()


def listener_runtime(repo: Repository, options: ListenerOptions | None = None,
                     instance: str | None = None) -> ListenerRuntime:
    """The listeners of one ``serve`` process on ``repo``."""
    return ListenerRuntime(repo, RepositoryListenerServices(repo), options, instance)
