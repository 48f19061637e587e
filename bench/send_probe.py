#!/usr/bin/env python3
"""How the Mail Send's parallel probe decides, execution after execution, in one process.

    python bench/send_probe.py                          # 10 executions, max_sessions 2
    python bench/send_probe.py --executions 6 --sessions 4 --documents 300

Starts Postfix's smtp-sink on a free loopback port, then runs N executions of the send
operation (a fresh operation session each, as the engine opens one per shape and execution,
sharing the process's pool as executions do), each sending ``--documents`` emails in one
batch, big enough for the first-batch trial of one session against ``--sessions`` parallel
ones (``MailSendSession._send_batch``). Prints the decision each execution logged.
Used as evidence in docs/adr/0010.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from postroom.connectors.mail import connector  # noqa: E402
from postroom.sdk import Document  # noqa: E402
from postroom.sdk.testing import MemoryContext  # noqa: E402
from support.mailkit import free_port, operation, plain_connection  # noqa: E402

SMTP_SINK = "/usr/sbin/smtp-sink"


class Decisions(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if text.startswith("sending over"):
            self.lines.append(text)


def start_sink() -> tuple[subprocess.Popen, int]:
    if not os.path.exists(SMTP_SINK):
        sys.exit(f"{SMTP_SINK} is missing: install Postfix (apt-get install postfix)")
    port = free_port()
    command = [SMTP_SINK, f"127.0.0.1:{port}", "256"]
    if os.geteuid() == 0:
        command[1:1] = ["-u", "nobody"]  # smtp-sink refuses to run as root
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 5
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process, port
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                sys.exit("smtp-sink did not start")
            time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=10)
    parser.add_argument("--sessions", type=int, default=2)
    parser.add_argument("--documents", type=int, default=300)
    args = parser.parse_args()
    process, port = start_sink()
    decisions = Decisions()
    try:
        print(f"send probe: {args.executions} executions of {args.documents} documents, "
              f"max_sessions {args.sessions}, smtp-sink on 127.0.0.1; load {os.getloadavg()[0]:.2f}")
        for number in range(1, args.executions + 1):
            context = MemoryContext(execution_id=f"probe-{number}")
            context.log.setLevel(logging.INFO)
            context.log.addHandler(decisions)
            session = connector.open(plain_connection(port, max_sessions=args.sessions), operation(), context)
            documents = [Document(f"n{n}", {"mail.to_address": f"p{n}@example.com"}) for n in range(args.documents)]
            try:
                list(session.execute(documents, "send"))
            finally:
                session.close()
                context.log.removeHandler(decisions)
            print(f"  {number:3}: {decisions.lines[-1] if decisions.lines else 'no trial'}")
    finally:
        process.terminate()
        process.wait()


if __name__ == "__main__":
    main()
