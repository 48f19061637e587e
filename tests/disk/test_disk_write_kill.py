"""Issue 7, item 8: a kill -9 during a disk send never leaves an empty or partial file
under a final name; the re-run with ``write_option: fail`` fails exactly the files that
are already whole, writes the rest, and removes the killed run's temporary files."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

N = 160
TRIALS = 3
PAYLOAD = 60_000  # about 300 KB a file: a kill lands inside a write often

COMPONENTS = """\
type: connection
connector: disk
name: Out
id: out
settings: {directory: out}
---
type: operation
connector: disk
name: Write once
id: write-once
settings: {action: send, write_option: fail}
---
type: operation
connector: disk
name: Read all
id: read-all
settings: {action: get}
---
type: process
name: Write rows
id: write-rows
shapes:
  start: {type: start, mode: data_passthrough, next: split}
  split: {type: data_process, steps: [{type: split, headers: retain}], next: name}
  name:
    type: set_properties
    properties:
      - {property: disk.directory, value: [""]}
      - {property: disk.file_name, value: [{profile_element: id}, .csv]}
    next: write
  write: {type: connector, connection: out, operation: write-once}
---
type: process
name: Count files
id: count-files
shapes:
  start: {type: start, mode: connector, connection: out, operation: read-all}
"""


def _expected() -> dict[str, bytes]:
    rows = {f"P{i:04d}": f"P{i:04d},{f'P{i:04d}-' * PAYLOAD}" for i in range(N)}
    return {f"{key}.csv": f"id,payload\n{row}".encode() for key, row in rows.items()}


def _final_names(out: Path) -> list[str]:
    try:
        return [n for n in os.listdir(out) if not n.startswith(".")]
    except FileNotFoundError:
        return []


def _run_and_kill(workdir: Path, home: Path, rng: random.Random) -> int:
    threshold = rng.randint(1, N - 20)
    env = dict(os.environ, POSTROOM_HOME=str(home))
    proc = subprocess.Popen([sys.executable, "-m", "postroom", "run", "write-rows", "--input", "rows.csv"],
                            cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline and len(_final_names(workdir / "out")) < threshold:
        time.sleep(0.001)
    time.sleep(rng.random() * 0.003)  # land anywhere in the next file
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return proc.returncode


@pytest.mark.parametrize("sync", [True, False])
def test_kill_9_never_leaves_a_partial_file_and_the_rerun_with_fail_completes(cli, workdir: Path, home: Path,
                                                                             sync: bool) -> None:
    """With and without fsync: a killed process never leaves a partial file under a final name."""
    expected = _expected()
    (workdir / "rows.csv").write_bytes(b"id,payload\n" + b"\n".join(v.split(b"\n", 1)[1]
                                                                     for v in expected.values()) + b"\n")
    components = COMPONENTS.replace("write_option: fail}", f"write_option: fail, sync_to_disk: {str(sync).lower()}}}")
    assert components != COMPONENTS
    (workdir / "c.yaml").write_text(components, encoding="utf-8")
    assert cli("import", "c.yaml").code == 0
    out = workdir / "out"
    killed, leftovers_seen = 0, 0
    for seed in range(TRIALS):
        rng = random.Random(seed)
        if out.exists():
            for name in os.listdir(out):
                os.unlink(out / name)
        code = _run_and_kill(workdir, home, rng)
        killed += code == -signal.SIGKILL
        names = _final_names(out)
        for name in names:  # every final name holds its whole document
            assert (out / name).read_bytes() == expected[name], f"seed {seed}: {name} is partial"
        temps = [n for n in os.listdir(out) if n.startswith(".")]
        assert all(".postroom-tmp-" in n for n in temps), temps
        leftovers_seen += bool(temps)

        counted = cli("run", "count-files", "--json")  # a get never reads a temporary file
        assert counted.code == 0 and counted.json()["documents_in"] == len(names), counted

        rerun = cli("run", "write-rows", "--input", "rows.csv", "--json")
        run = rerun.json()
        assert rerun.code == (1 if names else 0), rerun
        assert run["documents_failed"] == len(names), run
        assert all(e["message"].endswith("exists and write_option is fail") for e in run["errors"])
        assert sorted(os.listdir(out)) == sorted(expected), f"seed {seed}: leftovers or missing files"
        for name, data in expected.items():
            assert (out / name).read_bytes() == data
    assert killed >= TRIALS - 1, "the run ended before most kills: the test did not interrupt it"
    print(f"{killed} of {TRIALS} runs killed mid-way; {leftovers_seen} left a temporary file, removed by the re-run")


def test_two_runs_writing_the_same_names_never_both_win(cli, workdir: Path, home: Path) -> None:
    """``fail``: each name is written by exactly one of two simultaneous runs; ``unique``:
    every document gets a name of its own; every file is whole."""
    names = 150
    (workdir / "rows.csv").write_text("id,payload\n" + "".join(f"Q{i:03d},{'x' * 2000}\n" for i in range(names)))
    (workdir / "c.yaml").write_text(COMPONENTS, encoding="utf-8")
    assert cli("import", "c.yaml").code == 0
    env = dict(os.environ, POSTROOM_HOME=str(home))
    for option, files in (("fail", names), ("unique", 2 * names)):
        (workdir / "op.yaml").write_text(COMPONENTS.split("---")[1].replace("write_option: fail",
                                                                            f"write_option: {option}"))
        assert cli("import", "op.yaml").code == 0
        out = workdir / "out"
        if out.exists():
            for name in os.listdir(out):
                os.unlink(out / name)
        runs = [subprocess.Popen([sys.executable, "-m", "postroom", "run", "write-rows", "--input", "rows.csv",
                                  "--json"], cwd=workdir, env=env, stdout=subprocess.PIPE, text=True)
                for _ in range(2)]
        results = [json.loads(proc.communicate(timeout=120)[0]) for proc in runs]
        assert sum(r["documents_failed"] for r in results) == 2 * names - files, (option, results)
        written = os.listdir(out)
        assert len(written) == files, option
        for name in written:
            key = name.split(".")[0].split("-")[0]
            assert (out / name).read_text() == f"id,payload\n{key},{'x' * 2000}", name
