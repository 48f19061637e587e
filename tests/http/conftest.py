from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from postroom.connectors.http import HttpConnection, HttpConnector, HttpOperation
from postroom.sdk import Document, Failed
from postroom.sdk.testing import MemoryContext
from support.httpkit import ApiServer, api_server  # noqa: F401 - fixture
from support.mailkit import certs  # noqa: F401 - fixture

Run = Callable[..., list[Document | Failed]]


def numbered(*items: Document | str) -> list[Document]:
    docs = [item if isinstance(item, Document) else Document(item) for item in items]
    for number, doc in enumerate(docs, 1):
        doc.seq = number
    return docs


@pytest.fixture
def http_run(api_server: ApiServer) -> Iterator[Run]:  # noqa: F811 - the fixture
    """Run an HTTP operation over documents against the test server, as the engine would:
    one session, execute, close. ``connection`` / ``operation`` override settings."""
    contexts: list[MemoryContext] = []

    def run(documents: list[Document], *, connection: dict[str, Any] | None = None,
            context: MemoryContext | None = None, **operation: Any) -> list[Document | Failed]:
        conn = HttpConnection.model_validate({"base_url": api_server.url, **(connection or {})})
        op = HttpOperation.model_validate(operation)
        ctx = context or MemoryContext()
        contexts.append(ctx)
        session = HttpConnector().open(conn, op, ctx)
        try:
            return list(session.execute(numbered(*documents), "http"))
        finally:
            session.close()

    yield run
