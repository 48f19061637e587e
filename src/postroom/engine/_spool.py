"""A queue of documents waiting for a later path: in memory up to a limit, then on disk.

Documents go to disk with pickle; objects that must stay shared (the file behind a
spooled document, a Try/Catch scope) stay in memory and are referenced by id, so that
nothing is duplicated or deleted behind the engine's back.
"""

from __future__ import annotations

import io
import os
import pickle
import tempfile
from collections.abc import Iterator
from typing import IO

from ..sdk import Document
from ..sdk._document import _Spooled

__all__ = ["Spool"]

MEMORY_LIMIT = 5000


class _Pickler(pickle.Pickler):
    def __init__(self, file: IO[bytes], side: list[object]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.side = side

    def persistent_id(self, obj: object) -> int | None:
        if isinstance(obj, _Spooled) or type(obj).__name__ == "Catch":
            self.side.append(obj)
            return len(self.side) - 1
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: IO[bytes], side: list[object]) -> None:
        super().__init__(file)
        self.side = side

    def persistent_load(self, pid: int) -> object:
        return self.side[pid]


class Spool:
    def __init__(self, batch_size: int = 1000) -> None:
        self.batch_size = batch_size
        self.memory: list[Document] = []
        self.count = 0
        self._file: io.BufferedRandom | None = None
        self._side: list[object] = []
        self._chunks = 0

    def extend(self, docs: list[Document]) -> None:
        self.memory.extend(docs)
        self.count += len(docs)
        if len(self.memory) >= MEMORY_LIMIT:
            self._flush()

    def _flush(self) -> None:
        if self._file is None:
            fd, path = tempfile.mkstemp(prefix="spool-", suffix=".pickle")
            self._file = os.fdopen(fd, "w+b")
            os.unlink(path)  # removed when closed
        for start in range(0, len(self.memory), self.batch_size):
            chunk = self.memory[start : start + self.batch_size]
            if any(doc.spooled or doc.origin is not None for doc in chunk):
                _Pickler(self._file, self._side).dump(chunk)
            else:  # nothing to keep shared: the plain pickler, without a call back per object
                pickle.dump(chunk, self._file, protocol=pickle.HIGHEST_PROTOCOL)
            self._chunks += 1
        self.memory = []

    def __len__(self) -> int:
        return self.count

    def batches(self) -> Iterator[list[Document]]:
        """Yield the documents in the order they came, once."""
        if self._file is not None:
            self._file.flush()
            self._file.seek(0)
            for _ in range(self._chunks):
                yield _Unpickler(self._file, self._side).load()
            self._file.close()
            self._file = None
        for start in range(0, len(self.memory), self.batch_size):
            yield self.memory[start : start + self.batch_size]
        self.memory = []
        self._side = []

    def discard(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self.memory, self._side = [], []
