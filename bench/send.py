#!/usr/bin/env python3
"""Send benchmark: personalised letters through `postroom run` to Postfix's smtp-sink.

    .venv/bin/python bench/send.py                  # 20,000 letters (bench/run.py runs this)
    .venv/bin/python bench/send.py --rows 2000 --sessions 4

One smtp-sink on a free loopback port receives, in the same run:

postroom     N patients from examples/data/make_patients.py (--consent-rate 1, so every
             row gets a letter) through the Dr. Smith personal-letters flow, as a user runs
             it: `postroom run --input patients.csv` (split with the header retained, the
             consent decision, set properties mail.to_address, message "Dear {1} {2}," and
             the letter, mail send) over a plain connection (no TLS, no login) in a fresh
             POSTROOM_HOME; the journal is checked afterwards (one "sent" entry per letter).
loop         the plain stdlib way: for each patient an email.message.EmailMessage (From,
             To, Subject, set_content(letter)) and send_message on ONE reused smtplib session.
smtp-source  Postfix's C load generator with the same count and about the same message
             size: a new session per message (its default), then one reused session (-d),
             then --sessions reused sessions in parallel.

Every phase is timed as a whole process (start-up included) and must have delivered
exactly N messages by smtp-sink's own counter (-c). Targets (issue 13), each printed PASS or
FAIL: Postroom at least 4x the loop, and at least 0.5 of smtp-source with as many reused
sessions as Postroom's connection allows (--sessions, else the connector's default, 2); exit 1
when a target or any count fails.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

from _env import command_env, precompile

ROOT = Path(__file__).resolve().parent.parent
MAKE_PATIENTS = ROOT / "examples" / "data" / "make_patients.py"
SMTP_SINK = "/usr/sbin/smtp-sink"
SMTP_SOURCE = "/usr/sbin/smtp-source"
LOOP_TARGET = 4.0  # postroom / stdlib loop
SOURCE_TARGET = 0.5  # postroom / smtp-source with the same number of reused sessions
DEFAULT_SESSIONS = 2  # the Mail connection's default max_sessions
SENDER = "clinic@example.com"
SUBJECT = "Announcement: Dr. Smith is Retiring"
# The letter of examples/dr-smith/process-2-personal-letters.yaml, after "Dear {1} {2},".
LETTER = (
    "\n\nAfter many years of caring for you, Dr. Smith is retiring at the end of the year.\n"
    "We'll make sure your records move to the physician of your choice: just reply to\n"
    "this email and tell us who that is.\n\nKind regards,\nThe clinic\n"
)

COMPONENTS = """\
type: connection
connector: mail
name: Bench sink
id: bench-sink
settings: {{host: 127.0.0.1, port: {port}, use_tls: false, use_ssl: false, user_password_auth: false{sessions}}}
---
type: operation
connector: mail
name: Bench letter
id: bench-letter
settings:
  action: send
  from: {sender}
  to: ""
  subject: "{subject}"
  disposition: inline
  attachment_content_type: text/plain
  body_content_type: text/plain
---
# The shape of examples/dr-smith/process-2-personal-letters.yaml, reading --input.
type: process
name: Bench personal letters
id: bench-personal-letters
start: start
shapes:
  start: {{type: start, mode: data_passthrough, next: one-per-patient}}
  one-per-patient:
    type: data_process
    steps: [{{type: split, profile_type: flat_file, by: line, headers: retain}}]
    next: consent
  consent:
    type: decision
    label: Agreed to email?
    first: {{profile_element: email_consent}}
    comparison: equals
    second: "yes"
    true: recipient
    false: no-consent
  recipient:
    type: set_properties
    properties:
      - property: mail.to_address
        value: [{{profile_element: email}}]
      - property: dynamic.patient_id
        value: [{{profile_element: patient_id}}]
    next: letter
  letter:
    type: message
    text: |
      Dear {{1}} {{2}},

      After many years of caring for you, Dr. Smith is retiring at the end of the year.
      We''ll make sure your records move to the physician of your choice: just reply to
      this email and tell us who that is.

      Kind regards,
      The clinic
    parameters:
      - {{profile_element: first_name}}
      - {{profile_element: last_name}}
    next: send
  send: {{type: connector, connection: bench-sink, operation: bench-letter, next: done}}
  done: {{type: stop}}
  no-consent: {{type: stop, continue: false}}
