"""A straight run of per-document shapes, walked as one step.

Shapes that handle each document on its own (Decision, Route, Set Properties, Message
without ``combine``, Notify), each leading by its first outlet into the next, run as one
*fused* run: a batch goes through all of them in one loop, without a generator, an entry
and a batch of its own per shape. Everything a user can see stays as it is when each shape
runs apart (SEMANTICS.md):

- each shape still takes the whole batch before the next shape starts (shape by shape, not
  document by document), so log lines, failures in the record and process properties set
  by one shape and read by the next come in the same order;
- each shape counts what entered and left it, and a failure names the shape it happened at
  (the shape's own runner handles each document);
- a document leaving by another outlet (a Decision's false, a later Route case) waits in a
  Spool of its shape; the executor starts those paths after the run's first path finished,
  innermost shape first, as it does when it walks the shapes one by one;
- a stop request is seen before each shape takes a batch.

Test mode keeps the documents entering every shape; the executor does not fuse there.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ..model import MessageShape, Shape
from ..sdk import Document
from ._context import ExecutionContext
from ._spool import Spool
from .shapes._base import ShapeRunner

__all__ = ["FusedRun", "Link", "fusable"]

_PER_DOCUMENT = frozenset({"decision", "route", "set_properties", "message", "notify"})


def fusable(model: Shape) -> bool:
    """Whether the shape handles each document on its own, with nothing across the batch
    (a Message that combines takes the whole batch at once)."""
    if model.type not in _PER_DOCUMENT:
        return False
    if isinstance(model, MessageShape):
        return not model.combine
    return True


@dataclass
class Link:
    """One shape of a fused run: its id (as counted), its runner, its outlets in path order."""

    shape_id: str
    runner: ShapeRunner
    outlets: list[tuple[str, str | None]]
    spools: dict[str, Spool] = field(default_factory=dict)  # by outlet, past the first


class FusedRun:
    def __init__(self, ctx: ExecutionContext, links: list[Link]) -> None:
        self.ctx = ctx
        self.links = links

    def batches(self, batches: Iterable[list[Document]]) -> Iterator[list[Document]]:
        """The documents leaving the last shape by its first outlet, batch by batch."""
        ctx = self.ctx
        for batch in batches:
            ctx.check_stop()  # before the batch is numbered, as a shape's entry does
            ctx.number(batch)
            docs = batch
            for link in self.links:
                if not docs:
                    break
                ctx.check_stop()  # a stop request: no shape takes another batch
                ctx.shape_entered(link.shape_id, len(docs))
                docs = self._through(link, docs)
            if docs:
                yield docs
            ctx.tick()

    def _through(self, link: Link, docs: list[Document]) -> list[Document]:
        ctx, primary = self.ctx, link.outlets[0][0]
        passed: list[Document] = []
        for outlet, part in link.runner.process(docs):
            if not part:
                continue
            ctx.shape_left(link.shape_id, len(part))
            if outlet == primary:
                passed.extend(part)
                continue
            spool = link.spools.get(outlet)
            if spool is None:
                spool = link.spools[outlet] = Spool(ctx.batch_size)
            spool.extend(part)
        return passed

