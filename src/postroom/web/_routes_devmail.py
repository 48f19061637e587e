"""The Dev Inbox: the messages of the devmail running with this POSTROOM_HOME."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response

from ..services import DevInbox
from ._auth import Role, require
from ._json import jsonable

__all__ = ["devmail_router"]


def devmail_router(inbox: DevInbox) -> APIRouter:
    router = APIRouter(prefix="/api/devmail", tags=["devmail"], dependencies=[Depends(require(Role.viewer))])

    @router.get("")
    def status() -> Any:
        """Is a devmail running with this POSTROOM_HOME, and on which ports."""
        return inbox.status()

    @router.get("/messages")
    def messages() -> Any:
        return jsonable(inbox.messages())

    @router.get("/messages/{message_id}")
    def message(message_id: str) -> Any:
        return jsonable(inbox.message(message_id))

    @router.get("/messages/{message_id}/raw")
    def raw(message_id: str) -> Response:
        """The message's source as received (never rendered: nosniff)."""
        return Response(inbox.raw(message_id), media_type="message/rfc822",
                        headers={"X-Content-Type-Options": "nosniff"})

    return router
