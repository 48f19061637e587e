"""Live progress of executions: an in-process broadcaster the runs' hooks publish to, and
the same state read back from the repository (for a finished run, or one another process runs).

A state is ``{"status", "documents_in", "documents_out", "documents_failed", "shapes": {ID:
{"status", "documents_in", "documents_out", "documents_failed"}}, "final": bool}``; a shape
is ``running`` until its execution ends, then ``failed`` when a document failed there, else
``passed``."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from ..engine import ExecutionContext
from ..repository import ExecutionRecord

__all__ = ["ExecutionEvents", "live_state", "recorded_state", "shape_states"]

#: finished states kept for late watchers (older ones are read from the repository)
_KEEP = 200


def _shape(status: str, counts: list[int]) -> dict[str, Any]:
    return {"status": status, "documents_in": counts[0], "documents_out": counts[1],
            "documents_failed": counts[2]}


def live_state(ctx: ExecutionContext) -> dict[str, Any]:
    """A running execution's state, from its context."""
    return {"status": "running", "documents_in": ctx.documents_in, "documents_out": ctx.documents_out,
            "documents_failed": ctx.documents_failed, "final": False,
            "shapes": {shape: _shape("running", list(c)) for shape, c in ctx.shape_counts.items()}}


def shape_states(record: ExecutionRecord) -> dict[str, dict[str, Any]]:
    """Each shape's final status and counts, as the run stored them (none while it runs)."""
    stored = (record.request or {}).get("shape_counts") or {}
    running = record.status == "running"
    return {shape: _shape("running" if running else "failed" if counts[2] else "passed", list(counts))
            for shape, counts in stored.items()}


def recorded_state(record: ExecutionRecord) -> dict[str, Any]:
    """An execution's state from its record."""
    return {"status": record.status, "documents_in": record.documents_in, "documents_out": record.documents_out,
            "documents_failed": record.documents_failed, "final": record.status != "running",
            "shapes": shape_states(record)}


class ExecutionEvents:
    """The latest state of each execution this process runs; watchers wait for a newer one."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._states: OrderedDict[str, tuple[int, dict[str, Any]]] = OrderedDict()

    def publish(self, execution_id: str, state: dict[str, Any]) -> None:
        with self._changed:
            number = self._states[execution_id][0] + 1 if execution_id in self._states else 1
            self._states[execution_id] = (number, state)
            self._states.move_to_end(execution_id)
            finished = [key for key, (_, s) in self._states.items() if s["final"]]
            for key in finished[:-_KEEP]:
                del self._states[key]
            self._changed.notify_all()

    def knows(self, execution_id: str) -> bool:
        with self._changed:
            return execution_id in self._states

    def wait(self, execution_id: str, after: int, timeout: float) -> tuple[int, dict[str, Any]] | None:
        """The state numbered above ``after`` (waiting up to ``timeout`` s), or None."""
        with self._changed:
            self._changed.wait_for(lambda: self._states.get(execution_id, (0, None))[0] > after, timeout)
            found = self._states.get(execution_id)
        return found if found is not None and found[0] > after else None
