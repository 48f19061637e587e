"""What the engine benchmarks share: one command timed as a whole child process, and the bare
csv loop they compare Postroom against (bench/run.py's baseline, bench/engine.py's floor)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

#: patients read with csv.DictReader, the consenting ones given a file name and a letter
BARE_CSV_LOOP = r"""
import csv, sys
count = 0
with open(sys.argv[1], encoding="utf-8", newline="") as handle:
    for row in csv.DictReader(handle):
        if row["email_consent"] == "yes":
            name = row["patient_id"] + ".txt"
            to = row["email"]
            letter = (f"Dear {row['first_name']} {row['last_name']},\n\nDr. Smith is retiring at the end of the "
                      "year. We'll make sure your records move\nto the physician of your choice.\n")
            count += 1
print(count)
"""


def measure(cmd: list[str], env: dict[str, str] | None = None,
            cwd: Path | None = None) -> tuple[float, float, float, str]:
    """CPU seconds (user + system), wall seconds, peak RSS in MB of the child, its stdout;
    the benchmark exits naming the command when it fails."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    out = proc.stdout.read() if proc.stdout else ""
    err = proc.stderr.read() if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"benchmark command failed ({code}): {' '.join(cmd)}\n{out}\n{err}")
    return usage.ru_utime + usage.ru_stime, elapsed, usage.ru_maxrss / 1024, out
