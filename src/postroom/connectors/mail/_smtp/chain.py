"""A run of emails over one session, one round trip an email (:meth:`Chain.steps`).

When the server offers PIPELINING, an email's message and final dot go out in one write
with the next email's MAIL, RCPT and DATA (RFC 2920 lets message content open a group), so
each email costs one round trip instead of two. The chain goes on while every recipient is
accepted; anything else (a refusal, a deferral with its retries, a dropped session, a
server without PIPELINING, a message the server cannot take) goes the way of
:meth:`SmtpPool.send` for that email, with the same outcome. ``job.delivery`` or
``job.error`` holds the outcome; a :class:`DocumentError` is the email's own, any other
error is reported to ``done`` and then raised. ``journal_sync`` runs before every final
dot, as in :meth:`SmtpPool.send`.
"""

from __future__ import annotations

import logging
import select
import smtplib
import ssl
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING

from ....errors import ConnectionFailed, DocumentError
from .session import Session
from .transaction import (
    Delivery,
    Dropped,
    HookFailed,
    Outgoing,
    Replies,
    after_group,
    call_hook,
    check_dropped,
    group_replies,
    rcpt_options,
)
from .wire import commands, getreply, send_message

if TYPE_CHECKING:
    from .pool import SmtpPool

__all__ = ["Chain", "interleave"]

#: What a chain yields when another may go first if it can do so without waiting (see interleave).
IF_READY = -1.0

#: An email whose first attempt left recipients deferred: retried by send() after the lease.
Detour = tuple[Outgoing, Delivery, dict[str, str]]


class ChainBroken(Exception):
    """The session failed mid-chain: ``jobs`` go again the standard way, then ``following``."""

    def __init__(self, jobs: list[Outgoing], following: Outgoing | None) -> None:
        super().__init__("SMTP session lost")
        self.jobs = jobs
        self.following = following


class Chain:
    """One run of emails over one session: what it sends with and reports to.

    :meth:`steps` does the work, yielding where it would wait: 0.0 right after a write,
    before reading the server's replies (another chain may go on meanwhile), and a back-off's
    seconds before a retry. ``cooperative``: a session slot is waited for by yielding too (a
    chain run beside others in one thread must never block it while they hold sessions).
    """

    def __init__(
        self,
        pool: SmtpPool,
        next_job: Callable[[], Outgoing | None],
        done: Callable[[Outgoing], None],
        logger: logging.Logger | None,
        journal_sync: Callable[[], None] | None,
        *,
        cooperative: bool = False,
    ) -> None:
        self.pool = pool
        self.next_job = next_job
        self.done = done
        self.logger = logger
        self.journal_sync = journal_sync
        self.cooperative = cooperative
        #: the session whose replies this chain waits for, while it does
        self.reading: Session | None = None

    def can_go_on(self) -> bool:
        """Whether this chain would go on without waiting: it waits for no reply, or the reply
        has arrived (more than a reply already in the client's buffer: the socket is asked)."""
        session = self.reading
        sock = session.smtp.sock if session is not None else None
        if sock is None:
            return True
        if isinstance(sock, ssl.SSLSocket) and sock.pending():
            return True
        try:
            return bool(select.select([sock], [], [], 0)[0])
        except (OSError, ValueError):  # closed meanwhile: its next step finds out
            return True

    def run(self) -> None:
        """Run this chain to its end in this thread, sleeping its back-offs."""
        for delay in self.steps():
            if delay > 0:
                self.pool.sleep(delay)

    def steps(self) -> Iterator[float]:
        job = self.next_job()
        while job is not None:
            detours: list[Detour] = []
            single: list[Outgoing] = []
            following: Outgoing | None = None
            if self.cooperative:
                yield from self.pool.reserve()
            try:
                with self.pool.lease(self.logger, reserved=self.cooperative) as session:
                    options = self.pool.chain_options(session, job)
                    if options is None:
                        single.append(job)
                    else:
                        following = yield from self._chained(session, job, options, detours)
            except ChainBroken as broken:
                single.extend(broken.jobs)
                following = broken.following
            except HookFailed as failed:
                for pending in failed.jobs:
                    pending.error = failed.__cause__
                    self.done(pending)
                raise failed.__cause__ from None  # type: ignore[misc]
            except ConnectionFailed:
                if following is not None or detours:
                    raise  # pragma: no cover - only the lease itself raises this, before any job
                single.append(job)  # no session to be had now: send() retries with backoff
            yield from self._one_by_one(detours, single, following)
            job = following if following is not None else self.next_job()

    def _one_by_one(self, detours: list[Detour], single: list[Outgoing],
                    following: Outgoing | None) -> Iterator[float]:
        """The emails that left the chain, each the way of send(); a fatal error is every
        remaining email's too."""
        leftovers: list[tuple[Outgoing, tuple[Delivery, dict[str, str]] | None]] = [
            (pending, (delivery, deferred)) for pending, delivery, deferred in detours
        ] + [(pending, None) for pending in single]
        for index, (pending, after) in enumerate(leftovers):
            try:
                yield from self._single(pending, after)
            except Exception as exc:  # fatal: the emails not sent yet share the error
                for rest in [r for r, _ in leftovers[index + 1 :]] + ([following] if following else []):
                    rest.error = exc
                    self.done(rest)
                raise

    def _single(self, job: Outgoing, after: tuple[Delivery, dict[str, str]] | None) -> Iterator[float]:
        try:
            job.delivery = yield from self.pool.send_steps(
                job.sender, job.recipients, job.message, smtputf8=job.smtputf8, logger=self.logger,
                journal_sync=self.journal_sync, after=after, dsn=job.dsn, cooperative=self.cooperative)
        except DocumentError as exc:
            job.error = exc
        except Exception as exc:
            job.error = exc
            self.done(job)
            raise
        self.done(job)

    def _chained(self, session: Session, job: Outgoing, options: list[str],
                 detours: list[Detour]) -> Generator[float, None, Outgoing | None]:
        """Send ``job`` and those after it over ``session`` while all goes smoothly; return
        the next job not yet started (None when ``next_job`` ran out)."""
        in_flight: list[Outgoing | None] = [job, None]  # the current email, the following one
        try:
            self.pool.limiter.acquire()
            self.pool.open_group(session, job.sender, job.recipients, options, job.smtputf8, job.dsn)
            call_hook(self.journal_sync)  # while the server answers
            self.reading = session
            yield 0.0
            return (yield from self._go_on(session, in_flight, detours))
        except HookFailed as exc:
            exc.jobs = [j for j in in_flight if j is not None]
            raise
        except (smtplib.SMTPServerDisconnected, OSError, Dropped) as exc:
            # What was in flight goes again the standard way: an email whose final dot was
            # sent may have been taken (a repeat then carries the same Message-ID, as with
            # send()); one whose commands were sent was not.
            raise ChainBroken([j for j in in_flight[:1] if j is not None], in_flight[1]) from exc
        except Exception as exc:  # anything else is fatal for the emails in flight too
            raise HookFailed([j for j in in_flight if j is not None]) from exc

    def _go_on(self, session: Session, in_flight: list[Outgoing | None],
               detours: list[Detour]) -> Generator[float, None, Outgoing | None]:
        """The chain from the first group written on; ``in_flight`` tracks what a failure concerns."""
        pool, smtp = self.pool, session.smtp
        current = in_flight[0]
        while current is not None:
            replies = group_replies(session, current.recipients)
            if not replies.smooth:
                delivery = Delivery(attempts=1)
                deferred = after_group(session, current.recipients, current.message, replies, delivery,
                                       self.journal_sync)
                self._outcome(current, delivery, deferred, detours)
                return None  # a fresh lease (with RSET when needed) for what comes next
            following = in_flight[1] = self.next_job()
            then = b""
            if following is not None:
                next_options = pool.chain_options(session, following)
                if next_options is not None:
                    then = commands(following.sender, following.recipients, next_options, following.smtputf8,
                                    rcpt_options(session, following.dsn))
            call_hook(self.journal_sync)
            if then:
                pool.limiter.acquire()
            send_message(smtp, current.message, then)
            self.reading = session
            yield 0.0  # the server works on it: another chain may go on meanwhile
            code, reply = getreply(smtp)
            self.reading = None
            check_dropped(code, reply, session)
            session.dirty = bool(then)
            delivery = Delivery(attempts=1)
            outcome = Replies(current.recipients, delivery)
            outcome.accepted = list(current.recipients)
            outcome.data(code, reply)
            self._outcome(current, delivery, outcome.deferred, detours)
            in_flight[0] = current = None
            if not then:
                return following
            pool.pipelined += 1
            in_flight[:] = [following, None]
            current = following
            yield IF_READY  # its outcome is queued: the next sync writes the other's with it
        return None

    def _outcome(self, job: Outgoing, delivery: Delivery, deferred: dict[str, str], detours: list[Detour]) -> None:
        if deferred:
            detours.append((job, delivery, deferred))  # retried by send(), after this lease
        else:
            job.delivery = delivery
            self.done(job)


