"""Which workers there are, beyond those that answer now: every worker writes what ``workers
list`` shows of it (node, version, queues, running runs) into one Redis hash every few
seconds, and removes its entry when it stops cleanly. A worker that was killed, or lost with
its machine, keeps its entry: ``workers list`` shows it as not alive, with when it was last
seen, for a day (its runs are sent to the other workers by the sweep of dead leases)."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from ._worker import WorkerState

__all__ = ["PRESENCE_KEY", "Presence", "known_workers"]

PRESENCE_KEY = "postroom:workers"
_FORGET_AFTER = timedelta(days=1)
_log = logging.getLogger("postroom.worker")


class Presence:
    """Keeps one worker's entry in the hash fresh (every ``interval`` seconds)."""

    def __init__(self, state: WorkerState, client: Any, interval: float = 5.0) -> None:
        self.state, self.client, self.interval = state, client, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="postroom-presence", daemon=True)

    def beat(self) -> None:
        entry = {**self.state.info(), "last_seen": datetime.now(UTC).isoformat()}
        self.client.hset(PRESENCE_KEY, self.state.node, json.dumps(entry))

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.beat()
            except Exception as exc:  # noqa: BLE001 - the broker is away: said, tried again
                _log.debug("cannot record this worker's presence: %s", exc)
            self._stop.wait(self.interval)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stopped cleanly: the entry goes (``workers list`` no longer shows this worker)."""
        self._stop.set()
        self._thread.join(self.interval + 5)
        try:
            self.client.hdel(PRESENCE_KEY, self.state.node)
        except Exception as exc:  # noqa: BLE001
            _log.warning("cannot remove this worker from the list of workers: %s", exc)


def known_workers(client: Any) -> dict[str, dict[str, Any]]:
    """Every worker's last entry by node (entries older than a day are deleted)."""
    now = datetime.now(UTC)
    known: dict[str, dict[str, Any]] = {}
    for raw_node, raw in (client.hgetall(PRESENCE_KEY) or {}).items():
        node = raw_node.decode() if isinstance(raw_node, bytes) else str(raw_node)
        try:
            entry = json.loads(raw)
            seen = datetime.fromisoformat(entry["last_seen"])
        except (ValueError, KeyError, TypeError):
            client.hdel(PRESENCE_KEY, node)
            continue
        if now - seen > _FORGET_AFTER:
            client.hdel(PRESENCE_KEY, node)
            continue
        known[node] = entry
    return known
