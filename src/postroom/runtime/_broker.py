"""The broker of the distributed runtime: Redis, named by ``POSTROOM_BROKER_URL``.

One Celery application is configured here for both sides (the submitter and the worker):
JSON only (a task carries a :class:`RunRequest` as data, never pickled code), one task
prefetched per worker slot, late acknowledgement with ``reject_on_worker_lost`` so that a
run whose worker dies is delivered again, and a visibility timeout long enough for long
runs (``POSTROOM_BROKER_VISIBILITY_TIMEOUT``, seconds, default 12 hours): Redis gives an
unacknowledged task to another worker once it has been out that long. The execution's
lease (not the broker) decides who runs an execution, so a copy delivered while the first
worker still runs it waits for that run to end or its lease to die.

Celery is imported inside the functions: importing :mod:`postroom.runtime` stays cheap."""

from __future__ import annotations

import os
import re
from typing import Any

from ..errors import ConfigError, ConnectionFailed

__all__ = ["BROKER_ENV", "CHUNK_TASK", "QUEUE", "RUN_TASK", "VISIBILITY_ENV", "broker_url", "celery_app", "ping_broker",
           "shown_url", "visibility_timeout"]

BROKER_ENV = "POSTROOM_BROKER_URL"
VISIBILITY_ENV = "POSTROOM_BROKER_VISIBILITY_TIMEOUT"
QUEUE = "postroom"
RUN_TASK = "postroom.run"
CHUNK_TASK = "postroom.chunk"  # one Flow Control chunk of an execution (services/_chunks.py)
_DEFAULT_VISIBILITY = 12 * 3600
_EXAMPLE = "redis://127.0.0.1:6379/0"


def broker_url(required: bool = True) -> str | None:
    """``POSTROOM_BROKER_URL``, checked: a ``redis://`` (or ``rediss://``) URL. None when it
    is unset and not ``required``; ConfigError (exit 2) when it is required and unset, or
    is not a Redis URL."""
    raw = os.environ.get(BROKER_ENV, "").strip()
    if not raw:
        if not required:
            return None
        raise ConfigError(f"{BROKER_ENV} is not set: the distributed runtime needs a Redis broker",
                          field=BROKER_ENV, fix=f"set {BROKER_ENV}={_EXAMPLE} (see docs/scale.md)")
    if not re.match(r"^rediss?://", raw):
        raise ConfigError(f"{BROKER_ENV}={shown_url(raw)!r} is not a Redis URL", field=BROKER_ENV,
                          fix=f"set it to a URL such as {_EXAMPLE}")
    return raw


def shown_url(url: str) -> str:
    """The URL with any password hidden."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


def visibility_timeout() -> int:
    """Seconds a task may stay unacknowledged before Redis hands it to another worker."""
    raw = os.environ.get(VISIBILITY_ENV, str(_DEFAULT_VISIBILITY)).strip()
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise ConfigError(f"{VISIBILITY_ENV}={raw!r} is not a positive whole number of seconds",
                          field=VISIBILITY_ENV,
                          fix="set it longer than your longest run, e.g. 43200 (12 hours)")
    return value


def _transport_options(timeout: int) -> dict[str, Any]:
    # kombu sweeps the unacknowledged tasks every interval * throttle seconds (and when a
    # worker starts); a short visibility timeout (tests) wants a short sweep too
    interval = max(1, min(10, timeout // 4))
    return {"visibility_timeout": timeout, "unacked_restore_interval": interval,
            "unacked_restore_throttle": 1, "socket_connect_timeout": 5, "socket_timeout": 30}


def celery_app(url: str | None = None) -> Any:
    """The Celery application on the broker ``url`` (default: ``POSTROOM_BROKER_URL``)."""
    from celery import Celery

    url = url or broker_url()
    app = Celery("postroom", broker=url, set_as_current=False)
    app.conf.update(
        task_serializer="json", accept_content=["json"], result_serializer="json",
        result_backend=None, task_ignore_result=True,
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
        task_default_queue=QUEUE, broker_transport_options=_transport_options(visibility_timeout()),
        broker_connection_retry_on_startup=True, broker_connection_max_retries=None,
        worker_send_task_events=False, task_send_sent_event=False,
        enable_utc=True, timezone="UTC")
    return app


def ping_broker(url: str, timeout: float = 3.0) -> None:
    """Raise ConnectionFailed (exit 3) naming ``POSTROOM_BROKER_URL`` when Redis at ``url``
    does not answer within ``timeout`` seconds."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        raise ConnectionFailed(
            f"the broker at {BROKER_ENV}={shown_url(url)} does not answer: {exc}", field=BROKER_ENV,
            fix=f"start Redis there (redis-server --port PORT), or set {BROKER_ENV} to where it runs") from None
    finally:
        client.close()
