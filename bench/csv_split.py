#!/usr/bin/env python3
"""Flat-file split benchmark: Postroom's record splitter against ``csv.reader`` alone.

    python bench/csv_split.py              # 4 MB
    python bench/csv_split.py --mb 16 --old
    python bench/csv_split.py --linear     # exit 1 unless 4x the data takes under 8x the time
    python bench/csv_split.py --src /tmp/main-src   # the reader of another checkout's src/
    valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        python bench/csv_split.py --only postroom --data patients.csv   # instructions, not seconds

``--only postroom|bare|none`` reads the data once with one of them (``none``: only makes or
loads the data and imports postroom): under callgrind, the instructions of the reader are
those of the run less those of ``none``, a figure the load of a shared machine does not move.
``--data FILE`` reads FILE instead of the made-up data.

Builds a CSV of patients in which every tenth height is written ``5'11"`` (a quote inside
an unquoted field, ordinary data under RFC 4180) and every fiftieth name is a quoted field
holding a line break, then times:

* Postroom: ``iter_records`` over the bytes (records with their text, fields and line; the
  data read and decoded in blocks, byte offsets worked out for a failing record only), as
  the Data Process split uses it;
* bare ``csv.reader``: the stdlib reading the same text into rows, nothing else kept.

``--old`` also times the splitter this one replaced (quote counting per line), on the same
size of data with a single stray quote in the first record (the case of issue 7): it joined
every later line into one record, re-counting the joined text each time, so its time grows
with the square of the size (99 s at 4 MB); Postroom is timed on that data too.
Prints seconds and MB/s for each (the best of ``--repeat`` runs: the machine is shared) and
the ratio Postroom / csv.reader.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = sys.argv[sys.argv.index("--src") + 1] if "--src" in sys.argv[:-1] else str(ROOT / "src")
sys.path.insert(0, SRC)

from postroom.engine._flatfile import iter_records  # noqa: E402


def make_csv(megabytes: float, every: int = 10) -> bytes:
    """Every ``every``-th height is 5'11" and every fiftieth name holds a line break; with
    ``every`` 0, only the first height has the quote and no name is quoted."""
    out = io.StringIO()
    out.write("id,name,height,city\n")
    i = 0
    while out.tell() < megabytes * 1024 * 1024:
        height = "5'11\"" if (i % every == 0 if every else i == 0) else "180"
        name = '"Zoë\nMüller"' if every and i % 50 == 0 else f"Patient {i}"
        out.write(f"P{i},{name},{height},Lyon\n")
        i += 1
    return out.getvalue().encode("utf-8")


def old_split(lines, quote: str = '"'):  # noqa: ANN001, ANN201 - the replaced algorithm, for comparison
    pending = None
    for line in lines:
        if pending is not None:
            pending += line
            if pending.count(quote) % 2 == 0:
                record, pending = pending.rstrip("\r\n"), None
                if record:
                    yield record
            continue
        if quote in line and line.count(quote) % 2:
            pending = line
            continue
        if record := line.rstrip("\r\n"):
            yield record
    if pending is not None and pending.strip():
        yield pending.rstrip("\r\n")


def timed(label: str, size: int, run, repeat: int = 1) -> float:  # noqa: ANN001
    seconds = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        count = run()
        seconds = min(seconds, time.perf_counter() - start)
    print(f"{label:<22} {count:>9,} records  {seconds:7.3f} s  {size / seconds / 1e6:7.1f} MB/s")
    return seconds


def linear(megabytes: float) -> bool:
    """The splitter on a stray quote per line (every=1) and on one stray quote (every=0),
    at N and 4N MB: 4 times the data must take under 8 times as long (the replaced splitter
    was quadratic: 16). This is what tests/engine/test_engine_csv_split.py's
    test_split_time_is_linear_in_the_size and tests/hostile/test_hostile_csv.py's
    test_split_time_stays_linear_on_hostile_records asserted in seconds."""
    ok = True
    for every in (1, 0):
        small, big = make_csv(megabytes / 4, every=every), make_csv(megabytes, every=every)
        times = [min(timed(f"every={every} {len(data):,} B", len(data),
                           lambda d=data: sum(1 for _ in iter_records(io.BytesIO(d)))) for _ in range(3))
                 for data in (small, big)]
        ratio = times[1] / times[0]
        print(f"stray quotes every={every}: 4x the data took {ratio:.1f}x the time (limit 8x)")
        ok = ok and ratio < 8
    return ok


def only(which: str, data: bytes) -> None:
    if which == "postroom":
        print(sum(1 for _ in iter_records(io.BytesIO(data))))
    elif which == "bare":
        print(sum(1 for row in csv.reader(io.StringIO(data.decode("utf-8"), newline="")) if row))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=4.0)
    parser.add_argument("--old", action="store_true", help="also time the replaced splitter (slow)")
    parser.add_argument("--linear", action="store_true",
                        help="only check that the time grows linearly (exit 1 if not)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best counts (3)")
    parser.add_argument("--src", help="read with the postroom of this src/ folder, e.g. main's code")
    parser.add_argument("--only", choices=["postroom", "bare", "none"], help="read once with this one only")
    parser.add_argument("--data", help="read this CSV file instead of the made-up data")
    args = parser.parse_args()
    if args.linear:
        sys.exit(0 if linear(args.mb) else 1)
    data = Path(args.data).read_bytes() if args.data else make_csv(args.mb)
    if args.only:
        only(args.only, data)
        return
    text = data.decode("utf-8")
    print(f"{len(data):,} bytes; postroom from {SRC}")
    ours = timed("postroom iter_records", len(data), lambda: sum(1 for _ in iter_records(io.BytesIO(data))),
                 args.repeat)
    bare = timed("bare csv.reader", len(data),
                 lambda: sum(1 for row in csv.reader(io.StringIO(text, newline="")) if row), args.repeat)
    print(f"ratio postroom / csv.reader: {ours / bare:.2f}")
    if args.old:
        one = make_csv(args.mb, every=0)
        print("one stray quote:")
        timed("postroom iter_records", len(one), lambda: sum(1 for _ in iter_records(io.BytesIO(one))))
        timed("replaced splitter", len(one),
              lambda: sum(1 for _ in old_split(io.StringIO(one.decode("utf-8"), newline=""))))


if __name__ == "__main__":
    main()
