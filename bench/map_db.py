#!/usr/bin/env python3
"""Map and database benchmarks: a patient CSV through split → map → database insert into a
PostgreSQL this script starts itself, and the Map alone; each next to a baseline measured in
the same run.

    .venv/bin/python bench/map_db.py                   # 1,000,000 rows, both benchmarks
    .venv/bin/python bench/map_db.py --rows 20000      # small
    .venv/bin/python bench/map_db.py --only pipeline --flat   # also 1/10 of the rows: peak RSS flat?

pipeline: N patients (examples/data/make_patients.py) in a file, read by a disk get (the
          start), a Data Process split by line (header retained), a Map from the CSV profile
          to a database profile (a JSON object per row: upper-cased last name, concat of the
          names, a date reformatted), and a database insert into a PostgreSQL table, as
          `postroom run` does it. Baselines, each a child process over the same file: psycopg
          COPY of the same mapped rows, and a psycopg executemany loop in transactions of 500.
          Target: peak RSS of `postroom run` under 300 MB, and flat in N (--flat runs N/10 too).
map:      N records (header and line, as the split hands them on) through a start and a Map
          shape in the engine, next to a plain Python loop building the same dicts (csv module,
          json.dumps). Documents per second and the ratio.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAKE_PATIENTS = ROOT / "examples" / "data" / "make_patients.py"
RSS_LIMIT_MB = 300

COMPONENTS = """
type: profile
id: bench-patient-csv
name: Bench patient CSV
header: true
fields: [patient_id, first_name, last_name, email, preferred_language,
         {name: last_visit, type: date, format: yyyy-MM-dd}, email_consent]
---
type: profile
id: bench-patient-row
name: Bench patient row
profile_type: database
table: patients
columns: [patient_id, full_name, last_name, email, language, last_visit, consent]
---
type: map
id: bench-patient-map
name: Bench patient CSV to row
from_profile: bench-patient-csv
to_profile: bench-patient-row
mappings:
  - {from: patient_id, to: patient_id}
  - {to: full_name, function: concat, inputs: [{from: first_name}, " ", {from: last_name}]}
  - {to: last_name, function: upper, inputs: [{from: last_name}]}
  - {from: email, to: email}
  - {from: preferred_language, to: language}
  - {to: last_visit, function: date_format, inputs: [{from: last_visit}],
     input_format: yyyy-MM-dd, output_format: M/d/yyyy}
  - {from: email_consent, to: consent, default: "no"}
"""

PIPELINE = COMPONENTS + """
---
type: connection
connector: disk
id: bench-patient-folder
name: Bench patient folder
settings: {directory: DATA_DIR}
---
type: operation
connector: disk
id: bench-read-patients
name: Bench read patients
settings: {action: get, file_filter: patients.csv}
---
type: connection
connector: database
id: bench-db
name: Bench database
settings: {url: "DB_URL"}
---
type: operation
connector: database
id: bench-insert-patient
name: Bench insert patient
settings: {action: insert, table: patients}
---
type: process
id: bench-map-db
name: Bench map to database
shapes:
  start: {type: start, mode: connector, connection: bench-patient-folder, operation: bench-read-patients,
          next: split}
  split:
    type: data_process
    steps: [{type: split, profile_type: flat_file, by: line, headers: retain}]
    next: map
  map: {type: map, map: bench-patient-map, next: store}
  store: {type: connector, connection: bench-db, operation: bench-insert-patient}
"""

TABLE = """
DROP TABLE IF EXISTS patients;
CREATE TABLE patients (id bigserial PRIMARY KEY, patient_id text NOT NULL UNIQUE, full_name text,
  last_name text, email text, language text, last_visit text, consent text)
"""

# The same rows as the Map makes, from the same file, by hand: the baselines.
MAPPED_ROWS = r"""
import csv, sys
def rows(path):
    with open(path, encoding="utf-8", newline="") as handle:
        for r in csv.DictReader(handle):
            y, m, d = r["last_visit"].split("-")
            yield (r["patient_id"], r["first_name"] + " " + r["last_name"], r["last_name"].upper(), r["email"],
                   r["preferred_language"], f"{int(m)}/{int(d)}/{y}", r["email_consent"] or "no")
COLUMNS = "patient_id, full_name, last_name, email, language, last_visit, consent"
"""

COPY_BASELINE = MAPPED_ROWS + r"""
import psycopg
with psycopg.connect(sys.argv[2]) as conn:
    with conn.cursor() as cur, cur.copy(f"COPY patients ({COLUMNS}) FROM STDIN") as copy:
        for row in rows(sys.argv[1]):
            copy.write_row(row)
