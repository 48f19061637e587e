"""A mail connection's rate limit holds across every worker (a limit kept in Redis), not per
process: two ``postroom worker`` processes each running a run on the same connection send,
together, no faster than ``max_messages_per_minute``. Measured where the user would see it:
the arrival times of the letters at the mail server (devmail), never the test's own timing.

And the limit itself (runtime/_ratelimit.py) on a real Redis: evenly spaced slots however
many callers ask, keys that do not name the account, a clear error when Redis is gone."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest

from postroom.errors import ConnectionFailed
from postroom.runtime import RedisRateLimits
from support.letterskit import devmail_connection, letters_yaml
from support.workerkit import cluster  # noqa: F401 - the fixture

PER_MINUTE = 120  # one letter every 0.5 s, whichever worker sends it
LETTERS_PER_RUN = 8


def _most_in_window(times: list[datetime], seconds: float) -> int:
    """The most arrivals in any window of ``seconds`` (starting at an arrival)."""
    stamps = sorted(t.timestamp() for t in times)
    return max(sum(1 for t in stamps[i:] if t - start < seconds) for i, start in enumerate(stamps))


def _patients(workdir, name: str) -> str:  # noqa: ANN001
    rows = [f"{name}{i},{name}{i}@example.org" for i in range(LETTERS_PER_RUN)]
    path = workdir / f"{name}.csv"
    path.write_text("first_name,email\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return str(path)


def test_two_workers_together_keep_the_connections_rate_limit(cli, workdir, cluster, devmail):  # noqa: F811
    connection = devmail_connection(devmail.smtps_port, devmail.ca_file).replace(
        "max_sessions: 1}", f"max_sessions: 1, max_messages_per_minute: {PER_MINUTE}}}")
    (workdir / "c.yaml").write_text(letters_yaml(connection, "devmail"), encoding="utf-8")
    assert cli("import", "c.yaml", env=cluster.env).code == 0
    cluster.start_worker("--concurrency", "1")
    cluster.start_worker("--concurrency", "1")
    inputs = [_patients(workdir, "ann"), _patients(workdir, "bob")]
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda path: cli("run", "letters", "--input", path, "--workers", "--json",
                                              env=cluster.env), inputs))
    logs = "\n".join(w.output()[-2000:] for w in cluster.workers)
    assert [r.code for r in runs] == [0, 0], (runs, logs)
    # one run on each worker: both sent at once, on the one connection
    assert {r.json()["node"] for r in runs} == {"w1@test", "w2@test"}, logs
    arrivals = [m.received for m in devmail.messages()]
    assert len(arrivals) == 2 * LETTERS_PER_RUN
    # evenly spaced at 0.5 s: at most 4 letters in any 2 s (two more for a loaded machine's
    # jitter in sending); each worker at the full rate on its own would put 8 there
    assert _most_in_window(arrivals, 2.0) <= 2 * PER_MINUTE / 60 + 2, sorted(arrivals)
    span = (max(arrivals) - min(arrivals)).total_seconds()
    assert span >= (len(arrivals) - 1) * 60 / PER_MINUTE * 0.8, span


def test_the_shared_limit_hands_out_evenly_spaced_slots(redis_server):
    import redis

    slept: list[float] = []
    limits = RedisRateLimits(redis_server.url, sleep=slept.append)  # record the waits, do not sleep them
    client = redis.Redis.from_url(redis_server.url)
    try:
        limit = limits.limit("mail:smtp.example.org:465:clinic@example.com", 60)
        assert limit is not None
        waits = [limit.acquire() for _ in range(5)]
        # the first slot at once, each next one a second after the one before (Redis's clock;
        # the calls themselves take milliseconds)
        assert waits == [pytest.approx(i, abs=0.25) for i in range(5)]
        assert slept == waits[1:]
        # a second caller (another worker) queues behind them
        other = RedisRateLimits(redis_server.url, sleep=slept.append)
        assert other.limit("mail:smtp.example.org:465:clinic@example.com", 60).acquire() == pytest.approx(5, abs=0.25)
        other.close()
        keys = [k.decode() for k in client.keys("*")]
        assert len(keys) == 1 and keys[0].startswith("postroom:ratelimit:")
        assert "clinic" not in keys[0] and "example" not in keys[0]  # the account is not written as it is
        assert 4 < client.pttl(keys[0]) / 1000 < 8  # gone once the limit's queue has passed
        assert limits.limit("mail:x:1:y", 0) is None  # 0: no limit
    finally:
        limits.close()
        client.close()


def test_a_shared_limit_without_redis_says_so(free_port):
    limits = RedisRateLimits(f"redis://127.0.0.1:{free_port}/0")
    limit = limits.limit("mail:smtp.example.org:465:clinic@example.com", 60)
    assert limit is not None
    with pytest.raises(ConnectionFailed, match="shared rate limit") as caught:
        limit.acquire()
    assert caught.value.field == "POSTROOM_BROKER_URL" and caught.value.retryable
    limits.close()
