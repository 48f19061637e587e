"""State that outlives one execution: persisted process properties, the send journal,
mailbox watermarks and leases (across threads and processes)."""

from __future__ import annotations

import multiprocessing
import random
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from postroom.errors import NotFound
from postroom.repository import Repository, open_repository


# -- persisted process properties ------------------------------------------------------------
@pytest.mark.fast_on_sqlite
def test_persisted_properties_upsert_and_keep_others(repo: Repository) -> None:
    assert repo.get_persisted_properties("p1") == {}
    repo.set_persisted_properties("p1", {"last_run": "2026-01-01", "count": "1"})
    repo.set_persisted_properties("p2", {"count": "100"})
    repo.set_persisted_properties("p1", {"count": "2", "new": "ünï"})
    repo.set_persisted_properties("p1", {})
    assert repo.get_persisted_properties("p1") == {"last_run": "2026-01-01", "count": "2", "new": "ünï"}
    assert repo.get_persisted_properties("p2") == {"count": "100"}


# -- send journal ------------------------------------------------------------------------------
@pytest.mark.fast_on_sqlite
def test_journal_begin_returns_the_existing_entry(repo: Repository) -> None:
    first = repo.journal_begin("e1", "send/0/alice@example.com", "<one@postroom>")
    assert (first.execution_id, first.key, first.message_id, first.status, first.reply) == (
        "e1", "send/0/alice@example.com", "<one@postroom>", "pending", "")
    assert first.updated_at is not None

    again = repo.journal_begin("e1", "send/0/alice@example.com", "<two@postroom>")
    assert again.message_id == "<one@postroom>" and again.status == "pending"

    repo.journal_finish("e1", "send/0/alice@example.com", "sent", "250 2.0.0 Ok: queued as ABC")
    after = repo.journal_begin("e1", "send/0/alice@example.com", "<three@postroom>")
    assert (after.message_id, after.status, after.reply) == ("<one@postroom>", "sent",
                                                             "250 2.0.0 Ok: queued as ABC")

    # The same key in another execution is another entry.
    other = repo.journal_begin("e2", "send/0/alice@example.com", "<other@postroom>")
    assert other.message_id == "<other@postroom>"


@pytest.mark.fast_on_sqlite
def test_journal_entries_and_finish(repo: Repository) -> None:
    repo.journal_begin("e1", "a", "<a@x>")
    repo.journal_begin("e1", "b", "<b@x>")
    repo.journal_finish("e1", "b", "failed", "550 no such user")
    entries = repo.journal_entries("e1")
    assert set(entries) == {"a", "b"}
    assert (entries["a"].status, entries["b"].status, entries["b"].reply) == ("pending", "failed",
                                                                              "550 no such user")
    assert entries["b"].updated_at >= entries["a"].updated_at
    assert repo.journal_entries("e2") == {}
    with pytest.raises(NotFound):
        repo.journal_finish("e1", "never-begun", "sent")


@pytest.mark.fast_on_sqlite
def test_racing_journal_begin_agrees_on_one_message_id(repo: Repository) -> None:
    barrier = threading.Barrier(6)
    seen: list[str] = []
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            barrier.wait()
            for k in range(10):
                seen.append(f"{k}:" + repo.journal_begin("race", f"key{k}", f"<{n}-{k}@x>").message_id)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    entries = repo.journal_entries("race")
    assert len(entries) == 10
    for k in range(10):
        ids = {s.split(":", 1)[1] for s in seen if s.startswith(f"{k}:")}
        assert ids == {entries[f"key{k}"].message_id}  # every caller got the one stored id


# -- watermarks --------------------------------------------------------------------------------
@pytest.mark.fast_on_sqlite
def test_watermarks(repo: Repository) -> None:
    assert repo.get_watermark("imap://a@host/INBOX") is None
    value: dict[str, Any] = {"uidvalidity": 1712345, "uid": 42, "seen": ["a", "b"], "nested": {"x": None}}
    repo.set_watermark("imap://a@host/INBOX", value)
    assert repo.get_watermark("imap://a@host/INBOX") == value
    repo.set_watermark("imap://a@host/INBOX", {"uidvalidity": 1712345, "uid": 43})
    repo.set_watermark("pop3://b@host", {"uidl": ["x1"]})
    assert repo.get_watermark("imap://a@host/INBOX") == {"uidvalidity": 1712345, "uid": 43}
    assert repo.get_watermark("pop3://b@host") == {"uidl": ["x1"]}


# -- leases ------------------------------------------------------------------------------------
@pytest.mark.fast_on_sqlite
def test_lease_two_owners_renewal_and_release(repo: Repository) -> None:
    assert repo.acquire_lease("mailbox:inbox", "worker-a", 30) is True
    assert repo.acquire_lease("mailbox:inbox", "worker-b", 30) is False
    assert repo.acquire_lease("mailbox:inbox", "worker-a", 30) is True  # renewal
    assert repo.acquire_lease("schedule:nightly", "worker-b", 30) is True  # another name is free

    repo.release_lease("mailbox:inbox", "worker-b")  # not the owner: no effect
    assert repo.acquire_lease("mailbox:inbox", "worker-b", 30) is False
    repo.release_lease("mailbox:inbox", "worker-a")
    assert repo.acquire_lease("mailbox:inbox", "worker-b", 30) is True
    assert repo.acquire_lease("mailbox:inbox", "worker-a", 30) is False


