"""Message: replace the document data with text built from numbered parameters."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ...model import MessageShape, compile_message
from ...sdk import Document
from .._combine import combine_documents
from .._context import ExecutionContext
from .._values import Getter, compile_value
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


def _builder(fmt: Callable[..., str], params: list[Getter]) -> Getter:
    """The message text of a document: ``fmt`` (the template's ``str.format``) applied to the
    parameters' values; up to three parameters without a list built per document."""
    if not params:
        text = fmt()
        return lambda doc, default: text
    if len(params) == 1:
        (one,) = params
        return lambda doc, default: fmt(one(doc, default))
    if len(params) == 2:
        one, two = params
        return lambda doc, default: fmt(one(doc, default), two(doc, default))
    if len(params) == 3:
        one, two, three = params
        return lambda doc, default: fmt(one(doc, default), two(doc, default), three(doc, default))
    return lambda doc, default: fmt(*[get(doc, default) for get in params])


class MessageRunner(PerDocument):
    def __init__(self, shape_id: str, model: MessageShape, ctx: ExecutionContext) -> None:
        super().__init__(shape_id, model, ctx)
        self.compiled = compile_message(model.text, len(model.parameters))
        self.params = [compile_value([p], ctx, None, shape_id) for p in model.parameters]
        self.template = _format_string(self.compiled)
        self.build = _builder(self.template.format, self.params)

    def handle(self, doc: Document) -> tuple[str, Document]:
        return "next", doc.with_data(self.build(doc, self.default_profile).encode())

    def run(self, batches: Iterable[list[Document]]) -> Outputs:
        if not self.model.combine:
            yield from super().run(batches)
            return
        # Combine: all documents become one, then the message is built once from it.
        combined = combine_documents((d for b in batches for d in b), "none")
        if combined is not None:
            yield from self.process([combined])
