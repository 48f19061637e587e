"""Parallel sessions that take turns in one thread (``_smtp/chain.py``'s ``interleave``): each
session goes on while the server works on another's email; a back-off or a session another
send holds makes that session wait, never the others; the journal rule holds per session."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter

import pytest
from aiosmtpd.controller import Controller

from postroom.connectors.mail import connector
from postroom.connectors.mail import send as send_module
from postroom.connectors.mail._smtp import SmtpPool
from postroom.connectors.mail._smtp.chain import IF_READY, interleave
from postroom.sdk import Document, Failed
from postroom.sdk.testing import MemoryContext
from support.mailkit import Recorder, free_port, operation, plain_connection
from support.smtpscript import Script


class _Steps:
    """A stand-in chain: yields the given delays, noting each step in ``log``."""

    def __init__(self, name: str, delays: list[float], log: list[str], error: BaseException | None = None,
                 ready: bool = True) -> None:
        self.name, self.delays, self.log, self.error, self.ready = name, delays, log, error, ready

    def can_go_on(self) -> bool:
        return self.ready

    def steps(self):
        for number, delay in enumerate(self.delays):
            self.log.append(f"{self.name}{number}")
            yield delay
        self.log.append(f"{self.name}-end")
        if self.error is not None:
            raise self.error


@pytest.mark.fast
def test_chains_take_turns_and_a_backing_off_one_waits_alone():
    log: list[str] = []
    slept: list[float] = []
    chains = [_Steps("a", [0.0, 0.0], log), _Steps("b", [3600.0], log), _Steps("c", [0.0], log)]
    interleave(chains, lambda chain, exc: pytest.fail(f"{exc}"), slept.append)  # type: ignore[list-item]
    # b backs off for an hour: a and c go on to their ends; then b, after one sleep until it is due
    assert log == ["a0", "b0", "c0", "a1", "c-end", "a-end", "b-end"]
    assert len(slept) == 1 and 3590 < slept[0] <= 3600


@pytest.mark.parametrize("ready", [True, False])
@pytest.mark.fast
def test_a_chain_with_an_outcome_queued_lets_the_next_go_first_only_when_its_reply_is_in(ready):
    log: list[str] = []
    chains = [_Steps("a", [IF_READY, 0.0], log), _Steps("b", [0.0], log, ready=ready)]
    interleave(chains, lambda chain, exc: pytest.fail(f"{exc}"), lambda _: None)  # type: ignore[list-item]
    if ready:  # b's reply has arrived: b goes first, and a's next journal write records both
        assert log[:3] == ["a0", "b0", "a1"]
    else:  # b would only wait for the server: a goes on at once
        assert log[:3] == ["a0", "a1", "b0"]


@pytest.mark.fast
def test_a_failing_chain_is_reported_and_the_others_run_to_their_end():
    log: list[str] = []
    failed: list[tuple[str, str]] = []
    chains = [_Steps("a", [0.0], log, RuntimeError("session lost")), _Steps("b", [0.0, 0.0], log)]
    interleave(chains, lambda chain, exc: failed.append((chain.name, str(exc))), lambda _: None)  # type: ignore[list-item]
    assert failed == [("a", "session lost")]
    assert log[-1] == "b-end"


@pytest.mark.fast
def test_a_second_ctrl_c_is_raised_once_the_other_chains_ended():
    log: list[str] = []
    chains = [_Steps("a", [0.0], log, KeyboardInterrupt()), _Steps("b", [0.0, 0.0, 0.0], log)]
    with pytest.raises(KeyboardInterrupt):
        interleave(chains, lambda chain, exc: None, lambda _: None)  # type: ignore[list-item]
    assert "b-end" in log


class _PipeliningSlowRecorder(Recorder):
    """Offers PIPELINING and takes 20 ms over each message; notes how many it had at once."""

    def __init__(self) -> None:
        super().__init__()
        self.busy = 0
        self.most_at_once = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_DATA(self, server, session, envelope):
        self.busy += 1
        self.most_at_once = max(self.most_at_once, self.busy)
        try:
            await asyncio.sleep(0.02)
        finally:
            self.busy -= 1
        return await super().handle_DATA(server, session, envelope)


def test_sessions_of_a_pipelining_server_overlap_in_one_thread(monkeypatch):
    threaded = send_module._threaded  # noqa: SLF001

    def one_chain_only(chains, *args):
        assert len(chains) == 1, "a pipelining server's sessions take turns in one thread"
        threaded(chains, *args)

    monkeypatch.setattr(send_module, "_threaded", one_chain_only)
    recorder = _PipeliningSlowRecorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    context = MemoryContext(execution_id="exec-turns")
    documents = [Document(f"Dear p{n},", {"mail.to_address": f"p{n}@example.com"}) for n in range(40)]
    try:
        session = connector.open(plain_connection(port, max_sessions=3), operation(), context)
        try:
            results = list(session.execute(documents, "send"))
        finally:
            session.close()
    finally:
        controller.stop()
    assert [r.properties["mail.to_address"] for r in results] == [f"p{n}@example.com" for n in range(40)]
    assert sorted(m.rcpt_tos[0] for m in recorder.messages) == sorted(f"p{n}@example.com" for n in range(40))
    assert len(recorder.sessions) == 3
    assert recorder.most_at_once >= 2  # the server had emails of several sessions at once
    assert Counter(e.status for e in context.journal().entries().values()) == {"sent": 40}


def test_a_deferred_email_waits_out_its_back_off_while_the_other_sessions_go_on(scripted):
    script = Script(rcpt={"p1@example.com": ["451 4.2.0 Greylisted, try later"]})
    slept: list[float] = []
    context = MemoryContext(execution_id="exec-backoff")
    settings = plain_connection(scripted(script), max_sessions=2, retry_delay_seconds=30)
    session = connector.open(settings, operation(), context)
    session._pool = SmtpPool(settings, sleep=slept.append)  # noqa: SLF001 - no real half minute; closed by close()
    documents = [Document(f"Dear p{n},", {"mail.to_address": f"p{n}@example.com"}) for n in range(20)]
    try:
        results = list(session.execute(documents, "send"))
    finally:
        session.close()
    assert not any(isinstance(r, Failed) for r in results)
    arrived = [m.split(b"To: ", 1)[1].split(b"\r\n", 1)[0].decode().strip("<>") for m in script.messages]
    assert sorted(arrived) == sorted(f"p{n}@example.com" for n in range(20))
    assert arrived[-1] == "p1@example.com"  # the 19 others went while it backed off
    assert len(slept) == 1 and 0 < slept[0] <= 30
    assert Counter(e.status for e in context.journal().entries().values()) == {"sent": 20}


def test_two_sends_sharing_the_sessions_never_wait_for_each_other_forever(scripted):
    """Each send takes turns between its sessions in its own thread; a session the other send
    holds is waited for by yielding, so neither thread blocks while holding one."""
    script = Script()
    settings = plain_connection(scripted(script), max_sessions=2)
    outcomes: dict[str, list] = {}

    def execution(name: str) -> None:
        context = MemoryContext(execution_id=name)
        session = connector.open(settings, operation(), context)  # both share the pool of these settings
        documents = [Document(f"Dear {name} {n},", {"mail.to_address": f"{name}{n}@example.com"}) for n in range(150)]
        try:
            outcomes[name] = list(session.execute(documents, "send"))
        finally:
            session.close()

    threads = [threading.Thread(target=execution, args=(name,), daemon=True) for name in ("x", "y")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads), "the two sends waited for each other"
    assert sorted(outcomes) == ["x", "y"]
    assert not any(isinstance(r, Failed) for results in outcomes.values() for r in results)
    assert len(script.messages) == 300 and script.sessions <= 4
