#!/usr/bin/env python3
"""Start-up benchmark: how fast the everyday commands answer, as whole processes.

    .venv/bin/python bench/startup.py                 # 1,000 components, 10,000 executions, 5 runs
    .venv/bin/python bench/startup.py --runs 9 --executions 20000

A fresh POSTROOM_HOME (a temporary folder, SQLite) is filled through the repository API:
the Dr. Smith tutorial's components (examples/dr-smith, as `postroom import` stores them)
plus copies of its announcement process up to --components components in all, and
--executions finished executions spread over a year. devmail runs in this process (SMTPS
with implicit TLS and AUTH, as in the README's walk-through) and the tutorial's
local-mail-connection is pointed at its port.

Timed, each as a subprocess, wall clock from spawn to exit, median of --runs after one
untimed warm-up (so every figure has warm page cache and .pyc files, written even when
PYTHONDONTWRITEBYTECODE is set, as pip writes them at install: bench/_env.py; --no-bytecode
keeps the caller's setting):

baseline        `python -c pass` and `python -c "import sqlite3"` (the floor any Python
                command pays on this machine, measured in the same run)
components      `postroom components list`      target < 300 ms
executions      `postroom executions list`      target < 300 ms
run             `postroom run dr-smith-announcement` (three letters over SMTPS to devmail,
                each run checked: exit 0 and three more letters at devmail)   target < 600 ms

Prints each median in ms, its ratio to `python -c pass`, the median CPU time (user + system;
it moves much less than the wall time on a loaded machine) and its ratio, and the target;
exits 1 when a target is missed (or a command fails).
"""

from __future__ import annotations

import argparse
import copy
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _env import command_env, precompile

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "dr-smith"
POSTROOM = str(Path(sys.executable).parent / "postroom")
BYTECODE = True  # --no-bytecode sets it False (see env_for)
TARGETS_MS = {"components list": 300.0, "executions list": 300.0, "run announcement": 600.0}


def fill(home: Path, components: int, executions: int, smtps_port: int, password: str) -> None:
    """The tutorial's components, copies of the announcement up to ``components`` and
    ``executions`` finished executions, stored through the repository API."""
    from postroom.repository import ComponentRecord, ExecutionRecord, open_repository

    repo = open_repository(home=home)
    try:
        repo.set_secret("devmail-password", password)
        subprocess.run([POSTROOM, "import", str(EXAMPLE)], env=env_for(home), check=True, stdout=subprocess.DEVNULL)
        conn = repo.get_component("local-mail-connection")
        announcement = repo.get_component("dr-smith-announcement")
        assert conn is not None and announcement is not None
        body = copy.deepcopy(conn.body)
        body["settings"]["port"] = smtps_port
        repo.save_components([ComponentRecord(id=conn.id, type=conn.type, name=conn.name, body=body,
                                              folder=conn.folder)])
        have = len(repo.list_components())
        copies = [ComponentRecord(id=f"bench-announcement-{i:04d}", type="process",
                                  name=f"Announcement copy {i}", folder=f"Bench/Group {i % 20}",
                                  body={**announcement.body, "id": f"bench-announcement-{i:04d}",
                                        "name": f"Announcement copy {i}"})
                  for i in range(max(0, components - have))]
        repo.save_components(copies)
        start = datetime.now(UTC) - timedelta(days=365)
        step = timedelta(days=365) / max(1, executions)
        for i in range(executions):
            began = start + step * i
            repo.create_execution(ExecutionRecord(
                id=f"bench-{i:06d}", process_id=f"bench-announcement-{i % 50:04d}", process_version=1,
                process_name=f"Announcement copy {i % 50}", status="complete" if i % 7 else "complete_with_errors",
                started_at=began, ended_at=began + timedelta(seconds=2), documents_in=4, documents_out=3,
                documents_failed=0 if i % 7 else 1, node="bench", request={"process_id": "x", "inputs": []},
                connector_counts={"send": {"completed": 3, "failed": 0}}))
    finally:
        repo.close()


