"""Sending one request with retries.

What is tried again, up to ``retries`` times, waiting 0.25 s, 0.5 s, 1 s... (at most 30 s)
or as long as the server's Retry-After says (seconds or an HTTP date, at most 120 s):

* an answer 429, 502, 503 or 504, whatever the method: the server says it did not do it;
* a connection that could not be made (refused, timed out connecting, DNS): the request
  surely never reached the server, whatever the method;
* a connection that dropped, or timed out, after the request went out: only for GET, HEAD,
  OPTIONS, PUT and DELETE, which do the same however often they arrive. A POST or PATCH
  may have reached the server, so it is not sent again: the document fails, saying so.

A certificate that is not trusted is never tried again.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx

__all__ = ["RETRY_STATUSES", "IDEMPOTENT", "Dropped", "Unreachable", "send", "retry_after"]

RETRY_STATUSES = frozenset({429, 502, 503, 504})
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
MAX_RETRY_AFTER = 120.0
MAX_BACKOFF = 30.0


class Unreachable(Exception):
    """No connection could be made (after the retries); ``certificate``: TLS refused it."""

    def __init__(self, message: str, certificate: bool = False) -> None:
        super().__init__(message)
        self.certificate = certificate


class Dropped(Exception):
    """The connection dropped or timed out after the request was sent (after the retries,
    or at once for a method that is not sent twice)."""


def retry_after(value: str | None, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or HTTP-date), capped."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max((when - now()).total_seconds(), 0.0), MAX_RETRY_AFTER)


def backoff(attempt: int) -> float:
    """0.25 s, 0.5 s, 1 s... (at most 30 s), with a little jitter."""
    return min(0.25 * 2 ** attempt, MAX_BACKOFF) * random.uniform(1.0, 1.1)  # noqa: S311 - not crypto


def send(client: httpx.Client, request: httpx.Request, auth: httpx.Auth | None, retries: int,
         wait: Callable[[float, str], None]) -> httpx.Response:
    """The response to ``request`` after the retries above. ``wait(seconds, why)`` pauses."""
    attempt = 0
    while True:
        try:
            response = client.send(request, auth=auth)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            certificate = "CERTIFICATE_VERIFY_FAILED" in str(exc) or "certificate" in str(exc).lower()
            if certificate or attempt >= retries:
                raise Unreachable(_describe(exc), certificate) from None
            why = _describe(exc)
        except httpx.TransportError as exc:
            if request.method not in IDEMPOTENT or attempt >= retries:
                raise Dropped(_describe(exc)) from None
            why = _describe(exc)
        else:
            if response.status_code not in RETRY_STATUSES or attempt >= retries:
                return response
            why = f"HTTP {response.status_code}"
            delay = retry_after(response.headers.get("Retry-After"))
            response.close()
            attempt += 1
            wait(backoff(attempt - 1) if delay is None else delay, why)
            continue
        attempt += 1
        wait(backoff(attempt - 1), why)


def _describe(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if type(exc).__name__ not in text else text


def pause(seconds: float, stopping: Callable[[], bool]) -> None:
    """Sleep ``seconds``, in short steps, ending early when the execution is stopping."""
    end = time.monotonic() + seconds
    while not stopping():
        left = end - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, 0.25))
