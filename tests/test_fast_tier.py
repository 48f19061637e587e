"""The fast tier's guard (tests/support/fast_tier.py) fails a marked test that starts a
subprocess, connects a socket or sleeps, even when the code under test swallows the error;
unmarked tests and the full run are left alone."""

from __future__ import annotations

import pytest

TESTS = '''
import multiprocessing, socket, subprocess, time
import pytest

@pytest.mark.fast
def test_pure():
    assert sum(range(4)) == 6

@pytest.mark.fast
def test_subprocess():
    subprocess.run(["true"], check=True)

@pytest.mark.fast
def test_swallowed_connect():
    try:
        socket.create_connection(("127.0.0.1", 9), timeout=1)
    except BaseException:
        pass

@pytest.mark.fast
def test_sleep():
    time.sleep(0.01)

@pytest.mark.fast
def test_spawned_process():
    process = multiprocessing.get_context("spawn").Process(target=print)
    process.start()
    process.join()

def test_unmarked_sleeps():
    time.sleep(0.01)
'''


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest('pytest_plugins = ["support.fast_tier"]\n')
    pytester.makeini("[pytest]\nmarkers =\n    fast: the fast tier\n")
    pytester.makepyfile(test_tier=TESTS)
    return pytester


def test_the_fast_tier_fails_what_it_forbids_and_names_it(suite: pytest.Pytester,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTROOM_TEST_TIER", "fast")
    result = suite.runpytest_inprocess("-m", "fast", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=4, deselected=1)
    text = result.stdout.str()
    for what in ("starts a subprocess", "opens a socket connection", "calls time.sleep",
                 "starts a process (multiprocessing)"):
        assert f"this test is in the fast tier but {what}" in text, what
    assert "(the error was caught)" in text  # the swallowed connect still fails its test


def test_the_full_run_does_not_guard(suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POSTROOM_TEST_TIER", raising=False)
    result = suite.runpytest_inprocess("-p", "no:cacheprovider", "-k", "pure or sleep")
    result.assert_outcomes(passed=3, deselected=3)