def env_for(home: Path, **extra: str) -> dict[str, str]:
    """The commands' environment (bench/_env.py: bytecode written and read); ``--no-bytecode``
    keeps the caller's PYTHONDONTWRITEBYTECODE, for a figure comparable with measurements made
    that way."""
    return command_env(home, bytecode=BYTECODE, **extra)


def median_ms(argv: list[str], env: dict[str, str], runs: int, check=None) -> tuple[float, float]:  # noqa: ANN001
    """Median wall time and median CPU time (user + system, the process and its children)
    of ``argv`` as a subprocess; one untimed warm-up first. The CPU time barely moves with
    the machine's load; the wall time is what the target is about."""
    times, cpus = [], []
    for i in range(runs + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.perf_counter()
        proc = subprocess.run(argv, env=env, capture_output=True, text=True)
        elapsed = (time.perf_counter() - began) * 1000
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            sys.exit(f"bench: {' '.join(argv)} exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
        if check is not None:
            check(proc.stdout)
        if i:
            times.append(elapsed)
            cpus.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
    return statistics.median(times), statistics.median(cpus)


def machine() -> str:
    load = os.getloadavg()
    return f"nproc {os.cpu_count()}, load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--components", type=int, default=1000)
    parser.add_argument("--executions", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the POSTROOM_HOME and print its path")
    parser.add_argument("--no-bytecode", action="store_true",
                        help="keep the caller's PYTHONDONTWRITEBYTECODE (every run compiles the source it imports)")
    args = parser.parse_args()
    global BYTECODE  # noqa: PLW0603
    BYTECODE = not args.no_bytecode

    from postroom.devmail import SERVE_DEFAULT_USERS, DevMail

    home = Path(tempfile.mkdtemp(prefix="postroom-startup-"))
    user, password = next(iter(SERVE_DEFAULT_USERS.items()))
    server = DevMail(host="127.0.0.1", smtp_port=None, smtps_port=0, pop3_port=None, pop3s_port=None,
                     web_port=None, users={user: password}, tls=True, cert_dir=home / "devmail-tls")
    server.start()
    try:
        began = time.perf_counter()
        fill(home, args.components, args.executions, server.smtps_port, password)
        print(f"filled {home}: {args.components:,} components, {args.executions:,} executions "
              f"in {time.perf_counter() - began:.1f} s")
        env = env_for(home, POSTROOM_DEVMAIL_CA=str(server.ca_file))
        precompile(env)
        print(f"{machine()}; median of {args.runs} after one warm-up, whole process, wall clock; "
              f"bytecode {'cached' if BYTECODE else 'as the caller set it'}")

        def letters_arrived(_stdout: str) -> None:
            nonlocal seen
            now = len(server.messages())
            if now != seen + 3:
                sys.exit(f"bench: the announcement delivered {now - seen} letters, expected 3")
            seen = now

        seen = len(server.messages())
        py = [sys.executable]
        results = {
            "python -c pass": median_ms([*py, "-c", "pass"], env, args.runs),
            'python -c "import sqlite3"': median_ms([*py, "-c", "import sqlite3"], env, args.runs),
            "components list": median_ms([POSTROOM, "components", "list"], env, args.runs),
            "executions list": median_ms([POSTROOM, "executions", "list"], env, args.runs),
            "run announcement": median_ms([POSTROOM, "run", "dr-smith-announcement"], env, args.runs,
                                          letters_arrived),
        }
    finally:
        server.stop()
        if args.keep:
            print(f"kept {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)
    return report(results)


def report(results: dict[str, tuple[float, float]]) -> int:
    floor, floor_cpu = results["python -c pass"]
    missed = 0
    print(f"{'command':<28} {'median ms':>10} {'x python -c pass':>17} {'cpu ms':>8} {'x cpu':>6} {'target ms':>10}")
    for name, (ms, cpu) in results.items():
        target = TARGETS_MS.get(name)
        verdict = "" if target is None else ("  ok" if ms < target else "  MISSED")
        missed += bool(target is not None and ms >= target)
        print(f"{name:<28} {ms:>10.0f} {ms / floor:>17.1f} {cpu:>8.0f} {cpu / floor_cpu:>6.1f} {target or '':>10}{verdict}")
    print(machine())
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
