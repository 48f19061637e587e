"""Exception: fail the document, or with stop_process the whole execution."""

from __future__ import annotations

from ...errors import DocumentError, ExecutionStopped
from ...model import ExceptionShape, compile_message, render
from ...sdk import Document
from .._context import ExecutionContext
from .._values import resolve
from ._base import Outputs, ShapeRunner


class ExceptionRunner(ShapeRunner):
    def __init__(self, shape_id: str, model: ExceptionShape, ctx: ExecutionContext) -> None:
        super().__init__(shape_id, model, ctx)
        self.compiled = compile_message(model.message, len(model.parameters))

    def process(self, batch: list[Document]) -> Outputs:
        for doc in batch:
            try:
                values = [resolve(p, doc, self.ctx, None, self.id) for p in self.model.parameters]
            except DocumentError as exc:  # a parameter cannot be read from this document
                self.ctx.fail(doc, self.id, exc.message)
                continue
            message = render(self.compiled, values)
            if self.model.stop_process:
                raise ExecutionStopped(message, shape=self.id, document=doc.seq)
            self.ctx.fail(doc, self.id, message)
        return
        yield  # a generator with no outlet
