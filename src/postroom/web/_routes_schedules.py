"""Schedules: list them with their next due time and what they last did; turn one on or off
(builder). The use cases are ``services``' (``postroom schedules`` calls the same)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from ..repository import Repository
from ..services import list_schedules, set_schedule_enabled
from ._auth import Role, require
from ._json import jsonable

__all__ = ["schedules_router"]


def schedules_router(repo: Repository) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["schedules"], dependencies=[Depends(require(Role.viewer))])
    builder = [Depends(require(Role.builder))]

    @router.get("/schedules")
    def schedules() -> Any:
        """Every schedule: cron, time zone, enabled, next due time, last firing (as ``postroom schedules list --json``)."""
        return jsonable(list_schedules(repo))

    @router.post("/schedules/{schedule_id}/enable", dependencies=builder)
    def enable(schedule_id: str) -> Any:
        """Turn the schedule on (a new version of it); it counts from now: nothing missed while off is run."""
        return jsonable(set_schedule_enabled(repo, schedule_id, True))

    @router.post("/schedules/{schedule_id}/disable", dependencies=builder)
    def disable(schedule_id: str) -> Any:
        """Turn the schedule off (a new version of it); serve stops firing it at its next tick."""
        return jsonable(set_schedule_enabled(repo, schedule_id, False))

    return router
