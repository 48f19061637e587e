"""Message: replace the document data with text built from numbered parameters."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import MessageShape, compile_message, render
from ...sdk import Document
from .._combine import combine_documents
from .._context import ExecutionContext
from .._values import resolve
from ._base import Outputs, PerDocument


class MessageRunner(PerDocument):
    def __init__(self, shape_id: str, model: MessageShape, ctx: ExecutionContext) -> None:
        super().__init__(shape_id, model, ctx)
        self.compiled = compile_message(model.text, len(model.parameters))
        self.params = list(model.parameters)

    def handle(self, doc: Document) -> tuple[str, Document]:
        values = [resolve(p, doc, self.ctx, None, self.id) for p in self.params]
        return "next", doc.with_data(render(self.compiled, values))

    def run(self, batches: Iterable[list[Document]]) -> Outputs:
        if not self.model.combine:
            yield from super().run(batches)
            return
        # Combine: all documents become one, then the message is built once from it.
        combined = combine_documents((d for b in batches for d in b), "none")
        if combined is not None:
            yield from self.process([combined])
