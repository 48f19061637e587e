"""The login rate limit on its own: per user name and per client address, a window that
slides, and a success that clears only what its own address did."""

from __future__ import annotations

import pytest

from postroom.services import LoginLimiter

pytestmark = pytest.mark.fast


def test_five_failures_per_user_name_from_any_address_block_that_name() -> None:
    clock = [0.0]
    limiter = LoginLimiter(limit=5, window=300, clock=lambda: clock[0])
    for i in range(5):
        assert limiter.retry_after("anna", f"10.0.0.{i}") is None
        limiter.failed("anna", f"10.0.0.{i}")
        clock[0] += 10
    assert limiter.retry_after("anna", "10.9.9.9") == 251  # the first failure leaves the window at 300
    assert limiter.retry_after("bert", "10.9.9.9") is None
    clock[0] = 300.0
    assert limiter.retry_after("anna", "10.9.9.9") is None  # the first one has left the window


def test_five_failures_from_one_address_block_it_for_every_name() -> None:
    clock = [0.0]
    limiter = LoginLimiter(limit=5, window=300, clock=lambda: clock[0])
    for name in ("a", "b", "c", "d", "e"):
        limiter.failed(name, "203.0.113.7")
    assert limiter.retry_after("zoe", "203.0.113.7") == 301
    assert limiter.retry_after("zoe", "203.0.113.8") is None


def test_a_success_does_not_reset_another_address_count() -> None:
    clock = [0.0]
    limiter = LoginLimiter(limit=5, window=300, clock=lambda: clock[0])
    for _ in range(4):
        limiter.failed("anna", "198.51.100.66")  # an attacker guessing anna's password
    limiter.failed("anna", "127.0.0.1")  # anna mistypes once
    assert limiter.retry_after("anna", "127.0.0.1") is not None  # five against the name
    limiter.succeeded("anna", "127.0.0.1")  # anna's own address clears only its own failure
    assert limiter.retry_after("anna", "127.0.0.1") is None
    limiter.failed("anna", "198.51.100.66")  # the attacker's fifth: the name is blocked again
    assert limiter.retry_after("anna", "198.51.100.66") is not None
    assert limiter.retry_after("anna", "127.0.0.1") is not None


def test_counts_of_many_names_expire_instead_of_piling_up() -> None:
    clock = [0.0]
    limiter = LoginLimiter(limit=5, window=300, clock=lambda: clock[0])
    for i in range(6000):  # 6000 names from 6000 addresses: 12 000 counts
        limiter.failed(f"user{i}", f"10.{i // 250}.{i % 250}.1")
    clock[0] = 301.0
    limiter.failed("anna", "192.0.2.1")  # the old counts have expired: dropped, not kept
    limiter.failed("anna", "192.0.2.1")
    assert len(limiter._failures) == 2  # noqa: SLF001 - the bound is what this test checks
    assert limiter.retry_after("user1", "10.0.1.1") is None