def test_lease_expires_and_renewal_extends_it(repo: Repository) -> None:
    assert repo.acquire_lease("l", "a", 0.6)
    time.sleep(0.35)
    assert repo.acquire_lease("l", "a", 0.6)  # renewed: now valid until ~0.95 s
    time.sleep(0.35)
    assert repo.acquire_lease("l", "b", 0.6) is False  # would have expired without the renewal
    time.sleep(0.4)
    assert repo.acquire_lease("l", "b", 0.6) is True  # expired: taken over
    assert repo.acquire_lease("l", "a", 0.6) is False


@pytest.mark.fast_on_sqlite
def test_lease_ttl_must_be_positive(repo: Repository) -> None:
    with pytest.raises(ValueError):
        repo.acquire_lease("l", "a", 0)


def _hammer(url: str, home: str, owner: int, holder: Any, seconds: float, results: Any) -> None:
    """Worker process: take, renew and release one lease as fast as possible; record a
    violation whenever the shared ``holder`` shows another owner inside our tenure."""
    repo = open_repository(url, home=home)
    acquired = refused = violations = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not repo.acquire_lease("hammer", f"owner-{owner}", 30):
            refused += 1
            continue
        acquired += 1
        with holder.get_lock():
            if holder.value != 0:
                violations += 1
            holder.value = owner
        if not repo.acquire_lease("hammer", f"owner-{owner}", 30):  # renew while holding
            violations += 1
        time.sleep(0.001)
        with holder.get_lock():
            if holder.value != owner:
                violations += 1
            holder.value = 0
        repo.release_lease("hammer", f"owner-{owner}")
        time.sleep(random.uniform(0, 0.003))  # give the other process a fair chance
    repo.close()
    results.put((owner, acquired, refused, violations))


def test_two_processes_never_hold_the_lease_at_once(database_url: str, home: Path) -> None:
    open_repository(database_url, home=home).close()  # migrate once, up front
    ctx = multiprocessing.get_context("spawn")
    holder = ctx.Value("i", 0)
    results = ctx.Queue()
    procs = [ctx.Process(target=_hammer, args=(database_url, str(home), n, holder, 3.0, results))
             for n in (1, 2)]
    for p in procs:
        p.start()
    outcome = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    by_owner = {o: (acquired, refused, violations) for o, acquired, refused, violations in outcome}
    assert set(by_owner) == {1, 2}
    assert all(v == 0 for _, _, v in by_owner.values()), by_owner
    assert all(acquired > 0 for acquired, _, _ in by_owner.values()), by_owner  # both took turns
    assert sum(refused for _, refused, _ in by_owner.values()) > 0, by_owner  # and really contended


def _hammer_with_expiry(url: str, home: str, owner: int, seconds: float, results: Any) -> None:
    """Worker process: take the lease with a short TTL, then at random renew it, release
    it, or let it expire. Reports every interval in which this owner was entitled to it:
    from the return of a successful acquire to its start + TTL (or the release, if sooner)."""
    repo = open_repository(url, home=home)
    ttl = 0.05
    intervals: list[tuple[float, float]] = []
    acquired = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        before = time.time()
        if not repo.acquire_lease("expiring", f"owner-{owner}", ttl):
            time.sleep(random.uniform(0, 0.002))  # poll fast, to race at the moment of expiry
            continue
        after = time.time()
        acquired += 1
        if after < before + ttl:
            intervals.append((after, before + ttl))
        choice = random.random()
        if choice < 0.4:  # release early: every tenure so far (renewals too) ends now
            time.sleep(random.uniform(0, ttl / 2))
            released = time.time()
            intervals = [(start, min(end, released)) for start, end in intervals]
            repo.release_lease("expiring", f"owner-{owner}")
        elif choice < 0.7:  # let it expire, then race the other owner for it
            time.sleep(max(0.0, before + ttl - time.time()))
        # else: loop at once, renewing
    repo.close()
    results.put((owner, acquired, intervals))


def test_two_processes_with_expiring_leases_never_overlap(database_url: str, home: Path) -> None:
    open_repository(database_url, home=home).close()
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    procs = [ctx.Process(target=_hammer_with_expiry, args=(database_url, str(home), n, 3.0, results))
             for n in (1, 2)]
    for p in procs:
        p.start()
    outcome = {owner: (acquired, intervals) for owner, acquired, intervals in
               (results.get(timeout=120) for _ in procs)}
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert all(acquired > 0 for acquired, _ in outcome.values()), outcome
    overlaps = [(a, b) for a in outcome[1][1] for b in outcome[2][1] if a[0] < b[1] and b[0] < a[1]]
    assert overlaps == [], overlaps[:5]
