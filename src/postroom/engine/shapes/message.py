"""Message: replace the document data with text built from numbered parameters."""

from __future__ import annotations

from collections.abc import Iterable

from ...model import MessageShape, compile_message
from ...sdk import Document
from .._combine import combine_documents
from .._context import ExecutionContext
from .._values import compile_value
from ._base import Outputs, PerDocument


def _format_string(compiled: tuple[tuple[str, ...], tuple[int, ...]]) -> str:
    """The compiled message as a ``str.format`` template, built once per shape: literal braces
    doubled, each placeholder ``{N}`` the parameter it names (a parameter's value is never
    read as a template)."""
    literals, indexes = compiled
    parts = [literals[0].replace("{", "{{").replace("}", "}}")]
    for k, index in enumerate(indexes):
        parts.append(f"{{{index}}}")
        parts.append(literals[k + 1].replace("{", "{{").replace("}", "}}"))
    return "".join(parts)


class MessageRunner(PerDocument):
    def __init__(self, shape_id: str, model: MessageShape, ctx: ExecutionContext) -> None:
        super().__init__(shape_id, model, ctx)
        self.compiled = compile_message(model.text, len(model.parameters))
        self.params = [compile_value([p], ctx, None, shape_id) for p in model.parameters]
        self.template = _format_string(self.compiled)

    def handle(self, doc: Document) -> tuple[str, Document]:
        default = self.default_profile
        return "next", doc.with_data(self.template.format(*[get(doc, default) for get in self.params]))

    def run(self, batches: Iterable[list[Document]]) -> Outputs:
        if not self.model.combine:
            yield from super().run(batches)
            return
        # Combine: all documents become one, then the message is built once from it.
        combined = combine_documents((d for b in batches for d in b), "none")
        if combined is not None:
            yield from self.process([combined])
