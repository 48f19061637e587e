"""Rate limits shared by every process of the distributed runtime, kept in Redis (the broker).

A connection's ``max_messages_per_minute`` holds for one process on its own (the mail
connector's :class:`RateLimiter`). With workers, each would send at the full rate, and N
workers at N times the provider's limit. Here one limit is kept in Redis per key, by GCRA
(the generic cell rate algorithm, a token bucket of capacity one written as a single
number): the *theoretical arrival time* of the next send. A Lua script, atomic in Redis,
reads it, moves it one interval on and returns how long the caller waits for its slot, with
Redis's own clock (``TIME``), so the hosts' clocks do not matter. Each caller reserves its
slot and then sleeps outside Redis, so callers on every worker queue fairly, evenly spaced.

The services layer hands :meth:`RedisRateLimits.limit` to the engine's context when
``POSTROOM_BROKER_URL`` is set; connectors see it as ``RunContext.shared_rate_limit``."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Any

from ..errors import ConnectionFailed
from ._broker import BROKER_ENV, shown_url

__all__ = ["KEY_PREFIX", "RedisRateLimit", "RedisRateLimits", "redis_rate_limits"]

KEY_PREFIX = "postroom:ratelimit:"

# KEYS[1]: the limit's key; ARGV[1]: microseconds between two slots. Returns the wait in
# microseconds. Times are whole microseconds formatted with %d (a Lua number printed as it
# is would lose digits).
_GCRA = """
local interval = tonumber(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local after = tat + interval
redis.call('SET', KEYS[1], string.format('%d', after), 'PX', math.floor((after - now) / 1000) + 1000)
return tat - now
"""


class RedisRateLimit:
    """At most ``per_minute`` slots a minute under one key, for every process asking."""

    def __init__(self, script: Any, key: str, per_minute: int,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._script, self.key, self.per_minute = script, key, per_minute
        self._interval_us = max(1, round(60_000_000 / per_minute))
        self._sleep = sleep

    def acquire(self) -> float:
        """Reserve the next slot and wait for it; the wait in seconds."""
        import redis

        try:
            wait_us = int(self._script(keys=[self.key], args=[self._interval_us]))
        except (redis.RedisError, OSError) as exc:
            raise ConnectionFailed(
                f"the shared rate limit in Redis cannot be read: {exc}", field=BROKER_ENV,
                fix="check that Redis runs at POSTROOM_BROKER_URL; postroom executions resume continues the run",
                retryable=True) from None
        wait = wait_us / 1_000_000
        if wait > 0:
            self._sleep(wait)
        return wait


class RedisRateLimits:
    """The shared rate limits on one Redis: :meth:`limit` for a key and a rate."""

    def __init__(self, url: str, sleep: Callable[[float], None] = time.sleep) -> None:
        import redis

        self.url, self._sleep = url, sleep
        self._client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30)
        self._script = self._client.register_script(_GCRA)

    def __repr__(self) -> str:
        return f"RedisRateLimits({shown_url(self.url)})"

    def limit(self, key: str, per_minute: int) -> RedisRateLimit | None:
        """The limit ``key`` at ``per_minute`` (None when 0: no limit). The key is hashed:
        what the caller names (a server and account) is not written to Redis as it is."""
        if per_minute <= 0:
            return None
        digest = hashlib.sha256(f"{key}\0{per_minute}".encode()).hexdigest()[:32]
        return RedisRateLimit(self._script, KEY_PREFIX + digest, per_minute, self._sleep)

    def close(self) -> None:
        self._client.close()


_shared: dict[str, RedisRateLimits] = {}
_shared_lock = threading.Lock()


def redis_rate_limits(url: str) -> RedisRateLimits:
    """One :class:`RedisRateLimits` per broker URL in this process (its connection pool is
    shared by every run the process executes)."""
    with _shared_lock:
        limits = _shared.get(url)
        if limits is None:
            limits = _shared[url] = RedisRateLimits(url)
        return limits
