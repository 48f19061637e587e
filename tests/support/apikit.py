"""The REST API in-process: a FastAPI TestClient on a repository of the test's POSTROOM_HOME,
with the caller fixed by overriding ``current_principal`` (the route tests; the login tests
never override it). ``seen`` keeps every response body, so a test can scan them all."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

with warnings.catch_warnings():  # starlette prefers httpx2; httpx is what Postroom installs
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

from postroom.repository import Repository, open_repository
from postroom.web import create_app
from postroom.web._auth import Principal, Role, current_principal

__all__ = ["Api", "api_client", "MAIL_CONNECTION", "MAIL_OPERATION"]

MAIL_CONNECTION: dict[str, Any] = {
    "type": "connection", "connector": "mail", "name": "Gmail Mail Connection", "folder": "Tutorials/Dr Smith",
    "settings": {"host": "localhost", "port": 2465, "use_tls": True, "use_ssl": True, "user_password_auth": True,
                 "user_name": "clinic@example.com", "password": "${secret:gmail-app-password}"}}

MAIL_OPERATION: dict[str, Any] = {
    "type": "operation", "connector": "mail", "name": "Gmail Mail Operation", "id": "gmail-mail-send",
    "settings": {"action": "send", "from": "clinic@example.com", "to": "", "subject": "Hello",
                 "disposition": "inline", "body_content_type": "text/plain"}}


class Api:
    """A client acting as one role; ``as_role`` switches it. Every body is kept in ``seen``."""

    def __init__(self, client: TestClient, repo: Repository) -> None:
        self.client, self.repo = client, repo
        self.seen: list[str] = []
        self.as_role(Role.builder)

    def as_role(self, role: Role) -> Api:
        self.client.app.dependency_overrides[current_principal] = (  # type: ignore[attr-defined]
            lambda: Principal("tester", role, "session"))
        return self

    def request(self, method: str, url: str, **kw: Any) -> Any:
        response = self.client.request(method, url, **kw)
        self.seen.append(response.text)
        return response

    def get(self, url: str, **kw: Any) -> Any:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> Any:
        return self.request("POST", url, **kw)

    def put(self, url: str, **kw: Any) -> Any:
        return self.request("PUT", url, **kw)

    def delete(self, url: str, **kw: Any) -> Any:
        return self.request("DELETE", url, **kw)


def _first_user(repo: Repository) -> None:
    """Once logins exist the API answers 503 until a user does (whoever the principal is): add one."""
    has_users = getattr(repo, "has_users", None)
    if has_users is not None and not has_users():
        import postroom.services

        postroom.services.add_user(repo, "tests-admin", "admin", "tests-admin-password")  # type: ignore[attr-defined,unused-ignore]


@contextmanager
def api_client(home: Any = None) -> Iterator[Api]:
    """An Api on the repository of ``home`` (default: POSTROOM_HOME)."""
    repo = open_repository(home=home)
    try:
        _first_user(repo)
        with TestClient(create_app(repo), base_url="http://127.0.0.1") as client:
            yield Api(client, repo)
    finally:
        repo.close()
