#!/usr/bin/env python3
"""Workers benchmark: letters through the distributed runtime, in one run of this script.

    .venv/bin/python bench/workers.py                       # 8 runs of 100 letters, 20 ms sink
    .venv/bin/python bench/workers.py --runs 8 --letters 100 --concurrency 2 --fast-letters 2000

It starts Redis and PostgreSQL from Debian's binaries (as tools/cluster.py does), an SMTP
sink (aiosmtpd) and ``postroom worker`` processes, and measures:

latency-bound  a sink that takes ~20 ms per message (one SMTP session per run): --runs runs
               of --letters letters each, submitted at once with ``postroom run --workers``,
               on 1 worker and then on 2 workers, each worker at the same --concurrency.
               A run without a Flow Control is one task, so the speed-up comes from runs
               spread over the workers; target: 2 workers at least 1.8x faster.
chunks         the latency-bound sink again, ONE run of --chunked-letters letters through a
               Flow Control (batches of 25, parallel 4) cut into chunks of 25 documents
               (POSTROOM_CHUNK_DOCUMENTS), on 1 worker and on 2 workers (--concurrency + 1
               slots each: the run itself holds one while its chunks run). Reported, no target.
overhead       a sink that answers at once: one run of --fast-letters letters in-process
               (``postroom run``) and on one worker (``postroom run --workers``): what the
               broker, the queue and the record polling cost.

Every phase checks that the sink received exactly the letters it should. Exit 1 when a
count is wrong or the 1.8x target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from cluster import start_postgres, start_redis  # noqa: E402 - tools/cluster.py, the same start-up

COMPONENTS = """\
type: connection
connector: mail
name: Sink
id: sink
settings: {{host: 127.0.0.1, port: {port}, use_tls: false, use_ssl: false, user_password_auth: false, max_sessions: 1}}
---
type: operation
connector: mail
name: Letter
id: letter-send
settings: {{action: send, from: clinic@example.com, to: "", subject: "Dr. Smith is retiring", body_content_type: text/plain}}
---
type: process
name: Letters
id: letters
start: start
shapes:
  start: {{type: start, mode: data_passthrough, next: split}}
  split: {{type: data_process, steps: [{{type: split, profile_type: flat_file, by: line, headers: retain}}], next: to}}
  to: {{type: set_properties, properties: [{{property: mail.to_address, value: [{{profile_element: email}}]}}], next: letter}}
  letter: {{type: message, text: "Dear {{1}},", parameters: [{{profile_element: first_name}}], next: send}}
  send: {{type: connector, connection: sink, operation: letter-send}}
---
type: process
name: Letters in chunks
id: chunked
start: start
shapes:
  start: {{type: start, mode: data_passthrough, next: split}}
  split: {{type: data_process, steps: [{{type: split, profile_type: flat_file, by: line, headers: retain}}], next: flow}}
  flow: {{type: flow_control, unit: batch, batch_size: 25, parallel: 4, next: to}}
  to: {{type: set_properties, properties: [{{property: mail.to_address, value: [{{profile_element: email}}]}}], next: letter}}
  letter: {{type: message, text: "Dear {{1}},", parameters: [{{profile_element: first_name}}], next: send}}
  send: {{type: connector, connection: sink, operation: letter-send}}