"""

EXECUTEMANY_BASELINE = MAPPED_ROWS + r"""
import itertools, psycopg
sql = f"INSERT INTO patients ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s)"
with psycopg.connect(sys.argv[2]) as conn:
    source = rows(sys.argv[1])
    while chunk := list(itertools.islice(source, 500)):
        with conn.transaction(), conn.cursor() as cur:
            cur.executemany(sql, chunk)
"""

MAP_ALONE = r"""
import csv, io, json, sys, time
sys.path.insert(0, sys.argv[3] + "/src"); sys.path.insert(0, sys.argv[3] + "/tests")
from postroom.sdk import Document
from support.engine_helpers import run_yaml

def records(path):
    with open(path, encoding="utf-8") as handle:
        header = handle.readline().rstrip("\n")
        for line in handle:
            yield header + "\n" + line.rstrip("\n")

def plain(path):
    count = 0
    for text in records(path):
        r = next(csv.DictReader(io.StringIO(text, newline="")))
        y, m, d = r["last_visit"].split("-")
        row = {"patient_id": r["patient_id"], "full_name": r["first_name"] + " " + r["last_name"],
               "last_name": r["last_name"].upper(), "email": r["email"], "language": r["preferred_language"],
               "last_visit": f"{int(m)}/{int(d)}/{y}", "consent": r["email_consent"] or "no"}
        json.dumps(row, ensure_ascii=False).encode("utf-8")
        count += 1
    return count

