"""The session pool of one SMTP server, its rate limit, and the registry that shares pools.

Sessions live in a :class:`SmtpPool` per connection (at most ``max_sessions``), reused
across documents. A session that just finished a transaction is reused as it is; one that
idled longer than :attr:`SmtpPool.FRESH_SECONDS` or was left mid-transaction gets an RSET
first, which doubles as the liveness check. A session the server dropped is replaced
transparently, also when the drop only shows on the first command of a reuse.

When the server offers PIPELINING (RFC 2920), MAIL FROM, every RCPT TO and DATA go out in
one write and their replies are read in order, so an email costs two round trips instead
of three plus one per recipient (:mod:`.transaction`); a run of emails goes further
(:mod:`.chain`).
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
import threading
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from typing import cast

from ....errors import ConnectionFailed, DocumentError
from ....sdk import RateLimit
from ..spec import MailConnection
from .dsn import DsnRequest
from .session import Opener, Session
from .transaction import (
    Delivery,
    Dropped,
    HookFailed,
    Outgoing,
    Stale,
    after_group,
    call_hook,
    group_replies,
    mail_options,
    one_by_one,
    rcpt_options,
)
from .wire import commands

__all__ = ["PoolRegistry", "RateLimiter", "SmtpPool"]

log = logging.getLogger("postroom.connectors.mail")

_MAX_BACKOFF = 60.0


class RateLimiter:
    """A token bucket of capacity one: at most ``per_minute`` emails a minute, evenly spaced.

    Each caller reserves the next slot under the lock and sleeps outside it, so threads
    queue fairly and the lock is never held while waiting. 0 means no limit.
    """

    def __init__(
        self,
        per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.per_second = per_minute / 60.0
        self._clock = clock
        self._sleep = sleep
        self._tokens = 1.0
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait for a slot; return how long that took (for logs and tests)."""
        if self.per_second <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            self._tokens = min(1.0, self._tokens + (now - self._last) * self.per_second)
            self._last = now
            self._tokens -= 1.0
            wait = -self._tokens / self.per_second if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait


