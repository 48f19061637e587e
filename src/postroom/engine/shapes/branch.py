"""Branch: every path gets its own copy of every document; paths run in order."""

from __future__ import annotations

from ...sdk import Document
from ._base import Outputs, ShapeRunner


class BranchRunner(ShapeRunner):
    def process(self, batch: list[Document]) -> Outputs:
        # Copies are taken before path 1 runs: shapes on path 1 may change properties in place.
        copies = [(f"branch {i}", [d.copy() for d in batch]) for i in range(2, len(self.model.branches) + 1)]
        yield "branch 1", batch
        yield from copies