def interleave(chains: list[Chain], failed: Callable[[Chain, BaseException], None],
               sleep: Callable[[float], None]) -> None:
    """Run ``chains`` in this one thread: each goes until it would wait for its server, then
    the next ready one goes on, so that building and journaling one session's email overlaps
    the server's work on another's, with no second thread contending for the interpreter.

    A chain that yields :data:`IF_READY` goes on at once unless the next chain's reply has
    arrived: then that one goes first, so that one journal write records both outcomes
    without making either session wait for the server.

    A chain that raises is reported to ``failed`` and dropped; the others run to their end
    (the caller's ``next_job`` hands them nothing more when it should stop). An error that is
    no ``Exception`` (a second Ctrl-C) is raised once every other chain has ended. When no
    chain is ready (all backing off), the one due first is waited for with ``sleep``.
    """
    waiting: deque[tuple[float, Chain, Iterator[float]]] = deque((0.0, chain, chain.steps()) for chain in chains)
    fatal: BaseException | None = None
    while waiting:
        due, chain, steps = _next_ready(waiting, sleep)
        try:
            delay = next(steps)
        except StopIteration:
            continue
        except Exception as exc:  # noqa: BLE001 - the caller decides; the other chains go on
            failed(chain, exc)
            continue
        except BaseException as exc:
            failed(chain, exc)
            fatal = fatal or exc
            continue
        if delay == IF_READY and not (waiting and waiting[0][1].can_go_on()):
            waiting.appendleft((0.0, chain, steps))  # the next one would wait: this one goes on
            continue
        waiting.append((time.monotonic() + delay if delay > 0 else 0.0, chain, steps))
    if fatal is not None:
        raise fatal


def _next_ready(waiting: deque[tuple[float, Chain, Iterator[float]]],
                sleep: Callable[[float], None]) -> tuple[float, Chain, Iterator[float]]:
    """The first chain in turn that is due (taken out of ``waiting``); when none is, the one
    due first, after sleeping until then."""
    now = time.monotonic()
    for _ in range(len(waiting)):
        if waiting[0][0] <= now:
            return waiting.popleft()
        waiting.rotate(-1)
    first = min(waiting, key=lambda entry: entry[0])
    waiting.remove(first)
    sleep(max(0.0, first[0] - now))
    return first