process = sys.argv[2] + '''
---
type: process
id: bench-map-alone
name: Bench map alone
shapes:
  start: {type: start, mode: data_passthrough, next: map}
  map: {type: map, map: bench-patient-map}
'''
began = time.perf_counter()
result, _, _ = run_yaml(process, (Document(t.encode()) for t in records(sys.argv[1])))
mapped = time.perf_counter() - began
began = time.perf_counter()
count = plain(sys.argv[1])
looped = time.perf_counter() - began
print(result.documents_out, result.documents_failed, mapped, count, looped)
"""


def run_child(cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB of that child alone (os.wait4), its stdout."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=cwd, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"benchmark command failed ({code}): {' '.join(cmd[:4])}\n{stdout}\n{stderr[-3000:]}")
    return elapsed, usage.ru_maxrss / 1024, stdout


def make_data(work: Path, rows: int) -> Path:
    folder = work / f"data-{rows}"
    folder.mkdir()
    with open(folder / "patients.csv", "w", encoding="utf-8") as handle:
        subprocess.run([sys.executable, str(MAKE_PATIENTS), str(rows)], stdout=handle, check=True)
    return folder


class Postgres:
    """A throwaway cluster on a free port, as tests/_pg_server.py starts one for the tests."""

    def __init__(self) -> None:
        sys.path.insert(0, str(ROOT / "tests"))
        from _pg_server import PostgresServer, _candidates, _run_as  # noqa: PLC0415 - the tests' helper

        initdb = shutil.which("initdb") or next(iter(_candidates("initdb")), None)
        if initdb is None:
            sys.exit("PostgreSQL is not installed (apt-get install postgresql)")
        prefix, uid, gid = _run_as()
        folder = Path(tempfile.mkdtemp(prefix="postroom-bench-pg-"))
        if uid is not None:
            os.chown(folder, uid, gid if gid is not None else -1)
        self.server = PostgresServer(bindir=Path(initdb).resolve().parent, folder=folder, prefix=prefix)
        self.server.init()
        self.server.socket_dir.mkdir()
        if uid is not None:
            os.chown(self.server.socket_dir, uid, gid if gid is not None else -1)
        self.server.start()
        self.server.admin('CREATE DATABASE "bench"')

    @property
    def sa_url(self) -> str:
        return self.server.url("bench").replace("postgresql+psycopg://", "postgresql://")

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.server.port} user=postroom dbname=bench"

    def reset(self) -> None:
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(TABLE)

    def count(self) -> int:
        import psycopg

        with psycopg.connect(self.dsn) as conn:
            row = conn.execute("SELECT count(*), count(DISTINCT full_name) FROM patients").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        try:
            self.server.stop()
        finally:
            shutil.rmtree(self.server.folder, ignore_errors=True)


def pipeline_once(work: Path, db: Postgres, rows: int) -> tuple[float, float]:
    data = make_data(work, rows)
    home = work / f"home-{rows}"
    env = dict(os.environ, POSTROOM_HOME=str(home))
    env.pop("POSTROOM_DATABASE_URL", None)
    components = work / f"pipeline-{rows}.yaml"
    components.write_text(PIPELINE.replace("DATA_DIR", str(data)).replace("DB_URL", db.sa_url), encoding="utf-8")
    postroom = [sys.executable, "-m", "postroom"]
    subprocess.run(postroom + ["import", str(components)], env=env, check=True, capture_output=True, cwd=work)
    db.reset()
    run_s, run_mb, _ = run_child(postroom + ["run", "bench-map-db", "--quiet"], env=env, cwd=work)
    stored = db.count()
    if stored != rows:
        sys.exit(f"postroom run stored {stored:,} rows of {rows:,}")
    return run_s, run_mb


def pipeline(rows: int, flat: bool) -> bool:
    work = Path(tempfile.mkdtemp(prefix="postroom-bench-"))
    db = Postgres()
    try:
        print(f"pipeline: {rows:,} patients, disk get → split → map → database insert (PostgreSQL "
              f"{db.server.bindir.parts[-2]})")
        small = None
        if flat:
            small = pipeline_once(work, db, rows // 10)
        run_s, run_mb = pipeline_once(work, db, rows)
        data = work / f"data-{rows}" / "patients.csv"
        figures = [("postroom run", run_s, run_mb)]
        for label, code in (("psycopg COPY", COPY_BASELINE), ("psycopg executemany", EXECUTEMANY_BASELINE)):
            db.reset()
            seconds, mb, _ = run_child([sys.executable, "-c", code, str(data), db.dsn])
            if db.count() != rows:
                sys.exit(f"{label} stored {db.count():,} rows of {rows:,}")
            figures.append((label, seconds, mb))
        for label, seconds, mb in figures:
            print(f"  {label:<20} {seconds:8.2f} s  {rows / seconds:10,.0f} rows/s  peak RSS {mb:7.1f} MB")
        for label, seconds, _ in figures[1:]:
            print(f"  ratio vs {label}: postroom takes {run_s / seconds:.1f}x the time "
                  f"({seconds / run_s:.3f} of its throughput)")
        ok = run_mb < RSS_LIMIT_MB
        if small is not None:
            print(f"  peak RSS at {rows // 10:,} rows {small[1]:.1f} MB, at {rows:,} rows {run_mb:.1f} MB "
                  f"(growth {run_mb - small[1]:+.1f} MB)")
            # flat: ten times the rows may not add more than a quarter of the smaller run's peak
            ok = ok and run_mb - small[1] < max(small[1] / 4, 20)
        print(f"  peak RSS target < {RSS_LIMIT_MB} MB{' and flat' if flat else ''}: {'PASS' if ok else 'FAIL'}")
        return ok
    finally:
        db.close()
        shutil.rmtree(work, ignore_errors=True)


def map_alone(rows: int) -> bool:
    work = Path(tempfile.mkdtemp(prefix="postroom-bench-"))
    try:
        data = make_data(work, rows) / "patients.csv"
        _, mb, out = run_child([sys.executable, "-c", MAP_ALONE, str(data), COMPONENTS, str(ROOT)])
        done, failed, mapped, count, looped = out.split()
        print(f"map: {rows:,} records, start → map (CSV profile → database profile, 7 mappings)")
        if int(done) + int(failed) != rows or int(failed) or int(count) != rows:
            print(f"  FAIL: {done} mapped, {failed} failed, plain loop {count}, of {rows:,}")
            return False
        map_s, loop_s = float(mapped), float(looped)
        print(f"  map shape          {map_s:8.2f} s  {rows / map_s:10,.0f} documents/s")
        print(f"  plain dict loop    {loop_s:8.2f} s  {rows / loop_s:10,.0f} documents/s")
        print(f"  ratio: the map takes {map_s / loop_s:.1f}x the time of the loop "
              f"({loop_s / map_s:.3f} of its throughput); peak RSS of the run {mb:.1f} MB")
        return mb < RSS_LIMIT_MB
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="patients (default 1,000,000)")
    parser.add_argument("--only", choices=["pipeline", "map"], help="run one of the two")
    parser.add_argument("--flat", action="store_true", help="pipeline: also run a tenth of the rows and "
                        "compare the peaks")
    args = parser.parse_args()
    results = []
    if args.only in (None, "pipeline"):
        results.append(pipeline(args.rows, args.flat))
    if args.only in (None, "map"):
        results.append(map_alone(args.rows))
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