class SmtpPool:
    """At most ``max_sessions`` sessions to one server, reused across documents and threads.

    A pool may serve several executions at once (see :class:`PoolRegistry`), so it keeps
    no logger of its own: each call names the execution's log.
    """

    #: A clean session idle for less than this is reused without an RSET first.
    FRESH_SECONDS = 5.0

    def __init__(
        self,
        connection: MailConnection,
        *,
        sleep: Callable[[float], None] = time.sleep,
        limiter: RateLimit | None = None,
    ) -> None:
        self.connection = connection
        self._sleep = sleep
        self._slots = threading.BoundedSemaphore(connection.max_sessions)
        self._idle: list[Session] = []
        self._lock = threading.Lock()
        self._closed = False
        tokens = None
        if connection.user_password_auth and connection.uses_xoauth2:
            from .._oauth import TokenSource  # urllib.request and the token flows: only for OAuth

            tokens = TokenSource(connection)
        self._opener = Opener(connection, tokens)
        #: the connection's rate limit: this process's own, or one all the workers share
        self.limiter: RateLimit = limiter or RateLimiter(connection.max_messages_per_minute, sleep=sleep)
        #: Sessions opened so far (tests read it to prove reuse).
        self.opened = 0
        #: Transactions sent pipelined (tests read it to prove PIPELINING was used).
        self.pipelined = 0
        #: Whether the server's EHLO offered DSN (RFC 3461), once a session asked; None before.
        self.dsn_offered: bool | None = None
        #: Whether the server offers PIPELINING, as its last new session said; None before one.
        self.pipelines: bool | None = None

    def __repr__(self) -> str:
        return f"SmtpPool({self.connection.endpoint}, max_sessions={self.connection.max_sessions})"

    @property
    def max_sessions(self) -> int:
        return self.connection.max_sessions

    @contextmanager
    def lease(self, logger: logging.Logger | None = None, *, reserved: bool = False) -> Iterator[Session]:
        """A live session for one transaction; a session that failed is closed, not returned.

        A session that ended its last transaction cleanly less than ``FRESH_SECONDS`` ago
        is handed out as it is (``unverified``); any other idle one is checked with RSET.
        ``reserved``: the caller holds a slot already (:meth:`reserve`); released here.
        """
        if not reserved:
            self._slots.acquire()
        session: Session | None = None
        healthy = False
        try:
            while True:
                with self._lock:
                    if self._closed:
                        raise ConnectionFailed(f"the session pool for {self.connection.endpoint} is closed")
                    session = self._idle.pop() if self._idle else None
                if session is None:
                    break
                if not session.dirty and time.monotonic() - session.released < self.FRESH_SECONDS:
                    session.unverified = True
                    break
                if session.alive():
                    session.unverified = False
                    break
                (logger or log).debug(
                    "SMTP session to %s was dropped by the server; reconnecting", self.connection.endpoint
                )
                session.close()
                session = None
            if session is None:
                session = self._opener.open()
                self.opened += 1
                self.pipelines = session.pipelining
            try:
                yield session
            except DocumentError:
                healthy = True  # the message was refused before MAIL: the session is fine
                raise
            healthy = True
        finally:
            if session is not None:
                session.released = time.monotonic()
                with self._lock:
                    keep = healthy and not self._closed
                    if keep:
                        self._idle.append(session)
                if not keep:
                    session.close()
            self._slots.release()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for session in idle:
            session.close()

    # one email -------------------------------------------------------------------------------
    def send(
        self,
        sender: str,
        recipients: list[str],
        message: bytes,
        *,
        smtputf8: bool = False,
        logger: logging.Logger | None = None,
        journal_sync: Callable[[], None] | None = None,
        after: tuple[Delivery, dict[str, str]] | None = None,
        dsn: DsnRequest | None = None,
    ) -> Delivery:
        """Deliver one message to its recipients, retrying what the server deferred.

        A 4xx (on MAIL, a RCPT or DATA) or a dropped session is retried with exponential
        backoff up to ``max_retries`` times, only for the recipients not yet served; a 5xx
        refuses that recipient for good. A failure to reconnect after the retries raises
        :class:`ConnectionFailed`; a message the server can never take (too large, needs
        SMTPUTF8) raises :class:`DocumentError`. ``journal_sync`` is called before the final
        dot of each attempt, the one moment after which the server may have taken the message
        (and, when pipelining, right after the commands are written, so that its journal write
        overlaps the server's work). ``after``: the delivery and the deferred recipients of a
        first attempt made elsewhere (:meth:`.chain.Chain.steps`); the retries go on from there. ``dsn``: RFC 3461.
        """
        steps = self.send_steps(sender, recipients, message, smtputf8=smtputf8, logger=logger,
                                journal_sync=journal_sync, after=after, dsn=dsn)
        while True:
            try:
                delay = next(steps)
            except StopIteration as finished:
                return cast(Delivery, finished.value)
            self._sleep(delay)

    def send_steps(
        self,
        sender: str,
        recipients: list[str],
        message: bytes,
        *,
        smtputf8: bool = False,
        logger: logging.Logger | None = None,
        journal_sync: Callable[[], None] | None = None,
        after: tuple[Delivery, dict[str, str]] | None = None,
        dsn: DsnRequest | None = None,
        cooperative: bool = False,
    ) -> Generator[float, None, Delivery]:
        """:meth:`send` as steps: yields each back-off's seconds instead of sleeping them
        (the caller waits them, or sends other emails meanwhile: :func:`.chain.interleave`);
        ``cooperative``: a session is waited for the same way (yields) rather than blocking."""
        conn = self.connection
        delivery, deferred = after if after is not None else (Delivery(), {})
        pending = list(deferred) if after is not None else list(dict.fromkeys(recipients))
        attempt, stale_retried = 0, False
        tried = after is not None  # the first attempt was made elsewhere: on to its retry
        while pending:
            if tried:
                tried = False
            else:
                delivery.attempts += 1
                if cooperative:
                    yield from self.reserve()
                try:
                    deferred = self._attempt(sender, pending, message, smtputf8, delivery, logger, journal_sync,
                                             dsn, reserved=cooperative)
                except Stale as exc:
                    if not stale_retried:
                        # The server closed the idle session; nothing of this email reached it.
                        stale_retried = True
                        (logger or log).debug("SMTP session to %s had been closed by the server (%s); "
                                              "reconnecting", conn.endpoint, str(exc)[:3])
                        continue
                    deferred = self._dropped(exc, pending, attempt)
                except Dropped as exc:
                    deferred = self._dropped(exc, pending, attempt)
                except ConnectionFailed as exc:
                    # Reconnecting failed: worth retrying only for what may pass (refused, timeout).
                    if not exc.retryable or attempt >= conn.max_retries:
                        raise
                    deferred = dict.fromkeys(pending, exc.message)
            pending = list(deferred)
            if pending and attempt < conn.max_retries:
                attempt += 1
                yield self._back_off(deferred, attempt, logger)
            elif pending:
                delivery.refused.update(deferred)
                break
        return delivery

    #: Seconds between two tries for a session another sender holds (cooperative sends only).
    RESERVE_POLL = 0.002

    def reserve(self) -> Iterator[float]:
        """Take a session slot without blocking the thread: yields :attr:`RESERVE_POLL` while
        every slot is taken (the caller's other sessions go on meanwhile); the slot is then
        the caller's, for a ``lease(reserved=True)``."""
        while not self._slots.acquire(blocking=False):
            yield self.RESERVE_POLL

    def _attempt(
        self,
        sender: str,
        pending: list[str],
        message: bytes,
        smtputf8: bool,
        delivery: Delivery,
        logger: logging.Logger | None,
        journal_sync: Callable[[], None] | None,
        dsn: DsnRequest | None = None,
        *,
        reserved: bool = False,
    ) -> dict[str, str]:
        """One try over a leased session; the recipients deferred. A failed hook raises its own error."""
        try:
            with self.lease(logger, reserved=reserved) as session:
                self.limiter.acquire()
                return self._transaction(session, sender, pending, message, smtputf8, delivery, journal_sync, dsn)
        except HookFailed as exc:
            raise exc.__cause__ from None  # type: ignore[misc]

    def _dropped(self, exc: Dropped, pending: list[str], attempt: int) -> dict[str, str]:
        """Every pending recipient deferred with the drop, or :class:`ConnectionFailed` when the
        retries are used up."""
        if attempt >= self.connection.max_retries:
            raise ConnectionFailed(
                f"the SMTP session with {self.connection.endpoint} kept dropping ({exc}); gave up after "
                f"{attempt + 1} attempts"
            ) from None
        return dict.fromkeys(pending, str(exc))

    def _back_off(self, deferred: dict[str, str], attempt: int, logger: logging.Logger | None) -> float:
        """Log the deferral; the seconds to wait before retry ``attempt``."""
        conn = self.connection
        delay = min(_MAX_BACKOFF, conn.retry_delay_seconds * 2 ** (attempt - 1))
        reason = next(iter(deferred.values()))
        # The reply code only: servers echo the recipient's address in the text.
        reason = reason[:3] if reason[:3].isdigit() else reason
        (logger or log).info(
            "the server deferred %d recipient(s) (%s); retry %d of %d in %.1f s",
            len(deferred), reason, attempt, conn.max_retries, delay,
        )
        return delay

    def _transaction(
        self,
        session: Session,
        sender: str,
        recipients: list[str],
        message: bytes,
        smtputf8: bool,
        delivery: Delivery,
        journal_sync: Callable[[], None] | None = None,
        dsn: DsnRequest | None = None,
    ) -> dict[str, str]:
        """One MAIL/RCPT/DATA transaction; returns the recipients deferred (4xx) with the reply."""
        options = self.options(session, len(message), smtputf8, dsn)
        try:
            if not session.pipelining:
                return one_by_one(session, sender, recipients, message, options, delivery, journal_sync,
                                  rcpt_options(session, dsn))
            self.open_group(session, sender, recipients, options, smtputf8, dsn)
            call_hook(journal_sync)  # while the server answers (it must be done before the dot anyway)
            replies = group_replies(session, recipients)
            return after_group(session, recipients, message, replies, delivery, journal_sync)
        except smtplib.SMTPNotSupportedError as exc:
            raise DocumentError(f"{self.connection.endpoint}: {exc}") from None
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            if session.unverified:
                raise Stale(f"connection lost: {exc or type(exc).__name__}") from None
            raise Dropped(f"connection lost: {exc or type(exc).__name__}") from None

    def options(self, session: Session, size: int, smtputf8: bool, dsn: DsnRequest | None) -> list[str]:
        """MAIL FROM's options (see :func:`mail_options`); notes whether the server offers DSN."""
        if dsn is not None:
            self.dsn_offered = session.has("dsn")
        return mail_options(session, self.connection.endpoint, size, smtputf8, dsn)

    def open_group(self, session: Session, sender: str, recipients: list[str], options: list[str],
                    smtputf8: bool, dsn: DsnRequest | None = None) -> None:
        """Write MAIL, every RCPT and DATA in one go (RFC 2920); their replies come later."""
        session.dirty = True
        session.smtp.send(commands(sender, recipients, options, smtputf8, rcpt_options(session, dsn)))
        self.pipelined += 1

    # many emails (a chain of them: .chain) ------------------------------------------------
    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` the way this pool waits (a back-off; tests give a fake clock)."""
        self._sleep(seconds)

    def chain_options(self, session: Session, job: Outgoing) -> list[str] | None:
        """MAIL's options for ``job`` when it can go pipelined as it is; None otherwise."""
        if not session.pipelining:
            return None
        try:
            return self.options(session, len(job.message), job.smtputf8, job.dsn)
        except DocumentError:
            return None  # send() says why


def _shared_limit(connection: MailConnection,
                  shared: Callable[[str, int], RateLimit | None] | None) -> RateLimit | None:
    """The connection's rate limit as every worker shares it, keyed by server and account
    (every connection sending as that account shares it); None: the pool keeps its own."""
    per_minute = connection.max_messages_per_minute
    if shared is None or per_minute <= 0:
        return None
    return shared(f"mail:{connection.endpoint}:{connection.user_name}", per_minute)


class PoolRegistry:
    """One pool per connection settings, shared by every session that uses them.

    Two send shapes (or two executions) on one connection then share its
    ``max_sessions`` and its rate limit; the last user to release a pool closes it.
    """

    def __init__(self) -> None:
        self._pools: dict[str, tuple[SmtpPool, int]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(connection: MailConnection) -> str:
        # A digest, so the registry never holds the settings (and password) as a key.
        return hashlib.sha256(connection.model_dump_json().encode()).hexdigest()

    def acquire(self, connection: MailConnection,
                shared: Callable[[str, int], RateLimit | None] | None = None) -> SmtpPool:
        """The pool of ``connection``. A new pool's rate limit is the one the workers share
        (``shared``: ``RunContext.shared_rate_limit``) when there is one, else its own."""
        key = self._key(connection)
        with self._lock:
            pool, users = self._pools.get(key, (None, 0))
            if pool is None:
                pool = SmtpPool(connection, limiter=_shared_limit(connection, shared))
            self._pools[key] = (pool, users + 1)
            return pool

    def release(self, pool: SmtpPool) -> None:
        key = self._key(pool.connection)
        with self._lock:
            current, users = self._pools.get(key, (None, 0))
            if current is not pool:
                pool.close()
                return
            if users <= 1:
                del self._pools[key]
            else:
                self._pools[key] = (pool, users - 1)
                return
        pool.close()
