"""Listeners, wired: the runtime's supervision with this layer's use cases (loading a
process, resolving a binding, running an execution) handed in."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..model import Process
from ..repository import ComponentRecord, ExecutionRecord, Repository, data_home
from ..runtime import ListenerOptions, ListenerRuntime, RunHooks, RunRequest, broker_url
from ..sdk import Document, Failed, OperationSession
from ._binding import Binding, process_binder
from ._components import component_from_record
from ._distributed import Submitter
from ._environments import load_environment
from ._listener_bundle import BUNDLE_KEY, SWEEP_AFTER_SECONDS, play_back, sweep_bundles, write_bundle
from ._run import RepositoryRecorder, run_process

__all__ = ["RepositoryListenerServices", "listener_runtime"]

_log = logging.getLogger("postroom.listeners")


class RepositoryListenerServices:
    """The runtime's ``ListenerServices`` on a repository. ``environment``: the environment
    whose extensions every listener of this serve binds and runs with (``postroom serve
    --environment``), read again at each bind so that a re-import takes effect."""

    def __init__(self, repo: Repository, environment: str | None = None, files: Path | None = None) -> None:
        self.repo = repo
        self.environment = environment
        self.files = files
        url = broker_url(required=False)
        self.submitter = Submitter(repo, url) if url else None  # SQLite with a broker: ConfigError (exit 2)
        self._swept_at = 0.0

    def load_process(self, record: ComponentRecord) -> Process:
        return component_from_record(record)  # type: ignore[return-value]

    def bind(self, process_id: str, shape_id: str, connection_id: str, operation_id: str) -> Binding:
        environment = load_environment(self.repo, self.environment) if self.environment else None
        return process_binder(self.repo, process_id, environment).bind(shape_id, connection_id, operation_id)

    def run(self, request: RunRequest, hooks: RunHooks) -> ExecutionRecord:
        if self.environment and request.environment is None:
            request = request.replace(environment=self.environment)
        if self.submitter is not None and hooks.documents is not None and hooks.start_session is not None:
            return self._run_on_workers(request, hooks.documents, hooks.start_session)
        record, _result = run_process(self.repo, request, hooks)
        return record

    def _run_on_workers(self, request: RunRequest, documents: Iterable[Document | Failed],
                        session: OperationSession) -> ExecutionRecord:
        """Write the fetched documents as a bundle, run them on the workers, wait, and play
        the run's failed documents and its commit back to the listener's session."""
        submitter: Submitter = self.submitter  # type: ignore[assignment]
        files = self.files or data_home() / "files"
        self.sweep(files)
        bundle = write_bundle(files, documents)
        try:
            submitter.ping()
            execution_id = submitter.queue(request)
            record = self.repo.get_execution(execution_id)
            self.repo.update_execution(execution_id, request={**(record.request if record else {}),
                                                              BUNDLE_KEY: str(bundle)})
            submitter.send(execution_id)
        except BaseException:
            shutil.rmtree(bundle, ignore_errors=True)  # nothing ran: the session is not committed
            raise
        _log.info("listener %s: execution %s sent to the workers", request.listener, execution_id)
        record, _code = submitter.wait(execution_id, poll=0.3)
        play_back(bundle, session)
        return record

    def sweep(self, files: Path) -> None:
        """Remove the bundles dead serves left behind (services/_listener_bundle.py), at most
        once in :data:`SWEEP_AFTER_SECONDS`."""
        if time.monotonic() - self._swept_at < SWEEP_AFTER_SECONDS and self._swept_at:
            return
        self._swept_at = time.monotonic()
        live = [record.request.get(BUNDLE_KEY) for record in self.repo.list_executions(status="running", limit=0)]
        removed = sweep_bundles(files, [name for name in live if name])
        if removed:
            _log.info("removed %d listener bundle(s) left by a serve that stopped while its run was on a worker",
                      len(removed))

    def watermarks(self) -> Any:
        return RepositoryRecorder(self.repo, "").watermarks()


def listener_runtime(repo: Repository, options: ListenerOptions | None = None,
                     instance: str | None = None, environment: str | None = None) -> ListenerRuntime:
    """The listeners of one ``serve`` process on ``repo`` (with ``environment``'s extensions:
    refused, exit 2, when it does not exist)."""
    if environment:
        load_environment(repo, environment)
    return ListenerRuntime(repo, RepositoryListenerServices(repo, environment), options, instance)
