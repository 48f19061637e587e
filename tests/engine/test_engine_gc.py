"""Fewer garbage collections while an execution runs (engine/_gc.py), and the thresholds put
back after it, also when executions overlap."""

import gc
import threading

import pytest

from postroom.engine import _gc
from postroom.engine.shapes.message import MessageRunner
from postroom.sdk import Document
from support.engine_helpers import run_yaml

pytestmark = pytest.mark.fast

PROCESS = """
type: process
name: gc probe
shapes:
  start: {type: start, mode: data_passthrough, next: m}
  m: {type: message, text: "Dear {1},", parameters: [{static: Alice}], next: done}
  done: {type: stop}
"""


@pytest.fixture
def default_thresholds():
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_an_execution_runs_with_raised_thresholds_and_puts_them_back(default_thresholds, monkeypatch):
    seen = []
    handle = MessageRunner.handle

    def spy(self, doc):  # noqa: ANN001, ANN202
        seen.append(gc.get_threshold())
        return handle(self, doc)

    monkeypatch.setattr(MessageRunner, "handle", spy)
    result, _, _ = run_yaml(PROCESS, [Document(b"a"), Document(b"b")])
    assert result.status == "complete"
    assert seen == [_gc.THRESHOLDS, _gc.THRESHOLDS]
    assert gc.get_threshold() == (700, 10, 10)


def test_overlapping_uses_share_and_the_last_one_restores(default_thresholds):
    inside, release = threading.Event(), threading.Event()

    def other() -> None:
        with _gc.fewer_collections():
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=other)
    with _gc.fewer_collections():
        thread.start()
        assert inside.wait(10)
    assert gc.get_threshold() == _gc.THRESHOLDS  # the other one still runs
    release.set()
    thread.join(10)
    assert gc.get_threshold() == (700, 10, 10)


def test_higher_thresholds_and_a_disabled_collector_are_left_alone(default_thresholds):
    gc.set_threshold(100_000, 50, 200)
    with _gc.fewer_collections():
        assert gc.get_threshold() == (100_000, 50, 200)
    gc.set_threshold(0, 10, 10)
    with _gc.fewer_collections():
        assert gc.get_threshold() == (0, 10, 10)
    assert gc.get_threshold() == (0, 10, 10)


def test_thresholds_come_back_after_a_failure(default_thresholds):
    with pytest.raises(RuntimeError), _gc.fewer_collections():
        raise RuntimeError("boom")
    assert gc.get_threshold() == (700, 10, 10)
