"""Notify: a log line per document; the documents pass unchanged."""

from __future__ import annotations

from ...model import NotifyShape, compile_message, render
from ...sdk import Document
from .._context import ExecutionContext
from .._values import resolve
from ._base import PerDocument


class NotifyRunner(PerDocument):
    def __init__(self, shape_id: str, model: NotifyShape, ctx: ExecutionContext) -> None:
        super().__init__(shape_id, model, ctx)
        self.compiled = compile_message(model.message, len(model.parameters))

    def handle(self, doc: Document) -> tuple[str, Document]:
        values = [resolve(p, doc, self.ctx, None, self.id) for p in self.model.parameters]
        self.ctx.log_line(self.model.level, render(self.compiled, values), self.id)
        return "next", doc
