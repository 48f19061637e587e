"""Connector: run an operation for every document; failures stay with their document.

The operation's results are taken one by one as the connector yields them: when it raises
part-way through a batch (a server that drops the connection after some emails), the
documents it already finished pass on as successes and only the others fail, with the
error. Results are matched to the documents they came from by the document's number
(``seq``: a connector's result is the document or a copy of it); a new document a
connector returns (a file a get read) completes no input document by itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ...errors import ConnectorError, Interrupted, PostroomError
from ...sdk import Document, Failed
from .._spool import Spool
from ._base import Outputs, ShapeRunner


class _Tally:
    """What one batch of a connector shape came to, as the results arrive. The documents that
    passed wait in ``passed``; past ``limit`` of them (a query giving a million rows for one
    document) they are counted and go to ``spool``, on disk past its memory limit, so that
    however many results one batch brings, memory stays flat."""

    def __init__(self, limit: int) -> None:
        self.limit = max(limit, 1)
        self.passed: list[Document] = []
        self.spool: Spool | None = None
        self.done: set[int] = set()
        self.failed = 0

    def outputs(self) -> Iterator[list[Document]]:
        """The documents that passed, in the order they came, once."""
        if self.spool is None:
            if self.passed:
                yield self.passed
            return
        self.spool.extend(self.passed)
        self.passed = []
        yield from self.spool.batches()


class ConnectorRunner(ShapeRunner):
    def process(self, batch: list[Document]) -> Outputs:
        m = self.model
        tally = _Tally(self.ctx.batch_size)
        error: PostroomError | None = None
        try:
            session = self.ctx.session(self.id, m.connection, m.operation)
            with self.ctx.session_guard(self.id):
                self._consume(session.execute(batch, self.id), tally)
        except Interrupted:
            # a stop request: what was finished goes on record; the rest is for a resume
            self._count(tally)
            raise
        except PostroomError as exc:
            error = exc
        self._count(tally)
        for passed in tally.outputs():
            yield "next", passed
        if error is not None:
            self._fail_rest(batch, tally, error)

    def _consume(self, results: Iterable[Document | Failed], tally: _Tally) -> None:
        for result in results:
            if isinstance(result, Failed):
                tally.done.add(result.document.seq)
                tally.failed += 1
                self.ctx.fail(result.document, self.id, result.message)
            else:
                tally.done.add(result.seq)
                tally.passed.append(result)
                if len(tally.passed) >= tally.limit:
                    self.ctx.connector_done(self.id, tally.passed, 0)
                    if tally.spool is None:
                        tally.spool = Spool(tally.limit)
                    tally.spool.extend(tally.passed)
                    tally.passed = []

    def _count(self, tally: _Tally) -> None:
        """Count what was not counted yet: the documents that passed since the last ``limit``
        went to the spool, and the failures."""
        self.ctx.connector_done(self.id, tally.passed, tally.failed)

    def _fail_rest(self, batch: list[Document], tally: _Tally, error: PostroomError) -> None:
        """The documents the connector did not finish fail with its error; an error that is
        not the connector's (configuration) fails the execution unless every one of them is
        inside a Try/Catch that catches all errors."""
        rest = [doc for doc in batch if doc.seq not in tally.done]
        if isinstance(error, ConnectorError):
            for doc in rest:
                self.ctx.fail(doc, self.id, str(error), connector_error=True)
        elif all(self.ctx.catches_all(doc) for doc in rest):
            for doc in rest:
                self.ctx.fail(doc, self.id, str(error), process_error=True)
        else:
            raise error
        self.ctx.connector_done(self.id, [], len(rest))
