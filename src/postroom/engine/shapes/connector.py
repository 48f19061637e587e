"""Connector: run an operation for every document; failures stay with their document."""

from __future__ import annotations

from ...errors import ConnectorError, PostroomError
from ...sdk import Document, Failed
from ._base import Outputs, ShapeRunner


class ConnectorRunner(ShapeRunner):
    def process(self, batch: list[Document]) -> Outputs:
        m = self.model
        try:
            session = self.ctx.session(self.id, m.connection, m.operation)
            results = list(session.execute(batch, self.id))
        except ConnectorError as exc:
            for doc in batch:
                self.ctx.fail(doc, self.id, str(exc), connector_error=True)
            return
        except PostroomError as exc:
            if not all(self.ctx.catches_all(doc) for doc in batch):
                raise
            for doc in batch:
                self.ctx.fail(doc, self.id, str(exc), process_error=True)
            return
        passed: list[Document] = []
        for result in results:
            if isinstance(result, Failed):
                self.ctx.fail(result.document, self.id, result.message)
            else:
                passed.append(result)
        if passed:
            yield "next", passed
