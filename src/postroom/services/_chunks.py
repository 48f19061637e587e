"""A large run cut into chunks on the distributed workers, the side of the execution that cuts.

A Flow Control with ``parallel: N`` of a run executing on a worker hands its units to
:class:`ChunkDispatcher` (the engine's ``UnitDispatcher``). Consecutive units are grouped
into chunks of about ``POSTROOM_CHUNK_DOCUMENTS`` documents (units are never split); each
chunk is a row of ``execution_chunks`` holding its documents as data (JSON: bytes in
base64, properties, dynamic properties, never code) and a ``postroom.chunk`` task naming
the row. At most N chunks of the execution are in flight; the execution waits for every
chunk to end and adds its counts to its own. A chunk whose worker died (its lease: host,
process, heartbeat) is put back to queued and sent again; its send journal skips what the
server accepted. A chunk still queued a lease time after its task was sent is run by the
execution's own worker (every slot may be taken by executions waiting for their chunks, or a
worker that died took the task before claiming the chunk, and Redis would give it back only
after the visibility timeout): the claim decides, a copy of the task that comes later does
nothing. The worker's side is ``_chunk_task.py``.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..engine import ExecutionContext
from ..errors import ConfigError, PostroomError
from ..repository import ChunkRecord, JournalEntry, Repository
from ..runtime import CHUNK_TASK, QUEUE
from ..sdk import Document
from ._lease import holder_alive, lease_seconds

__all__ = ["CHUNK_ENV", "ENDED", "ChunkDispatcher", "ChunkJournal", "chunk_documents", "pack_units",
           "unpack_units"]

_log = logging.getLogger("postroom.worker")
CHUNK_ENV = "POSTROOM_CHUNK_DOCUMENTS"
ENDED = ("complete", "complete_with_errors", "failed", "stopped")
_DEFAULT_CHUNK = 100
_POLL = 0.2


def chunk_documents() -> int:
    """Documents per chunk (``POSTROOM_CHUNK_DOCUMENTS``, default 100): units are grouped until
    a chunk holds at least this many."""
    raw = os.environ.get(CHUNK_ENV, str(_DEFAULT_CHUNK)).strip()
    value = int(raw) if raw.isdigit() else 0
    if value <= 0:
        raise ConfigError(f"{CHUNK_ENV}={raw!r} is not a positive whole number of documents", field=CHUNK_ENV,
                          fix=f"set it to e.g. {_DEFAULT_CHUNK} (documents per chunk of a Flow Control on the "
                              "workers)")
    return value


# -- documents as data ------------------------------------------------------------------------
def _pack(doc: Document) -> dict[str, Any]:
    inbound = [name for name in doc.properties if doc.outbound(name) is None]
    return {"seq": doc.seq, "data": base64.b64encode(doc.data).decode("ascii"), "properties": dict(doc.properties),
            "dynamic": dict(doc.dynamic), "inbound": inbound}


def _unpack(item: dict[str, Any]) -> Document:
    doc = Document(base64.b64decode(item["data"]), item.get("properties") or {}, item.get("dynamic") or {})
    doc.seq = int(item.get("seq", -1))
    if item.get("inbound"):
        doc.mark_inbound(item["inbound"])
    return doc


def pack_units(units: list[list[Document]]) -> list[list[dict[str, Any]]]:
    return [[_pack(doc) for doc in unit] for unit in units]


def unpack_units(packed: list[list[dict[str, Any]]]) -> list[list[Document]]:
    return [[_unpack(item) for item in unit] for unit in packed]


def _group(work: Iterable[list[Document]], size: int) -> Iterator[list[list[Document]]]:
    units: list[list[Document]] = []
    count = 0
    for unit in work:
        units.append(unit)
        count += len(unit)
        if count >= size:
            yield units
            units, count = [], 0
    if units:
        yield units


# -- the journal of one chunk -----------------------------------------------------------------
class ChunkJournal:
    """The send journal (sdk ``Journal``) of one chunk of an execution: its keys carry the
    chunk (``KEY@SHAPE/NUMBER``), so that identical letters counted apart in two chunks stay
    apart, and so does their Message-ID (derived from the chunk and the one the sender chose).
    A chunk sent again finds its own keys: what the server accepted is skipped."""

    def __init__(self, repo: Repository, execution_id: str, scope: str) -> None:
        self.repo, self.execution_id, self.suffix = repo, execution_id, f"@{scope}"

    def _message_id(self, message_id: str) -> str:
        host = message_id.rstrip(">").rpartition("@")[2] or "postroom.local"
        digest = hashlib.sha256(f"{self.suffix}/{message_id}".encode()).hexdigest()[:32]
        return f"<{digest}@{host}>"

    def _entry(self, entry: JournalEntry) -> JournalEntry:
        return dataclasses.replace(entry, key=entry.key.removesuffix(self.suffix))

    def begin(self, key: str, message_id: str) -> JournalEntry:
        return self._entry(self.repo.journal_begin(self.execution_id, key + self.suffix, self._message_id(message_id)))

    def finish(self, key: str, status: str, reply: str = "") -> None:
        self.repo.journal_finish(self.execution_id, key + self.suffix, status, reply)

    def begin_many(self, items: list[tuple[str, str]]) -> dict[str, JournalEntry]:
        scoped = [(key + self.suffix, self._message_id(message_id)) for key, message_id in items]
        entries = self.repo.journal_begin_many(self.execution_id, scoped)
        return {key.removesuffix(self.suffix): self._entry(entry) for key, entry in entries.items()}

    def finish_many(self, items: list[tuple[str, str, str]]) -> None:
        self.repo.journal_finish_many(self.execution_id, [(key + self.suffix, status, reply)
                                                          for key, status, reply in items])

    def entries(self) -> dict[str, JournalEntry]:
        return {key.removesuffix(self.suffix): self._entry(entry)
                for key, entry in self.repo.journal_entries(self.execution_id).items() if key.endswith(self.suffix)}


# -- the execution's side ------------------------------------------------------------------------
class ChunkFailed(PostroomError):
    exit_code = 1


class ChunkDispatcher:
    """The engine's ``UnitDispatcher`` on the workers: units to chunk tasks (see the module doc)."""

    def __init__(self, repo: Repository, app: Any, run_here: Callable[[str, str, int], object] | None = None,
                 poll: float = _POLL) -> None:
        self.repo, self.app, self.run_here, self.poll = repo, app, run_here, poll
        self._sent: dict[tuple[str, str, int], float] = {}  # chunk -> when its task was last sent

    def run_units(self, ctx: ExecutionContext, shape_id: str, target: str, parallel: int,
                  work: Iterator[list[Document]]) -> None:
        waiting: set[int] = set()
        error: PostroomError | None = None
        for number, units in enumerate(_group(work, chunk_documents()), start=1):
            if ctx.return_requested:  # a Stop that ends and returns, reached in an earlier chunk
                ctx.skip_by_return(sum(len(unit) for unit in units))
                continue
            chunk = self._submit(ctx, shape_id, target, number, units)
            if chunk.status in ENDED:  # a resumed execution: this chunk ended before
                error = error or self._absorb(ctx, chunk)
            else:
                waiting.add(number)
            while len(waiting) >= parallel:
                error = self._settle(ctx, shape_id, waiting) or error
            if error is not None or ctx.stop.requested:
                break
        while waiting:
            error = self._settle(ctx, shape_id, waiting) or error
        if error is not None:
            raise error

    def _submit(self, ctx: ExecutionContext, shape_id: str, target: str, number: int,
                units: list[list[Document]]) -> ChunkRecord:
        inputs = {"target": target, "units": pack_units(units), "properties": dict(ctx.dynamic_process_properties)}
        record = ChunkRecord(ctx.execution_id, shape_id, number, documents=sum(len(unit) for unit in units))
        stored = self.repo.add_chunk(record, inputs)
        if stored.status == "queued":
            self._send(stored)
        return stored

    def _send(self, chunk: ChunkRecord) -> None:
        self._sent[(chunk.execution_id, chunk.shape, chunk.number)] = time.monotonic()
        self.app.send_task(CHUNK_TASK, kwargs={"execution_id": chunk.execution_id, "shape": chunk.shape,
                                               "number": chunk.number}, queue=QUEUE)

    def _settle(self, ctx: ExecutionContext, shape_id: str, waiting: set[int]) -> PostroomError | None:
        """Take in the chunks that ended (their counts; the first error), send again those
        whose worker died, and wait a little when nothing ended."""
        if ctx.stop.requested:
            raise ctx.interrupted()
        error: PostroomError | None = None
        ended = False
        for chunk in self.repo.list_chunks(ctx.execution_id, shape_id, waiting):
            if chunk.status in ENDED:
                waiting.discard(chunk.number)
                self._sent.pop((chunk.execution_id, chunk.shape, chunk.number), None)
                ended = True
                error = error or self._absorb(ctx, chunk)
            elif chunk.status == "running" and not holder_alive(chunk.lease_host, chunk.lease_pid,
                                                                  chunk.heartbeat_at):
                if self.repo.requeue_chunk(chunk):
                    _log.warning("execution %s: chunk %d of %s stopped with its worker (process %s on %s); sent "
                                 "to the workers again", chunk.execution_id, chunk.number, shape_id, chunk.lease_pid,
                                 chunk.lease_host)
                    self._send(chunk)
            elif chunk.status == "queued" and self._overdue(chunk):
                self._unclaimed(chunk)
        if not ended:
            time.sleep(self.poll)
        return error

    def _unclaimed(self, chunk: ChunkRecord) -> None:
        """A chunk no worker claimed for a lease time: every slot may be busy (with executions
        waiting for their own chunks), or a worker that died took its task before claiming it
        (Redis gives it back only after the visibility timeout). This execution's worker runs
        it itself (the claim decides: a copy that comes later does nothing); without one here,
        its task is sent again."""
        _log.info("execution %s: chunk %d of %s not taken by a worker for %.0f s; %s", chunk.execution_id,
                  chunk.number, chunk.shape, lease_seconds(),
                  "this execution's worker runs it" if self.run_here else "its task is sent again")
        if self.run_here is None:
            self._send(chunk)
            return
        self._sent[(chunk.execution_id, chunk.shape, chunk.number)] = time.monotonic()
        self.run_here(chunk.execution_id, chunk.shape, chunk.number)

    def _overdue(self, chunk: ChunkRecord) -> bool:
        sent = self._sent.get((chunk.execution_id, chunk.shape, chunk.number))
        return sent is None or time.monotonic() - sent > lease_seconds()

    @staticmethod
    def _absorb(ctx: ExecutionContext, chunk: ChunkRecord) -> PostroomError | None:
        """Add what an ended chunk counted to the execution's counts; its error, if it failed."""
        counts = chunk.counts
        ctx.documents_out += int(counts.get("out", 0))
        ctx.documents_failed += int(counts.get("failed", 0))
        ctx.connector_failures += int(counts.get("connector_failures", 0))
        ctx.truncated = ctx.truncated or bool(counts.get("truncated"))
        ctx.return_requested = ctx.return_requested or bool(counts.get("returned"))
        if counts.get("skipped"):
            ctx.skip_by_return(int(counts["skipped"]))
        for shape, values in (counts.get("connector_counts") or {}).items():
            mine = ctx.connector_counts.setdefault(shape, {"completed": 0, "failed": 0})
            for name, value in values.items():
                mine[name] = mine.get(name, 0) + int(value)
        for shape, triple in (counts.get("shape_counts") or {}).items():
            mine_triple = ctx.shape_counts.setdefault(shape, [0, 0, 0])
            for index, value in enumerate(triple[:3]):
                mine_triple[index] += int(value)
        ctx.tick()
        if chunk.status in ("complete", "complete_with_errors"):
            return None
        error = ChunkFailed(f"chunk {chunk.number} of Flow Control {chunk.shape} ({chunk.documents} document(s), "
                            f"on {chunk.node}) {chunk.status}: {chunk.error or 'no error recorded'}",
                            shape=chunk.shape)
        code = counts.get("exit_code")
        if isinstance(code, int) and code in (2, 3):
            error.exit_code = code
        return error
