"""Listeners, wired: the runtime's supervision with this layer's use cases (loading a
process, resolving a binding, running an execution) handed in."""

from __future__ import annotations

from typing import Any

from ..model import Process
from ..repository import ComponentRecord, ExecutionRecord, Repository
from ..runtime import ListenerOptions, ListenerRuntime, RunHooks, RunRequest
from ._binding import Binding, process_binder
from ._components import component_from_record
from ._environments import load_environment
from ._run import RepositoryRecorder, run_process

__all__ = ["RepositoryListenerServices", "listener_runtime"]


class RepositoryListenerServices:
    """The runtime's ``ListenerServices`` on a repository. ``environment``: the environment
    whose extensions every listener of this serve binds and runs with (``postroom serve
    --environment``), read again at each bind so that a re-import takes effect."""

    def __init__(self, repo: Repository, environment: str | None = None) -> None:
        self.repo = repo
        self.environment = environment

    def load_process(self, record: ComponentRecord) -> Process:
        return component_from_record(record)  # type: ignore[return-value]

    def bind(self, process_id: str, shape_id: str, connection_id: str, operation_id: str) -> Binding:
        environment = load_environment(self.repo, self.environment) if self.environment else None
        return process_binder(self.repo, process_id, environment).bind(shape_id, connection_id, operation_id)

    def run(self, request: RunRequest, hooks: RunHooks) -> ExecutionRecord:
        if self.environment and request.environment is None:
            request = request.replace(environment=self.environment)
        record, _result = run_process(self.repo, request, hooks)
        return record

    def watermarks(self) -> Any:
        return RepositoryRecorder(self.repo, "").watermarks()


def listener_runtime(repo: Repository, options: ListenerOptions | None = None,
                     instance: str | None = None, environment: str | None = None) -> ListenerRuntime:
    """The listeners of one ``serve`` process on ``repo`` (with ``environment``'s extensions:
    refused, exit 2, when it does not exist)."""
    if environment:
        load_environment(repo, environment)
    return ListenerRuntime(repo, RepositoryListenerServices(repo, environment), options, instance)
