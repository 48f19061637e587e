#!/usr/bin/env python3
"""Shared rate limit benchmark: what one slot of the Redis limit costs (runtime/_ratelimit.py).

    .venv/bin/python bench/ratelimit.py                  # 4 threads x 2,500 slots
    .venv/bin/python bench/ratelimit.py --threads 8 --slots 5000

It starts a Redis of its own (Debian's binary, as tools/cluster.py does) and takes --slots
slots in each of --threads threads, first from the mail connector's in-process limiter
(``RateLimiter``, the baseline) and then from the shared Redis limit, both at a rate far above
what the threads can reach, so nothing waits and only the cost of a slot is measured: slots
a second for each, and the ratio. A million letters an hour is 278 slots a second on one key.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from cluster import start_redis  # noqa: E402 - tools/cluster.py, the same start-up

from postroom.connectors.mail._smtp.pool import RateLimiter  # noqa: E402
from postroom.runtime import RedisRateLimits  # noqa: E402

FAST = 600_000_000  # slots a minute: ten million a second, far above what is asked


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rate(acquire: Callable[[], float], threads: int, slots: int) -> float:
    """Slots a second, ``threads`` threads each taking ``slots``."""
    def take() -> None:
        for _ in range(slots):
            acquire()

    workers = [threading.Thread(target=take) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return threads * slots / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--slots", type=int, default=2500)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="postroom-bench-") as folder:
        port = _free_port()
        redis = start_redis(Path(folder), port)
        try:
            local = _rate(RateLimiter(FAST).acquire, options.threads, options.slots)
            limits = RedisRateLimits(f"redis://127.0.0.1:{port}/0")
            shared = limits.limit("mail:bench:25:bench", FAST)
            assert shared is not None
            remote = _rate(shared.acquire, options.threads, options.slots)
            limits.close()
        finally:
            redis.kill()
            redis.wait(10)
    print(f"slot cost ({options.threads} threads x {options.slots} slots, nothing waits)")
    print(f"  in-process RateLimiter   {local:12,.0f} slots/s")
    print(f"  shared limit in Redis    {remote:12,.0f} slots/s  ({local / remote:.0f}x slower; "
          f"{remote / 278:.0f}x a million letters an hour)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
