"""Route: the first matching case wins; unmatched documents take default."""

from __future__ import annotations

from ...sdk import Document
from .._values import resolve
from ._base import PerDocument
from .decision import compare


class RouteRunner(PerDocument):
    def handle(self, doc: Document) -> tuple[str, Document]:
        m = self.model
        value = resolve(m.by, doc, self.ctx, m.profile, self.id)
        for i, case in enumerate(m.cases):
            if compare(value, case.comparison, case.value):
                return f"case {i + 1}", doc
        return "default", doc
