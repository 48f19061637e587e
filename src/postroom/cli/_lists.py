"""The listing commands' bodies, free of Typer: ``cli/_quick.py`` calls them directly and
the Typer commands (``_components.py``, ``_run.py``) call them with the parsed options."""

from __future__ import annotations

from ._common import command, emit_json, listing, out
from ._table import print_table

__all__ = ["CLI_FIELDS", "STATUSES", "TRIGGERS", "components_list", "executions_list", "status_filter",
           "trigger_filter"]

#: what the CLI's JSON shows of an execution (the API shows the same less the lease)
CLI_FIELDS = ("id", "process_id", "process_name", "process_version", "environment", "trigger", "listener", "schedule",
              "status", "mode", "started_at", "ended_at",
              "documents_in", "documents_out", "documents_failed", "error", "node", "truncated", "connector_counts",
              "lease_host", "lease_pid", "heartbeat_at")


STATUSES = ("running", "complete", "complete_with_errors", "failed", "stopped")


def status_filter(status: str | None) -> str | None:
    """``complete with errors`` (as shown), ``complete_with_errors`` or ``complete-with-errors``."""
    if status is None:
        return None
    key = "_".join(status.strip().lower().replace("-", " ").replace("_", " ").split())
    if key not in STATUSES:
        from ..errors import ConfigError

        raise ConfigError(f"no such status {status!r}", field="--status",
                          fix="use one of: " + ", ".join(s.replace("_", " ") for s in STATUSES))
    return key


TRIGGERS = ("manual", "api", "listener", "schedule")


def trigger_filter(trigger: str | None) -> str | None:
    if trigger is None:
        return None
    key = trigger.strip().lower()
    if key not in TRIGGERS:
        from ..errors import ConfigError

        raise ConfigError(f"no such trigger {trigger!r}", field="--trigger", fix="use one of: " + ", ".join(TRIGGERS))
    return key


@command
def components_list(type_: str | None = None, folder: str | None = None, as_json: bool = False) -> None:
    """List components (latest versions)."""
    lister = listing()
    try:
        records = lister.components(type=type_, folder=folder)
    finally:
        lister.close()
    if as_json:
        emit_json([{"id": r.id, "type": r.type, "name": r.name, "folder": r.folder, "version": r.version,
                    "updated": r.created_at} for r in records])
        return
    if not records:
        out("no components yet: postroom import PATH")
        return
    print_table(("id", "type", "name", "folder", "version"),
                [(r.id, r.type, r.name, r.folder, str(r.version)) for r in records])


@command
def executions_list(process: str | None = None, status: str | None = None, limit: int = 50,
                    as_json: bool = False, trigger: str | None = None) -> None:
    """Recent executions, newest first; ``trigger``: only runs started that way (read from each
    run's stored request, so through the full repository)."""
    from ..services import execution_summary, pick

    wanted, by = status_filter(status), trigger_filter(trigger)
    if by is not None:
        from ..services import execution_list
        from ._common import repo

        records = execution_list(repo(), process, wanted, limit, trigger=by)
    else:
        lister = listing()
        try:
            records = lister.executions(process_id=process, status=wanted, limit=limit)
        finally:
            lister.close()
    if as_json:
        emit_json([pick(execution_summary(r), CLI_FIELDS) for r in records])
        return
    if not records:
        out(f"no executions with status {wanted.replace('_', ' ')}" if wanted else "no executions yet: postroom run PROCESS")
        return
    print_table(("id", "process", "status", "started", "in", "out", "failed"),
                [(r.id, r.process_id, r.status.replace("_", " "),
                  f"{r.started_at:%Y-%m-%d %H:%M:%S}" if r.started_at else "",
                  str(r.documents_in), str(r.documents_out), str(r.documents_failed)) for r in records])
