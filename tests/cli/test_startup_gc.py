"""Start-up without the cyclic garbage collector: ``postroom`` turns it off before its
imports and back on (with what start-up built frozen) once the command's repository is
open, whatever the command; a run's documents are then collected as always. Each case is
one ``postroom`` process, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from postroom.repository import ComponentRecord, open_repository

# Runs `postroom ARGS` in this interpreter and prints, on stderr after the command's own
# output: the collections that ran from main() to startup_done, whether the collector was on and
# how many objects were frozen when startup_done returned, and whether it is on at exit.
PROBE = """
import atexit, gc, json, sys
seen = {"collections": 0, "at_done": None}
def count(phase, info):
    if phase == "start":
        seen["collections"] += 1
gc.callbacks.append(count)
import postroom.cli as cli
done = cli.startup_done
def watched():
    done()
    if seen["at_done"] is None:
        seen["at_done"] = {"collections": seen["collections"], "enabled": gc.isenabled(),
                           "frozen": gc.get_freeze_count()}
cli.startup_done = watched
def report():
    sys.stderr.write("\\nGC " + json.dumps({**seen, "enabled_at_exit": gc.isenabled()}) + "\\n")
atexit.register(report)
sys.argv = ["postroom", *sys.argv[1:]]
seen["collections"] = 0  # from the entry point on
cli.main()
"""


def postroom(home: Path, *args: str, disabled: bool = False) -> tuple[int, str, dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTROOM_")}
    env["POSTROOM_HOME"] = str(home)
    probe = ("import gc; gc.disable()\n" if disabled else "") + PROBE
    proc = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, env=env,
                          timeout=120)
    err, _, seen = proc.stderr.rpartition("\nGC ")
    return proc.returncode, err, json.loads(seen)


@pytest.fixture
def hello(home: Path) -> Path:
    repo = open_repository(home=home)
    repo.save_components([ComponentRecord(id="hello", type="process", name="Hello", body={
        "type": "process", "name": "Hello", "id": "hello", "start": "start", "shapes": {
            "start": {"type": "start", "mode": "no_data", "next": "greet"},
            "greet": {"type": "message", "text": "hello", "next": "done"},
            "done": {"type": "stop"}}})])
    repo.close()
    return home


@pytest.mark.parametrize("args", [["run", "hello"], ["components", "list"], ["executions", "list"],
                                  ["components", "show", "hello"]])
def test_no_collection_before_the_repository_is_open_and_the_collector_on_after(hello: Path,
                                                                                  args: list[str]) -> None:
    code, err, seen = postroom(hello, *args)
    assert code == 0, err
    assert seen["at_done"]["collections"] == 0
    assert seen["at_done"]["enabled"] is True
    assert seen["at_done"]["frozen"] > 10_000  # the modules and classes start-up built
    assert seen["enabled_at_exit"] is True


def test_the_collector_is_back_on_when_the_command_fails_early(hello: Path) -> None:
    code, err, seen = postroom(hello, "run", "no-such-process")
    assert code == 2 and "no-such-process" in err
    assert seen["enabled_at_exit"] is True


def test_a_collector_turned_off_before_stays_off(hello: Path) -> None:
    code, err, seen = postroom(hello, "run", "hello", disabled=True)
    assert code == 0, err
    assert seen["at_done"]["enabled"] is False
    assert seen["at_done"]["frozen"] == 0
    assert seen["enabled_at_exit"] is False
