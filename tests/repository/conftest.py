"""Every repository test runs against SQLite and against a real PostgreSQL server.

This folder is a package (``__init__.py``) so that pytest imports this file as
``repository.conftest``: without it, it would be the top-level module ``conftest`` and
shadow ``tests/conftest.py`` for every ``from conftest import ...`` collected later."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from postroom.repository import Repository, open_repository


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test marked ``fast_on_sqlite`` has its SQLite variant in the fast tier (``fast``);
    its PostgreSQL variant starts a server, so it stays out."""
    for item in items:
        spec = getattr(item, "callspec", None)
        if item.get_closest_marker("fast_on_sqlite") and spec and spec.params.get("database_url") == "sqlite":
            item.add_marker(pytest.mark.fast)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, home: Path) -> str:
    """A URL of an empty database: a file in the test's POSTROOM_HOME, or a fresh
    PostgreSQL database (the server starts on first use, once per session)."""
    if request.param == "sqlite":
        return f"sqlite:///{home / 'postroom.db'}"
    return request.getfixturevalue("postgres_database")


@pytest.fixture
def repo(database_url: str, home: Path) -> Iterator[Repository]:
    repository = open_repository(database_url, home=home)
    yield repository
    repository.close()
