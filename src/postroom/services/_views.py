"""What an execution looks like to a reader: one view, rendered by the CLI
(``postroom executions show/list``, ``run --json``) and the API (``/api/executions``).
Each picks its fields from the one summary, so the two cannot drift apart silently."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..errors import NotFound
from ..repository import (
    DocumentErrorRecord,
    DryRunRecord,
    ExecutionRecord,
    LogEntry,
    MailReport,
    Repository,
    ShapeDocumentRecord,
)

__all__ = ["ExecutionView", "execution_list", "execution_summary", "execution_view", "executions_csv", "pick"]


def execution_summary(record: ExecutionRecord) -> dict[str, Any]:
    """Every field a reader may show of an execution record (no secret is in one)."""
    request = record.request or {}
    return {"id": record.id, "process_id": record.process_id, "process_name": record.process_name,
            "process_version": record.process_version, "environment": request.get("environment"),
            "status": record.status, "mode": record.mode,
            "started_at": record.started_at, "ended_at": record.ended_at, "documents_in": record.documents_in,
            "documents_out": record.documents_out, "documents_failed": record.documents_failed,
            "error": record.error, "node": record.node, "truncated": record.truncated,
            "trigger": request.get("trigger", "manual"), "listener": request.get("listener"),
            "schedule": request.get("schedule"), "connector_counts": record.connector_counts or {}, "lease_host": record.lease_host,
            "lease_pid": record.lease_pid, "heartbeat_at": record.heartbeat_at,
            "duration_seconds": _duration(record)}


def _duration(record: ExecutionRecord) -> float | None:
    if record.started_at is None or record.ended_at is None:
        return None
    return round((record.ended_at - record.started_at).total_seconds(), 3)


def pick(summary: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    """The summary's ``fields``, in that order."""
    return {name: summary[name] for name in fields}


@dataclass(frozen=True)
class ExecutionView:
    """An execution's record with its document errors and log; with ``documents``, also
    the documents kept in test mode and the dry-run records (else None)."""

    record: ExecutionRecord
    errors: list[DocumentErrorRecord]
    log: list[LogEntry]
    documents: list[ShapeDocumentRecord] | None = None
    dry_runs: list[DryRunRecord] | None = None
    #: delivery reports and complaints read later about letters this execution sent
    bounces: list[MailReport] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return execution_summary(self.record)

    def errors_json(self, with_time: bool = False) -> list[dict[str, Any]]:
        return [{"shape": e.shape, "document": e.document, "message": e.message, **({"time": e.time} if with_time
                                                                                    else {})} for e in self.errors]

    def log_json(self) -> list[dict[str, Any]]:
        return [{"time": e.time, "level": e.level, "shape": e.shape, "message": e.message} for e in self.log]

    def bounces_json(self) -> list[dict[str, Any]]:
        return [{"recipient": b.recipient, "kind": b.kind, "action": b.action, "status": b.status,
                 "diagnostic": b.diagnostic, "message_id": b.original_message_id, "journal_key": b.journal_key,
                 "reported_at": b.reported_at or None, "recorded_at": b.recorded_at, "read_by": b.read_by}
                for b in self.bounces]

    def render(self, fields: Sequence[str], *, error_time: bool = False) -> dict[str, Any]:
        """The summary's ``fields``, then errors, log, the bounces of its letters and (when
        loaded) documents and dry runs."""
        payload = pick(self.summary(), fields)
        payload["errors"] = self.errors_json(error_time)
        payload["log"] = self.log_json()
        payload["bounces"] = self.bounces_json()
        if self.documents is not None:
            payload["documents"] = [{"shape": d.shape, "seq": d.seq, "document": d.document, "data": d.data,
                                     "properties": d.properties, "dynamic": d.dynamic} for d in self.documents]
            payload["dry_runs"] = [{"shape": d.shape, "document": d.document, "action": d.action,
                                    "payload": d.payload} for d in self.dry_runs or []]
        return payload


def execution_view(repo: Repository, execution_id: str, documents: bool = False) -> ExecutionView:
    """The view of one execution; NotFound when there is none with that id."""
    record = repo.get_execution(execution_id)
    if record is None:
        raise NotFound(f"no execution {execution_id!r}", fix="see: postroom executions list")
    return ExecutionView(record, repo.get_document_errors(execution_id), repo.get_logs(execution_id),
                         repo.get_shape_documents(execution_id) if documents else None,
                         repo.get_dry_runs(execution_id) if documents else None,
                         repo.mail_reports(execution_id))


def execution_list(repo: Repository, process: str | None = None, status: str | None = None,
                   limit: int = 50, *, trigger: str | None = None, since: datetime | None = None,
                   until: datetime | None = None) -> list[ExecutionRecord]:
    """Recent executions, newest first; ``status`` as shown (``complete with errors``) or as
    stored; ``trigger`` (manual, listener, api, schedule); ``since``/``until`` bound the start."""
    wanted = "_".join(status.lower().split()) if status else None
    if trigger is None:
        return repo.list_executions(process_id=process, status=wanted, limit=limit, since=since, until=until)
    # the trigger is part of the stored request: filtered here
    found = [r for r in repo.list_executions(process_id=process, status=wanted, limit=0, since=since, until=until)
             if (r.request or {}).get("trigger", "manual") == trigger]
    return found[:limit] if limit > 0 else found


def executions_csv(rows: list[dict[str, Any]], fields: Sequence[str]) -> str:
    """The rows as CSV with a header line (nested values as JSON)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(fields)
    for row in rows:
        writer.writerow(["" if row[f] is None else json.dumps(row[f], default=str) if isinstance(row[f], dict | list)
                         else row[f].isoformat() if isinstance(row[f], datetime) else row[f] for f in fields])
    return out.getvalue()
