"""What every shape runner shares."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ...errors import DocumentError, PostroomError
from ...sdk import Document
from .._context import ExecutionContext

__all__ = ["ShapeRunner", "PerDocument", "Outputs"]

Outputs = Iterator[tuple[str, list[Document]]]


class ShapeRunner:
    """Takes batches of documents, yields (outlet, documents) pairs."""

    def __init__(self, shape_id: str, model: Any, ctx: ExecutionContext) -> None:
        # model: the shape's own model class (MessageShape...); each runner's __init__ names it
        self.id = shape_id
        self.model = model
        self.ctx = ctx

    def run(self, batches: Iterable[list[Document]]) -> Outputs:
        for batch in batches:
            yield from self.process(batch)

    def process(self, batch: list[Document]) -> Outputs:  # pragma: no cover - abstract
        raise NotImplementedError


class PerDocument(ShapeRunner):
    """A shape that handles each document on its own; a failure fails that document only.

    ``default_profile`` is the default profile of the process whose shape runs now, looked
    up once per batch (a runner belongs to one executor, so to one process and one thread)
    for the value sources the shape compiled once (:func:`.._values.compile_value`)."""

    outlet = "next"
    default_profile: str | None = None

    def process(self, batch: list[Document]) -> Outputs:
        self.default_profile = self.ctx.default_profile()
        handle = self.handle
        out: dict[str, list[Document]] = {}
        last: str | None = None  # the outlet of the document before (its list: docs)
        docs: list[Document] = []
        for doc in batch:
            try:
                result = handle(doc)
            except DocumentError as exc:
                self.ctx.fail(doc, self.id, exc.message)
                continue
            except PostroomError as exc:
                # not about this document (configuration, a server): fails the execution,
                # unless a Try/Catch around it catches all errors
                if self.ctx.catches_all(doc):
                    self.ctx.fail(doc, self.id, str(exc), process_error=True)
                    continue
                raise
            except Exception as exc:  # noqa: BLE001 - a shape bug or bad data fails the document
                self.ctx.fail(doc, self.id, f"{type(exc).__name__}: {exc}")
                continue
            if result is None:
                continue
            outlet, new = result
            if outlet != last:  # mostly the same outlet as the document before
                found = out.get(outlet)
                docs = out[outlet] = [] if found is None else found
                last = outlet
            docs.append(new)
        yield from out.items()

    def handle(self, doc: Document) -> tuple[str, Document] | None:  # pragma: no cover - abstract
        raise NotImplementedError
