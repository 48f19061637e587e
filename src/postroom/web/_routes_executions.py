"""Runs and executions (process reporting): start a run, list with filters, CSV, detail with
per-shape counts, log, documents per shape (test runs), re-run of failed documents, and live
progress as server-sent events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel

from ..repository import Repository
from ..services import (
    RunService,
    execution_list,
    execution_summary,
    execution_view,
    executions_csv,
    pick,
    recorded_state,
    shape_documents,
)
from ._auth import Role, require
from ._json import jsonable

__all__ = ["API_FIELDS", "executions_router"]

#: what the API shows of an execution (the CLI shows the lease instead of the trigger)
API_FIELDS = ("id", "process_id", "process_name", "process_version", "environment", "status", "mode", "started_at",
              "ended_at", "documents_in", "documents_out", "documents_failed", "error", "node", "truncated", "trigger",
              "listener", "schedule", "connector_counts", "duration_seconds")

#: how often a watcher of a run in another process reads the repository (seconds)
POLL_SECONDS = 0.5


class RunInput(BaseModel):
    name: str = "input.txt"
    text: str


class RunIn(BaseModel):
    mode: Literal["normal", "test", "dry_run"] = "normal"
    environment: str | None = None
    inputs: list[RunInput] = []


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(jsonable(data))}\n\n"


def _changes(state: dict[str, Any], sent: dict[str | None, Any]) -> Iterator[str]:
    """The shape events whose state changed since ``sent``, then the execution event if it changed."""
    for shape, item in state["shapes"].items():
        if sent.get(shape) != item:
            sent[shape] = item
            yield _sse("shape", {"shape": shape, **item})
    execution = {k: state[k] for k in ("status", "documents_in", "documents_out", "documents_failed")}
    if sent.get(None) != execution or state["final"]:
        sent[None] = execution
        yield _sse("execution", execution)


def _event_stream(repo: Repository, runs: RunService, execution_id: str) -> Iterator[str]:
    """Live states from this process's runs; a run elsewhere (or ended) from the repository."""
    sent: dict[str | None, Any] = {}
    seen = 0
    while True:
        if runs.events.knows(execution_id):
            found = runs.events.wait(execution_id, seen, timeout=15)
            if found is None:
                yield ": still running\n\n"  # keeps proxies from closing an idle stream
                continue
            seen, state = found
        else:
            record = repo.get_execution(execution_id)
            if record is None:
                return
            state = recorded_state(record)
        yield from _changes(state, sent)
        if state["final"]:
            return
        if not runs.events.knows(execution_id):
            runs.events.wait(execution_id, 0, timeout=POLL_SECONDS)


def _listing(repo: Repository, process: str | None, status: str | None, trigger: str | None,
             since: datetime | None, until: datetime | None, limit: int) -> list[dict[str, Any]]:
    records = execution_list(repo, process, status, limit, trigger=trigger, since=since, until=until)
    return [pick(execution_summary(r), API_FIELDS) for r in records]


def executions_router(repo: Repository, runs: RunService) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["executions"], dependencies=[Depends(require(Role.viewer))])
    builder = [Depends(require(Role.builder))]

    @router.post("/processes/{process_id}/run", status_code=202, dependencies=builder)
    def run(process_id: str, payload: RunIn) -> Any:
        """Start a run (trigger ``api``); answers with the execution id at once."""
        inputs = [item.model_dump() for item in payload.inputs]
        return {"execution_id": runs.start(process_id, payload.mode, payload.environment, inputs)}

    @router.get("/executions")
    def executions(process: str | None = None, status: str | None = None, trigger: str | None = None,
                   since: datetime | None = None, until: datetime | None = None,
                   limit: int = Query(50, ge=1, le=10000)) -> Any:
        """Executions, newest first, filtered by process, status, trigger and start time."""
        return jsonable(_listing(repo, process, status, trigger, since, until, limit))

    @router.get("/executions.csv")
    def executions_as_csv(process: str | None = None, status: str | None = None, trigger: str | None = None,
                          since: datetime | None = None, until: datetime | None = None,
                          limit: int = Query(1000, ge=1, le=100000)) -> Response:
        rows = _listing(repo, process, status, trigger, since, until, limit)
        return Response(executions_csv(rows, API_FIELDS), media_type="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="executions.csv"'})

    @router.get("/executions/{execution_id}")
    def execution(execution_id: str, documents: bool = False) -> Any:
        """One execution with its errors, log and each shape's status and counts (and, with
        ?documents=true, the documents kept in test mode and the dry-run records)."""
        view = execution_view(repo, execution_id, documents)
        live = runs.events.wait(execution_id, 0, timeout=0)
        shapes = live[1]["shapes"] if live is not None else recorded_state(view.record)["shapes"]
        return jsonable({**view.render(API_FIELDS, error_time=True), "shapes": shapes})

    @router.get("/executions/{execution_id}/log")
    def log(execution_id: str) -> Any:
        return jsonable(execution_view(repo, execution_id).log_json())

    @router.get("/executions/{execution_id}/documents")
    def documents(execution_id: str, shape: str | None = None) -> Any:
        """The documents a test run kept that entered ``shape``."""
        return jsonable(shape_documents(repo, execution_id, shape))

    @router.get("/executions/{execution_id}/events")
    def events(execution_id: str) -> StreamingResponse:
        """Server-sent events: ``shape`` and ``execution``, ending after the final ``execution``."""
        execution_view(repo, execution_id)  # 404 before the stream starts
        return StreamingResponse(_event_stream(repo, runs, execution_id), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @router.post("/executions/{execution_id}/rerun", status_code=202, dependencies=builder)
    def rerun(execution_id: str) -> Any:
        """Run the execution's failed documents again (what was sent is not sent again)."""
        return {"execution_id": runs.rerun(execution_id)}

    return router