"""


class Sink:
    """An SMTP server that counts messages and waits ``delay`` seconds before accepting each."""

    def __init__(self, delay: float) -> None:
        from aiosmtpd.controller import Controller

        self.delay, self.count, self._lock = delay, 0, threading.Lock()
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN202, N802
                if sink.delay:
                    await asyncio.sleep(sink.delay)
                with sink._lock:
                    sink.count += 1
                return "250 OK"

        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


def _patients(path: Path, count: int) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        subprocess.run([sys.executable, str(ROOT / "examples" / "data" / "make_patients.py"), str(count),
                        "--consent-rate", "1"], stdout=handle, check=True)


def _postroom(env: dict[str, str], *args: str, **kw) -> subprocess.Popen[bytes]:  # noqa: ANN003
    return subprocess.Popen([sys.executable, "-m", "postroom", *args], env={**os.environ, **env}, **kw)


def _workers(env: dict[str, str], folder: Path, count: int, concurrency: int) -> list[subprocess.Popen[bytes]]:
    started = []
    for n in range(count):
        log = folder / f"worker{n}-{time.monotonic_ns()}.log"
        with open(log, "wb") as handle:
            started.append(_postroom(env, "worker", "--name", f"bench{n}@bench", "--concurrency", str(concurrency),
                                     stdout=handle, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + 60
        while " ready." not in log.read_text(errors="replace"):
            if time.monotonic() > deadline or started[-1].poll() is not None:
                sys.exit(f"worker did not start: {log.read_text()[-2000:]}")
            time.sleep(0.05)
    return started


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(60)


def _submit_all(env: dict[str, str], inputs: list[Path], workers: bool, process: str = "letters") -> float:
    """Several runs on the workers: timed from the first send to the last end (this process
    submits, as serve does); one run in-process or on a worker: ``postroom run``, timed whole."""
    if workers and len(inputs) > 1:
        return _submit_in_process(env, inputs)
    started = time.monotonic()
    extra = ["--workers"] if workers else []
    procs = [_postroom(env, "run", process, "--input", str(path), "-q", *extra, stdout=subprocess.DEVNULL)
             for path in inputs]
    codes = [proc.wait() for proc in procs]
    if any(codes):
        sys.exit(f"a run failed: exit codes {codes}")
    return time.monotonic() - started


def _submit_in_process(env: dict[str, str], inputs: list[Path]) -> float:
    os.environ.update(env)
    from postroom.repository import open_repository
    from postroom.services import InputFile, RunRequest, Submitter

    repo = open_repository()
    submitter = Submitter(repo)
    ids = [submitter.queue(RunRequest(process_id="letters", inputs=(InputFile(str(path)),))) for path in inputs]
    started = time.monotonic()
    for execution_id in ids:
        submitter.send(execution_id)
    codes = [submitter.wait(execution_id, poll=0.05)[1] for execution_id in ids]
    seconds = time.monotonic() - started
    submitter.close()
    repo.close()
    if any(codes):
        sys.exit(f"a run failed: exit codes {codes}")
    return seconds


def _phase(env: dict[str, str], folder: Path, sink: Sink, inputs: list[Path], letters: int, workers: int,
           concurrency: int, process: str = "letters") -> float:
    procs = _workers(env, folder, workers, concurrency) if workers else []
    try:
        before = sink.count
        seconds = _submit_all(env, inputs, workers > 0, process)
        if sink.count - before != letters * len(inputs):
            sys.exit(f"the sink received {sink.count - before} letters, expected {letters * len(inputs)}")
        return seconds
    finally:
        _stop(procs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--letters", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--delay", type=float, default=0.02)
    parser.add_argument("--fast-letters", type=int, default=2000)
    parser.add_argument("--chunked-letters", type=int, default=400, help="0: no chunks phase")
    parser.add_argument("--only-chunks", action="store_true", help="measure the chunks phase only")
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="postroom-bench-workers-"))
    folder.chmod(0o755)
    redis_port, pg_port = 16400 + os.getpid() % 1000, 17400 + os.getpid() % 1000
    env = {"POSTROOM_HOME": str(folder / "home"), "POSTROOM_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
           "POSTROOM_DATABASE_URL": f"postgresql://postroom@127.0.0.1:{pg_port}/postroom"}
    failed = False
    redis = start_redis(folder, redis_port)
    try:
        prefix, pg_data = start_postgres(folder, pg_port)
        try:
            slow, fast = Sink(options.delay), Sink(0.0)
            try:
                failed = _measure(options, folder, env, slow, fast)
            finally:
                slow.stop()
                fast.stop()
        finally:
            subprocess.run([*prefix, _pg_ctl(), "-D", str(pg_data), "-m", "fast", "-w", "stop"],
                           stdout=subprocess.DEVNULL, cwd=pg_data)
    finally:
        redis.terminate()
        redis.wait(30)
        shutil.rmtree(folder, ignore_errors=True)
    sys.exit(1 if failed else 0)


def _pg_ctl() -> str:
    import glob

    return sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)[0]


def _import(env: dict[str, str], folder: Path, port: int) -> None:
    (folder / "c.yaml").write_text(COMPONENTS.format(port=port), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "postroom", "import", str(folder / "c.yaml")], env={**os.environ, **env},
                   check=True, stdout=subprocess.DEVNULL)


def _measure(options: argparse.Namespace, folder: Path, env: dict[str, str], slow: Sink, fast: Sink) -> bool:
    inputs = []
    for n in range(options.runs):
        inputs.append(folder / f"patients-{n}.csv")
        _patients(inputs[-1], options.letters)
    _import(env, folder, slow.port)
    if options.chunked_letters:
        _chunks(options, folder, env, slow)
    if options.only_chunks:
        return False
    total = options.runs * options.letters
    one = _phase(env, folder, slow, inputs, options.letters, 1, options.concurrency)
    two = _phase(env, folder, slow, inputs, options.letters, 2, options.concurrency)
    print(f"latency-bound ({options.delay * 1000:.0f} ms per message, {options.runs} runs x {options.letters} letters,"
          f" concurrency {options.concurrency} per worker)")
    print(f"  1 worker   {one:6.2f} s  {total / one:7.1f} letters/s")
    print(f"  2 workers  {two:6.2f} s  {total / two:7.1f} letters/s  ({one / two:.2f}x; target 1.8x)")
    _import(env, folder, fast.port)
    big = folder / "patients-big.csv"
    _patients(big, options.fast_letters)
    local = _phase(env, folder, fast, [big], options.fast_letters, 0, options.concurrency)
    remote = _phase(env, folder, fast, [big], options.fast_letters, 1, options.concurrency)
    print(f"overhead (a sink that answers at once, one run of {options.fast_letters} letters)")
    print(f"  in-process {local:6.2f} s  {options.fast_letters / local:7.1f} letters/s")
    print(f"  1 worker   {remote:6.2f} s  {options.fast_letters / remote:7.1f} letters/s  "
          f"({remote / local:.2f}x the in-process time)")
    return one / two < 1.8


def _chunks(options: argparse.Namespace, folder: Path, env: dict[str, str], slow: Sink) -> None:
    big = folder / "patients-chunked.csv"
    _patients(big, options.chunked_letters)
    chunked = {**env, "POSTROOM_CHUNK_DOCUMENTS": "25"}
    slots = options.concurrency + 1
    one = _phase(chunked, folder, slow, [big], options.chunked_letters, 1, slots, "chunked")
    two = _phase(chunked, folder, slow, [big], options.chunked_letters, 2, slots, "chunked")
    print(f"chunks ({options.delay * 1000:.0f} ms per message, one run of {options.chunked_letters} letters, "
          f"Flow Control parallel 4, chunks of 25, {slots} slots per worker)")
    print(f"  1 worker   {one:6.2f} s  {options.chunked_letters / one:7.1f} letters/s")
    print(f"  2 workers  {two:6.2f} s  {options.chunked_letters / two:7.1f} letters/s  ({one / two:.2f}x)")


if __name__ == "__main__":
    main()
