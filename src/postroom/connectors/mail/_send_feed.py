"""What one chain of a send's sessions sends (:class:`Feed`: the next document's emails, each
outcome reported back) and the way to run chains in threads of their own when the server does
not pipeline (:func:`threaded`); see send.py."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from ._send_journal import Sender
from ._send_plan import Email as _Email
from ._send_plan import Plan as _Plan
from ._smtp import Chain, Outgoing, SmtpPool


class Letters(Protocol):
    """What a feed asks of the send session (``send.MailSendSession``): an email made ready,
    an outcome recorded, a document settled."""

    def prepare_email(self, plan: _Plan, email: _Email, entry: Any, sender: Sender) -> Outgoing | None: ...

    def record_outcome(self, job: Outgoing, sender: Sender) -> None: ...

    def settle(self, plan: _Plan) -> None: ...

__all__ = ["Feed", "threaded"]


class Feed:
    """One sending thread's emails for :class:`.chain.Chain`, document by document.

    ``next_job`` takes the next document when the current one is handed out, skips what an
    earlier attempt sent and stops a document at its first email that cannot go (the rest
    are journaled "not sent"); ``done`` records each outcome.
    """

    def __init__(self, session: Letters, take: Callable[[], _Plan | None], sender: Sender) -> None:
        self.session = session
        self.take = take
        self.sender = sender
        self.plan: _Plan | None = None
        self.emails: Iterator[tuple[_Email, Any]] = iter(())

    def next_job(self) -> Outgoing | None:
        while True:
            plan = self.plan
            if plan is None:
                plan = self.plan = self.take()
                if plan is None:
                    return None
                self.emails = iter(zip(plan.emails, plan.entries, strict=True))
            for email, entry in self.emails:
                if plan.failure is not None:
                    self.sender.finish(email.key, "failed",
                                       f"not sent: another email of this document failed ({plan.failure})")
                    continue
                job = self.session.prepare_email(plan, email, entry, self.sender)
                if job is not None:
                    plan.in_flight += 1
                    return job
            self.plan = None
            plan.fed_all = True
            self.session.settle(plan)

    def done(self, job: Outgoing) -> None:
        self.session.record_outcome(job, self.sender)


def threaded(chains: list[Chain], pool: SmtpPool, stop: list[BaseException], halt: threading.Event) -> None:
    """Each chain in a thread of its own (this one runs the first); ``stop`` gets each error,
    and the other chains then take no new document; ``halt`` is set once this thread's is done."""

    def work(chain: Chain) -> None:
        try:
            chain.run()
        except Exception as exc:  # noqa: BLE001 - on its documents already; execute() raises it
            stop.append(exc)
        except BaseException as exc:
            stop.append(exc)
            if threading.current_thread() is threading.main_thread():
                raise

    threads = [threading.Thread(target=work, args=(chain,), name=f"postroom-mail-send-{n}", daemon=True)
               for n, chain in enumerate(chains[1:], start=1)]
    try:
        for thread in threads:
            thread.start()
        work(chains[0])  # this thread sends too
    finally:
        halt.set()  # this thread's chain ended, or was interrupted: no new documents
        for thread in threads:
            thread.join()
