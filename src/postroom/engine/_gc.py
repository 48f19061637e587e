"""Fewer garbage collections while executions run.

An execution allocates a few container objects per document (its properties, the plan of a
send, the parsed record) and frees them soon after, without reference cycles; CPython's
default thresholds (700, 10, 10) then run a young collection every few documents and, every
hundred of those, one of the whole heap (every module, model and pool object). On a bulk
send that was a third of the time (bench/send.py, see bench/RESULTS.md "Send"). While any
execution of this process runs, the thresholds are raised (never lowered) to
:data:`THRESHOLDS`; the last one to end puts the previous ones back. Cycles are still
collected, later and in bigger groups.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["THRESHOLDS", "fewer_collections"]

#: Allocations before a young collection, young collections before a middle one, middle ones
#: before a full one (see gc.set_threshold).
THRESHOLDS = (50_000, 20, 100)


class _Raised:
    """How many executions run, and the thresholds to put back when none does."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.saved: tuple[int, int, int] = gc.get_threshold()

    def enter(self) -> None:
        with self.lock:
            if self.running == 0:
                self.saved = gc.get_threshold()
                if self.saved[0] != 0:  # 0: collection is off (gc.disable's twin); leave it so
                    gc.set_threshold(*(max(mine, theirs) for mine, theirs in zip(THRESHOLDS, self.saved, strict=True)))
            self.running += 1

    def leave(self) -> None:
        with self.lock:
            self.running -= 1
            if self.running == 0:
                gc.set_threshold(*self.saved)


_RAISED = _Raised()


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Raised collection thresholds for the duration (nested and concurrent uses share them)."""
    _RAISED.enter()
    try:
        yield
    finally:
        _RAISED.leave()