"""

# The baseline, run as its own process like `postroom run` is.
LOOP = r"""
import csv, smtplib, sys
from email.message import EmailMessage
port, path, sender, subject, letter = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
sent = 0
with open(path, encoding="utf-8", newline="") as handle, smtplib.SMTP("127.0.0.1", port) as smtp:
    for row in csv.DictReader(handle):
        if row["email_consent"] != "yes":
            continue
        message = EmailMessage()
        message["From"] = sender
        message["To"] = row["email"]
        message["Subject"] = subject
        message.set_content(f"Dear {row['first_name']} {row['last_name']}," + letter)
        smtp.send_message(message)
        sent += 1
print(sent)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Sink:
    """smtp-sink with running counters (-c) written to a file we read."""

    def __init__(self, work: Path) -> None:
        if not os.path.exists(SMTP_SINK):
            sys.exit(f"{SMTP_SINK} is missing: install Postfix (apt-get install postfix)")
        self.port = free_port()
        self.counters = work / "smtp-sink.out"
        command = [SMTP_SINK, "-c", f"127.0.0.1:{self.port}", "256"]
        if os.geteuid() == 0:
            command[1:1] = ["-u", "nobody"]  # smtp-sink refuses to run as root
        self._out = open(self.counters, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(command, stdout=self._out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 5
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    sys.exit(f"smtp-sink did not start: {self.counters.read_text(errors='replace')}")
                time.sleep(0.05)

    def messages(self) -> int:
        """Messages received so far ("mesg=N", updated at every final dot)."""
        found = re.findall(rb"mesg=(\d+)", self.counters.read_bytes())
        return int(found[-1]) if found else 0

    def wait_for(self, count: int, timeout: float = 10.0) -> int:
        deadline = time.monotonic() + timeout
        while True:
            seen = self.messages()
            if seen >= count or time.monotonic() > deadline:
                return seen
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(5)
        self._out.close()


def timed(cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> tuple[float, str]:
    """Wall seconds of the whole command and its stdout; exit on failure."""
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"benchmark command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}")
    return elapsed, proc.stdout


def mean_message_size(patients: Path, limit: int = 1000) -> int:
    """Mean bytes of the loop's messages (Postroom's differ by Date and Message-ID only)."""
    sizes = []
    with open(patients, encoding="utf-8", newline="") as handle:
        for row, _ in zip(csv.DictReader(handle), range(limit), strict=False):
            message = EmailMessage()
            message["From"], message["To"], message["Subject"] = SENDER, row["email"], SUBJECT
            message.set_content(f"Dear {row['first_name']} {row['last_name']}," + LETTER)
            sizes.append(len(message.as_bytes()))
    return sum(sizes) // len(sizes)


def journal_counts(home: Path) -> dict[str, int]:
    with sqlite3.connect(home / "postroom.db") as db:
        return dict(db.execute("select status, count(*) from send_journal group by status").fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000, help="patients, one letter each")
    parser.add_argument("--sessions", type=int, default=0,
                        help="max_sessions of Postroom's connection (0: the connector's default) and "
                             "smtp-source's parallel sessions (0: 2)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    n = args.rows
    for binary in (SMTP_SINK, SMTP_SOURCE):
        if not os.path.exists(binary):
            sys.exit(f"{binary} is missing: install Postfix (apt-get install postfix)")

    load = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="postroom-send-bench-"))
    patients = work / "patients.csv"
    with open(patients, "w", encoding="utf-8") as handle:
        subprocess.run([sys.executable, str(MAKE_PATIENTS), str(n), "--consent-rate", "1"], stdout=handle, check=True)
    home = work / "home"
    env = command_env(home)  # bytecode as installed (bench/_env.py)
    precompile(env)
    sink = Sink(work)
    ok = True
    try:
        sessions_setting = f", max_sessions: {args.sessions}" if args.sessions else ""
        (work / "bench-send.yaml").write_text(
            COMPONENTS.format(port=sink.port, sessions=sessions_setting, sender=SENDER, subject=SUBJECT),
            encoding="utf-8",
        )
        postroom = [sys.executable, "-m", "postroom"]
        subprocess.run(postroom + ["import", "bench-send.yaml"], env=env, cwd=work, check=True, capture_output=True)

        def phase(name: str, cmd: list[str], **kwargs: object) -> float:
            nonlocal ok
            before = sink.messages()
            seconds, out = timed(cmd, **kwargs)  # type: ignore[arg-type]
            got = sink.wait_for(before + n) - before
            if got != n:
                print(f"  {name}: smtp-sink received {got:,} messages, not {n:,}: FAIL")
                ok = False
            phase.outputs[name] = out  # type: ignore[attr-defined]
            return seconds

        phase.outputs = {}  # type: ignore[attr-defined]

        run_s = phase("postroom", postroom + ["run", "bench-personal-letters", "--input", str(patients), "--json"],
                      env=env, cwd=work)
        record = json.loads(phase.outputs["postroom"])  # type: ignore[attr-defined]
        journal = journal_counts(home)
        loop_s = phase("loop", [sys.executable, "-c", LOOP, str(sink.port), str(patients), SENDER, SUBJECT, LETTER])
        loop_sent = int(phase.outputs["loop"].strip() or 0)  # type: ignore[attr-defined]

        size = mean_message_size(patients)
        payload = max(1, size - 100)  # smtp-source adds about 100 bytes of From/To/Date/Message-Id
        source_sessions = args.sessions or DEFAULT_SESSIONS
        target = f"127.0.0.1:{sink.port}"
        sources = [
            (f"smtp-source -s 1 -m {n} -l {payload} (new session per message)",
             [SMTP_SOURCE, "-s", "1", "-m", str(n), "-l", str(payload), target]),
            (f"smtp-source -d -s 1 -m {n} -l {payload} (one reused session)",
             [SMTP_SOURCE, "-d", "-s", "1", "-m", str(n), "-l", str(payload), target]),
            (f"smtp-source -d -s {source_sessions} -m {n} -l {payload} ({source_sessions} reused sessions)",
             [SMTP_SOURCE, "-d", "-s", str(source_sessions), "-m", str(n), "-l", str(payload), target]),
        ]
        source_s = [(label, phase(label, cmd)) for label, cmd in sources]
    finally:
        sink.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    rate = n / run_s
    loop_rate = n / loop_s
    print(f"send: {n:,} personalised letters to smtp-sink on 127.0.0.1 (plain SMTP), messages ~{size} bytes; "
          f"every phase timed as a whole process")
    print(f"  machine: {os.cpu_count()} CPUs, load average {load[0]:.2f} before the run (figures vary with load; "
          f"the ratios less)")
    print(f"  postroom run                {run_s:8.2f} s  {rate:10,.0f} letters/s   "
          f"(status {record.get('status')}, journal {journal})")
    print(f"  stdlib loop, one session    {loop_s:8.2f} s  {loop_rate:10,.0f} letters/s   ({loop_sent:,} sent)")
    for label, seconds in source_s:
        print(f"  {label:<60s} {seconds:8.2f} s  {n / seconds:10,.0f} letters/s   postroom/this {rate / (n / seconds):5.2f}")
    if record.get("status") != "complete" or journal.get("sent") != n or len(journal) != 1:
        print(f"  postroom did not journal {n:,} letters as sent: FAIL")
        ok = False
    if loop_sent != n:
        ok = False
    ratio = rate / loop_rate
    _, reference_s = source_s[-1]
    source_ratio = rate / (n / reference_s)
    loop_ok, source_ok = ratio >= LOOP_TARGET, source_ratio >= SOURCE_TARGET
    print(f"  ratio postroom/loop: {ratio:.2f}x (target >= {LOOP_TARGET:g}x): {'PASS' if loop_ok else 'FAIL'}")
    print(f"  ratio postroom/smtp-source ({source_sessions} reused sessions, as many as postroom may use): "
          f"{source_ratio:.2f} (target >= {SOURCE_TARGET:g}): {'PASS' if source_ok else 'FAIL'}")
    ok = ok and loop_ok and source_ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
