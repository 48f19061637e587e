"""Deployments: the version of each process pinned to each environment (read: viewer);
deploy and roll back (admin, who manages environments). The same use cases as ``postroom
deploy`` and ``postroom deployments``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from ..repository import Repository
from ..services import deploy_process, deployment_json, deployments, rollback_process
from ._auth import Principal, Role, require
from ._json import jsonable

__all__ = ["deployments_router"]


class DeployIn(BaseModel):
    process_id: str
    environment: str
    version: int | None = Field(None, ge=1, description="The process version (default: the latest).")


class RollbackIn(BaseModel):
    process_id: str
    environment: str


def deployments_router(repo: Repository) -> APIRouter:
    router = APIRouter(prefix="/api/deployments", tags=["deployments"],
                       dependencies=[Depends(require(Role.viewer))])

    @router.get("")
    def list_deployments(environment: str | None = None, process: str | None = None,
                         history: bool = False) -> Any:
        """The deployments in force (``history=true``: every deploy and rollback, newest first)."""
        return jsonable([deployment_json(d) for d in deployments(repo, environment, process, history)])

    @router.post("", status_code=201)
    def deploy(payload: DeployIn, principal: Principal = Depends(require(Role.admin))) -> Any:
        """Pin a process version to an environment (422 for an unknown environment, process or version)."""
        record = deploy_process(repo, payload.process_id, payload.environment, payload.version, principal.name)
        return jsonable(deployment_json(record))

    @router.post("/rollback", status_code=201)
    def rollback(payload: RollbackIn, principal: Principal = Depends(require(Role.admin))) -> Any:
        """Undo the newest deploy of the process to the environment."""
        record = rollback_process(repo, payload.process_id, payload.environment, principal.name)
        return jsonable(deployment_json(record))

    return router
