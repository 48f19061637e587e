"""Executions (process reporting): list with filters, CSV, detail with per-shape counts,
log, documents per shape (test runs), re-run of failed documents, and live progress."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from ..repository import Repository
from ..services import execution_list, execution_summary, execution_view, pick
from ._auth import Role, require
from ._json import jsonable

__all__ = ["API_FIELDS", "executions_router"]

#: what the API shows of an execution (the CLI shows the lease instead of the trigger)
API_FIELDS = ("id", "process_id", "process_name", "process_version", "status", "mode", "started_at", "ended_at",
              "documents_in", "documents_out", "documents_failed", "error", "node", "truncated", "trigger",
              "listener", "connector_counts")


def executions_router(repo: Repository) -> APIRouter:
    router = APIRouter(prefix="/api/executions", tags=["executions"], dependencies=[Depends(require(Role.viewer))])

    @router.get("")
    def executions(process: str | None = None, status: str | None = None,
                   limit: int = Query(50, ge=1, le=1000)) -> Any:
        """Recent executions, newest first."""
        return jsonable([pick(execution_summary(r), API_FIELDS)
                         for r in execution_list(repo, process, status, limit)])

    @router.get("/{execution_id}")
    def execution(execution_id: str, documents: bool = False) -> Any:
        """One execution with its errors and log (and, with ?documents=true, the documents
        kept in test mode and the dry-run records)."""
        view = execution_view(repo, execution_id, documents)
        return jsonable(view.render(API_FIELDS, error_time=True))

    return router
