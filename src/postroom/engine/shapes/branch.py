"""Branch: every path gets its own copy of every document; paths run in order."""

from __future__ import annotations

from ...sdk import Document
from ._base import Outputs, ShapeRunner


class BranchRunner(ShapeRunner):
    def process(self, batch: list[Document]) -> Outputs:
        count = len(self.model.branches)
        yield "branch 1", batch
        for i in range(2, count + 1):
            yield f"branch {i}", [d.copy() for d in batch]
