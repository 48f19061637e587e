"""Return Documents: ends a path. In a called process its documents go back to the caller
(the executor hands them over); in a process run on its own the path simply ends there."""

from __future__ import annotations

from collections.abc import Iterable

from ...sdk import Document
from ._base import Outputs, ShapeRunner


class ReturnDocumentsRunner(ShapeRunner):
    def run(self, batches: Iterable[list[Document]]) -> Outputs:
        for batch in batches:
            self.ctx.path_end(len(batch))
        return
        yield
