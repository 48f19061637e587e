"""Stop: end and continue (other paths go on) or end and return."""

from __future__ import annotations

from ...sdk import Document
from ._base import Outputs, ShapeRunner


class StopRunner(ShapeRunner):
    def process(self, batch: list[Document]) -> Outputs:
        self.ctx.path_end(len(batch))
        if not self.model.continue_ and batch:
            if not self.ctx.return_requested:
                self.ctx.log_line("info", "end-and-return stop reached: paths not yet started will not run", self.id)
            self.ctx.return_requested = True
        return
        yield
