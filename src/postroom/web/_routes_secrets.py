"""Secrets (admin): names, when set, who uses them; set and delete. Never a value out."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel

from ..repository import Repository
from ..services import delete_secret, secret_list, set_secret
from ._auth import Role, require
from ._json import jsonable

__all__ = ["secrets_router"]


class SecretIn(BaseModel):
    value: str


def secrets_router(repo: Repository) -> APIRouter:
    router = APIRouter(prefix="/api/secrets", tags=["secrets"], dependencies=[Depends(require(Role.admin))])

    @router.get("")
    def list_secrets() -> Any:
        return jsonable(secret_list(repo))

    @router.put("/{name}", status_code=204)
    def put(name: str, payload: SecretIn) -> Response:
        set_secret(repo, name, payload.value)
        return Response(status_code=204)

    @router.delete("/{name}", status_code=204)
    def delete(name: str) -> Response:
        """Refused (409) while a component references it."""
        delete_secret(repo, name)
        return Response(status_code=204)

    return router
