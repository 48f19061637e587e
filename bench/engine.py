#!/usr/bin/env python3
"""Engine benchmark (issue 13): N patients through split → decision → set properties →
message → disk write in --dry-run, as `postroom run` does it, next to a plain Python loop
doing the same work, measured in the same run.

    .venv/bin/python bench/engine.py                 # 1,000,000 patients
    .venv/bin/python bench/engine.py --rows 200000 --repeat 3
    .venv/bin/python bench/engine.py --src /tmp/main-src   # the engine of another checkout's src/

The plain loop (no engine): the csv module reads the file, an ``if`` on the consent, a
dict of the two properties (file name, address), the letter built by an f-string and
encoded to bytes (a document's data is bytes), and the file the disk write would make:
its name checked as a plain printable name and joined to the folder. What the engine does
beyond it is what it guarantees: each document with its own properties, failures per
document, the order of paths, an execution record, counts, the name checked for control
and bidi characters and for a symbolic link leading out of the folder (one lstat).

A second, lighter baseline (``bare``: the loop of bench/run.py, csv and an f-string only)
is printed for reference. Each command runs in its own process; its peak RSS is the
child's ``ru_maxrss`` (``os.wait4``). The figure is the best of ``--repeat`` runs of each
(the machine is shared: the best run is the one least disturbed). Exit 1 when the engine
is under ``--target`` of the plain loop's documents per second or its peak RSS is not
under 300 MB.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _env import command_env, precompile
from _measure import BARE_CSV_LOOP, measure

ROOT = Path(__file__).resolve().parent.parent
MAKE_PATIENTS = ROOT / "examples" / "data" / "make_patients.py"
PROCESS = ROOT / "bench" / "letters_process.yaml"
RSS_LIMIT_MB = 300

SAME_WORK = r"""
import csv, os, sys
folder = os.path.abspath("out/bench-letters")
count = 0
with open(sys.argv[1], encoding="utf-8", newline="") as handle:
    for row in csv.DictReader(handle):
        if row["email_consent"] == "yes":
            properties = {"disk.file_name": row["patient_id"] + ".txt", "mail.to_address": row["email"]}
            data = (f"Dear {row['first_name']} {row['last_name']},\n\nDr. Smith is retiring at the end of the "
                    "year. We'll make sure your records move\nto the physician of your choice.\n").encode()
            name = properties["disk.file_name"].strip()
            if not name.isprintable() or "/" in name or name in (".", ".."):
                raise SystemExit(f"bad file name {name!r}")
            target = os.path.join(folder, name)
            count += 1
print(count)
"""

def best(cmd: list[str], repeat: int, **kwargs: object) -> tuple[float, float, float, str]:
    runs = [measure(cmd, **kwargs) for _ in range(repeat)]  # type: ignore[arg-type]
    return min(runs, key=lambda run: run[0])


def prepare(work: Path, rows: int, src: str | None) -> tuple[Path, dict[str, str]]:
    data = work / f"patients-{rows}.csv"
    with open(data, "w", encoding="utf-8") as handle:
        subprocess.run([sys.executable, str(MAKE_PATIENTS), str(rows)], stdout=handle, check=True)
    env = command_env(work / "home")  # bytecode as installed (bench/_env.py)
    if src:
        env["PYTHONPATH"] = str(Path(src).resolve())
    precompile(env)
    subprocess.run([sys.executable, "-m", "postroom", "import", str(PROCESS)], env=env, check=True,
                   capture_output=True, cwd=work)
    return data, env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="patients (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each command; the best counts")
    parser.add_argument("--src", help="run postroom from this src/ folder (PYTHONPATH), e.g. main's code")
    parser.add_argument("--target", type=float, default=0.25, help="least ratio to the plain loop (0.25)")
    options = parser.parse_args()
    rows = options.rows
    work = Path(tempfile.mkdtemp(prefix="postroom-bench-engine-"))
    data, env = prepare(work, rows, options.src)
    run = [sys.executable, "-m", "postroom", "run", "bench-patient-letters", "--input", str(data), "--dry-run",
           "--quiet"]
    run_cpu, run_s, run_mb, out = best(run, options.repeat, env=env, cwd=work)
    loop_cpu, loop_s, loop_mb, loop_out = best([sys.executable, "-c", SAME_WORK, str(data)], options.repeat,
                                               cwd=work)
    bare_cpu, bare_s, bare_mb, _ = best([sys.executable, "-c", BARE_CSV_LOOP, str(data)], options.repeat, cwd=work)
    load = os.getloadavg()
    if options.src:
        print(f"postroom from {options.src}")
    print(f"engine: {rows:,} patients, split → decision → set properties → message → disk write (dry run); "
          f"nproc {os.cpu_count()}, load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, best of {options.repeat}")
    print(f"  {out.strip()}")
    print(f"  plain loop wrote {int(loop_out):,} letters")
    print(f"  {'':24s} {'wall':>8s}   {'documents/s':>11s}  {'CPU':>8s}   {'docs/CPU s':>10s}")
    for label, cpu, seconds, mb in (("postroom run", run_cpu, run_s, run_mb),
                                    ("plain loop (same work)", loop_cpu, loop_s, loop_mb),
                                    ("bare csv loop (run.py)", bare_cpu, bare_s, bare_mb)):
        print(f"  {label:24s} {seconds:8.2f} s {rows / seconds:11,.0f}  {cpu:8.2f} s {rows / cpu:10,.0f}"
              f"  peak RSS {mb:7.1f} MB")
    ratio = loop_s / run_s
    print(f"  ratio to the plain loop: {ratio:.3f} of its documents/s (wall; target {options.target}), "
          f"{loop_cpu / run_cpu:.3f} per CPU second; to the bare csv loop: {bare_s / run_s:.3f} (wall)")
    ok_speed, ok_rss = ratio >= options.target, run_mb < RSS_LIMIT_MB
    print(f"  speed target: {'PASS' if ok_speed else 'FAIL'}; peak RSS < {RSS_LIMIT_MB} MB: "
          f"{'PASS' if ok_rss else 'FAIL'}")
    return 0 if ok_speed and ok_rss else 1


if __name__ == "__main__":
    sys.exit(main())
