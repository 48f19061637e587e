"""Start: where the documents of an execution come from."""

from __future__ import annotations

from collections.abc import Iterable

from ...sdk import Document
from ._base import Outputs, ShapeRunner


class StartRunner(ShapeRunner):
    def run(self, batches: Iterable[list[Document]]) -> Outputs:
        # The executor hands the start its documents (no data, passthrough, fetched).
        for batch in batches:
            self.ctx.count_in(len(batch))
            yield "next", batch
