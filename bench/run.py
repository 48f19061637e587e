#!/usr/bin/env python3
"""Postroom benchmarks. Each prints its figures next to a baseline measured in the same run.

    make bench                      # every benchmark at full size
    make bench BENCH_ARGS="--rows 100000 --only engine"

engine: N patients (default 1,000,000, from examples/data/make_patients.py) through
        split (header retained), decision, set properties, message and a disk write in
        --dry-run, as `postroom run` does it. Baseline: a plain Python loop (csv module,
        an if, an f-string) doing the same work with no engine at all. Target: peak RSS
        under 300 MB whatever N is.
mime:   MIME build, MessageTemplate against the stdlib (bench/mime_build.py, target 5x).
dkim:   DKIM signing, Postroom's signer against dkimpy's dkim.sign with the same RSA key
        (bench/dkim_sign.py, target 3x), Ed25519 beside them.
csv:    the record splitter's time on a stray quote per line at 2 sizes (bench/csv_split.py
        --linear: linear, not quadratic).
read:   10,000 messages read from a Dovecot it starts itself, over IMAPS and POP3S, by the
        Mail connector's Get operation and by a bare imaplib / poplib loop (bench/read.py).
map-db: N patients (--rows) through disk get → split → map → database insert into a
        PostgreSQL it starts itself, next to psycopg COPY and executemany, with the peak RSS
        at N/10 and N (flat, under 300 MB); and the Map alone next to a plain dict-building
        loop (bench/map_db.py).
workers: letters on the distributed workers: 1 vs 2 workers on a sink taking 20 ms per
        message (target 1.8x), in-process vs one worker on a fast sink (bench/workers.py).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from _env import command_env, precompile
from _measure import BARE_CSV_LOOP, measure

ROOT = Path(__file__).resolve().parent.parent
MAKE_PATIENTS = ROOT / "examples" / "data" / "make_patients.py"
RSS_LIMIT_MB = 300

def engine(rows: int) -> bool:
    work = Path(tempfile.mkdtemp(prefix="postroom-bench-"))
    data = work / f"patients-{rows}.csv"
    with open(data, "w", encoding="utf-8") as handle:
        subprocess.run([sys.executable, str(MAKE_PATIENTS), str(rows)], stdout=handle, check=True)
    env = command_env(work / "home")  # bytecode as installed (bench/_env.py)
    precompile(env)
    postroom = [sys.executable, "-m", "postroom"]
    subprocess.run(postroom + ["import", str(ROOT / "bench" / "letters_process.yaml")], env=env, check=True,
                   capture_output=True, cwd=work)
    _, base_s, base_mb, _ = measure([sys.executable, "-c", BARE_CSV_LOOP, str(data)])
    _, run_s, run_mb, out = measure(postroom + ["run", "bench-patient-letters", "--input", str(data), "--dry-run",
                                             "--quiet"], env=env, cwd=work)
    print(f"engine: {rows:,} patients, split → decision → set properties → message → disk write (dry run)")
    print(f"  {out.strip()}")
    print(f"  postroom run      {run_s:8.2f} s  {rows / run_s:10,.0f} documents/s  peak RSS {run_mb:7.1f} MB")
    print(f"  plain Python loop {base_s:8.2f} s  {rows / base_s:10,.0f} documents/s  peak RSS {base_mb:7.1f} MB")
    print(f"  ratio: postroom takes {run_s / base_s:.1f}x the time of the bare loop "
          f"({(rows / run_s) / (rows / base_s):.3f} of its throughput)")
    ok = run_mb < RSS_LIMIT_MB
    print(f"  peak RSS target < {RSS_LIMIT_MB} MB: {'PASS' if ok else 'FAIL'}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="patients for the engine and map-db benchmarks")
    parser.add_argument("--only", choices=["engine", "send", "mime", "dkim", "csv", "read", "map-db", "workers"],
                        help="run one benchmark")
    args = parser.parse_args()
    results = []
    if args.only in (None, "engine"):
        results.append(engine(args.rows))
    if args.only in (None, "send"):
        send_bench = ROOT / "bench" / "send.py"
        if send_bench.exists():
            results.append(subprocess.run([sys.executable, str(send_bench)]).returncode == 0)
    if args.only in (None, "mime"):
        results.append(subprocess.run([sys.executable, str(ROOT / "bench" / "mime_build.py")]).returncode == 0)
    if args.only in (None, "dkim"):
        results.append(subprocess.run([sys.executable, str(ROOT / "bench" / "dkim_sign.py")]).returncode == 0)
    if args.only in (None, "csv"):
        results.append(subprocess.run([sys.executable, str(ROOT / "bench" / "csv_split.py"), "--linear"]).returncode == 0)
    if args.only in (None, "read"):
        results.append(subprocess.run([sys.executable, str(ROOT / "bench" / "read.py")]).returncode == 0)
    if args.only in (None, "map-db"):
        results.append(subprocess.run([sys.executable, str(ROOT / "bench" / "map_db.py"), "--rows", str(args.rows),
                                       "--flat"]).returncode == 0)
    if args.only in (None, "workers"):
        results.append(subprocess.run([sys.executable, str(ROOT / "bench" / "workers.py")]).returncode == 0)
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
