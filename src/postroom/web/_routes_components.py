"""Components: list, get, create, update (a new version), versions, diff, YAML, delete,
and the connection test. Every answer goes through ``services``; no secret value leaves."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import BaseModel

from ..repository import ComponentRecord, Repository
from ..services import (
    component_diff,
    component_records,
    component_secrets,
    component_versions,
    component_yaml,
    create_component,
    delete_component,
    get_record,
    masked_body,
    test_connection,
    update_component,
)
from ._auth import Principal, Role, require
from ._json import jsonable

__all__ = ["components_router"]


class ComponentIn(BaseModel):
    body: Any
    base_version: int | None = None


def _summary(record: ComponentRecord) -> dict[str, Any]:
    return {"id": record.id, "type": record.type, "name": record.name, "folder": record.folder,
            "version": record.version, "created_at": record.created_at,
            "connector": record.body.get("connector")}


def component_json(repo: Repository, record: ComponentRecord) -> dict[str, Any]:
    """A component as the API shows it: summary, body (secrets as references) and secrets set or not."""
    return jsonable({**_summary(record), "body": masked_body(record), "secrets": component_secrets(repo, record)})


#: component types only an admin may create, change or delete (CONTRACT.md: admins manage environments)
ADMIN_TYPES = frozenset({"environment"})


def _check_type_role(principal: Principal, component_type: object) -> None:
    if component_type in ADMIN_TYPES and not principal.role.allows(Role.admin):
        raise HTTPException(403, f"an {component_type} component needs the admin role; {principal.name!r} is a "
                                 f"{principal.role.value} (an admin can change that with postroom users)")


def _body_type(body: Any) -> object:
    return body.get("type") if isinstance(body, dict) else None


def components_router(repo: Repository) -> APIRouter:
    router = APIRouter(prefix="/api/components", tags=["components"],
                       dependencies=[Depends(require(Role.viewer))])
    builder = [Depends(require(Role.builder))]
    as_builder = Depends(require(Role.builder))

    @router.get("")
    def list_components(type: str | None = None, folder: str | None = None, q: str | None = None,
                        body: bool = False) -> Any:
        """The latest version of every component; ``q`` matches the id or the name."""
        records = component_records(repo, type, folder, q)
        return jsonable([{**_summary(r), **({"body": masked_body(r)} if body else {})} for r in records])

    @router.post("", status_code=201)
    def create(payload: ComponentIn, principal: Principal = as_builder) -> Any:
        """A new component, checked as ``postroom import`` checks it (an environment: admins only)."""
        _check_type_role(principal, _body_type(payload.body))
        return component_json(repo, create_component(repo, payload.body))

    @router.get("/{component_id}")
    def get(component_id: str, version: int | None = None) -> Any:
        return component_json(repo, get_record(repo, component_id, version))

    @router.put("/{component_id}")
    def update(component_id: str, payload: ComponentIn, principal: Principal = as_builder) -> Any:
        """A new version; a secret setting sent as null (or left out) keeps its value."""
        _check_type_role(principal, get_record(repo, component_id, None).type)
        _check_type_role(principal, _body_type(payload.body))
        return component_json(repo, update_component(repo, component_id, payload.body, payload.base_version))

    @router.delete("/{component_id}", status_code=204)
    def delete(component_id: str, principal: Principal = as_builder) -> Response:
        """Refused (409, ``used_by``) while another component names it."""
        _check_type_role(principal, get_record(repo, component_id, None).type)
        delete_component(repo, component_id)
        return Response(status_code=204)

    @router.get("/{component_id}/versions")
    def versions(component_id: str) -> Any:
        history = component_versions(repo, component_id)
        return jsonable([{"version": r.version, "name": r.name, "created_at": r.created_at} for r in history])

    @router.get("/{component_id}/diff")
    def diff(component_id: str, from_: int = Query(..., alias="from"), to: int = Query(...)) -> Any:
        return {"from": from_, "to": to, "diff": component_diff(repo, component_id, from_, to)}

    @router.get("/{component_id}/yaml")
    def yaml(component_id: str, version: int | None = None) -> Response:
        """Exactly what ``postroom export`` writes for it."""
        return Response(component_yaml(get_record(repo, component_id, version)), media_type="text/yaml")

    @router.post("/{component_id}/test", dependencies=builder)
    def test(component_id: str, environment: str | None = None) -> Any:
        """What ``postroom connections test`` reports (``?environment=ID``: as it extends the connection)."""
        report = test_connection(repo, component_id, environment or None)
        return {"ok": report.ok, "summary": report.message or ("ok" if report.ok else "failed"),
                "details": dict(report.facts)}

    return router

