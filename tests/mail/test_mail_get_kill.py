"""Kill tests: ``postroom run`` reading 200 messages is SIGKILLed at random points, then run again.

A process reads the clinic mailbox (POP3 with delete_after_read, or IMAP with
move_to_folder) and writes each message to a folder, one file named by its Message-ID
(``write_option: overwrite``: storing is idempotent, as DESIGN principle 8 asks of a
process). In each of 20 seeded trials, 10 more messages arrive, a run starts and is
killed with SIGKILL after a random delay; after every kill, every message that is gone
from the inbox must be in the folder, complete. A last run finishes the job. At the end
every one of the 200 messages is in the folder exactly once, byte for byte, and the
inbox is empty.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from support.getkit import CLINIC, crlf

MESSAGES = 200
TRIALS = 20
SEED = 20261124


def _message(n: int) -> bytes:
    return crlf(f"""From: patient{n}@example.org
To: {CLINIC}
Subject: Reply {n}: please transfer my records
Message-ID: <reply-{n}@patients.example.org>
Date: Tue, 24 Nov 2026 10:00:00 +0000

Patient {n} asks for the transfer of their records.
{"x" * (n % 7) * 100}
""")


def _body(n: int) -> bytes:
    raw = _message(n)
    return raw.split(b"\r\n\r\n", 1)[1].replace(b"\r\n", b"\n").rstrip(b"\n")


COMPONENTS = """
type: connection
connector: mail
name: Clinic mailbox
id: clinic-mailbox
settings:
  host: "{host}"
  port: {port}
  use_ssl: true
  user_name: "{user}"
  password: "{password}"
  inbound_protocol: {protocol}
  trusted_ca_file: "{ca}"
---
type: operation
connector: mail
name: Take replies
id: take-replies
settings: {{action: get, start_from: all, {extra}}}
---
type: connection
connector: disk
name: Stored replies
id: stored
settings: {{directory: "{out}"}}
---
type: operation
connector: disk
name: Store one reply
id: store
settings: {{action: send, write_option: overwrite, create_directories: true}}
---
type: process
name: Store replies
id: store-replies
start: start
shapes:
  start: {{type: start, mode: connector, connection: clinic-mailbox, operation: take-replies, next: name}}
  name:
    type: set_properties
    properties: [{{property: disk.file_name, value: [{{document_property: mail.message_id}}]}}]
    next: store
  store: {{type: connector, connection: stored, operation: store}}
"""

MODES = {
    "pop3-delete": ("pop3s", "delete_after_read: true"),
    "imap-move": ("imaps", "move_to_folder: Stored"),
}


def _final_names(out) -> set[str]:  # noqa: ANN001
    """Files under their final names; a killed disk send may leave its temporary file
    (``.NAME.postroom-tmp-...``), which no get reads and the next send into the folder removes."""
    return {p.name for p in out.iterdir() if not p.name.startswith(".")} if out.exists() else set()


def _wait_for_stores(out, since: float, count: int, process, deadline: float) -> None:  # noqa: ANN001
    """Return once ``count`` files were written since ``since`` (or the run ended)."""
    since_wall = time.time() - (time.monotonic() - since)
    while process.poll() is None and time.monotonic() < deadline:
        if out.exists():
            written = 0
            with os.scandir(out) as entries:
                for entry in entries:  # a file being written has a temporary name (.NAME.postroom-tmp-...)
                    if not entry.name.startswith(".") and entry.stat().st_mtime >= since_wall:
                        written += 1
            if written >= count:
                return
        time.sleep(0.0005)


@pytest.mark.parametrize("mode", list(MODES))
def test_sigkill_at_random_points_loses_and_doubles_nothing(mailbox, cli, workdir, home, mode):
    transport, extra = MODES[mode]
    settings = mailbox.connection(transport)
    out = workdir / "stored"
    (workdir / "components.yaml").write_text(COMPONENTS.format(
        host=settings["host"], port=settings["port"], user=mailbox.user, password=mailbox.password,
        protocol=settings["inbound_protocol"], ca=settings["trusted_ca_file"], extra=extra, out=out))
    imported = cli("import", "components.yaml")
    assert imported.code == 0, imported
    environment = dict(os.environ, POSTROOM_HOME=str(home))
    environment.pop("POSTROOM_DATABASE_URL", None)
    command = [sys.executable, "-m", "postroom", "run", "store-replies", "--quiet"]
    rng = random.Random(f"{SEED}-{mode}")
    delivered: list[int] = []
    outcomes = {"killed": 0, "finished": 0, "stored, not yet committed": 0}
    started = time.monotonic()
    calibration = subprocess.run(command, env=environment, cwd=workdir, capture_output=True, timeout=120)
    assert calibration.returncode == 0, calibration.stderr
    base = time.monotonic() - started  # a run of an empty mailbox: start, log in, find nothing
    per_message = 0.005  # learnt from the runs that finish

    def gone_from_inbox() -> set[str]:
        left = {raw.split(b"Message-ID: ", 1)[1].split(b"\r\n", 1)[0].decode() for raw in mailbox.messages()}
        return {f"<reply-{n}@patients.example.org>" for n in delivered} - left

    def check_nothing_lost() -> None:
        stored = _final_names(out)
        gone = gone_from_inbox()
        if stored - gone:
            outcomes["stored, not yet committed"] += 1  # the next run reads these again
        missing = gone - stored
        assert not missing, f"deleted or moved from the inbox but never stored: {sorted(missing)[:5]}"
        for name in gone:  # what left the inbox is stored completely
            n = int(name.split("-")[1].split("@")[0])
            assert (out / name).read_bytes().rstrip(b"\n") == _body(n), name
        if mode == "imap-move":  # moved, never copied twice
            moved = mailbox.messages("Stored")
            assert len(moved) == len(gone) == len(set(moved))

    def deliver(count: int) -> None:
        start = len(delivered) + 1
        for n in range(start, start + count):
            mailbox.deliver(_message(n))
            delivered.append(n)

    deliver(MESSAGES // 2)  # a backlog, then more mail before every trial
    per_trial = (MESSAGES - MESSAGES // 2) // TRIALS
    for trial in range(TRIALS):
        deliver(per_trial)
        backlog = len(mailbox.messages())
        expected = base + per_message * backlog
        began = time.monotonic()
        process = subprocess.Popen(command, env=environment, cwd=workdir, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE)
        strategy = trial % 3
        if strategy == 0:  # anywhere: Python starting, logging in, reading, writing, committing
            time.sleep(rng.uniform(0.3, 1.2) * expected)
        elif strategy == 1:  # while the mail is read (after start-up, up to the commit)
            time.sleep(rng.uniform(0.9 * base, 1.05 * expected))
        else:  # once this run has stored a random number of the messages: before its commit
            _wait_for_stores(out, began, rng.randint(1, max(1, backlog)), process, deadline=began + 30)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            outcomes["killed"] += 1
        else:
            outcomes["finished"] += 1
            if backlog:
                per_message = max(0.001, (time.monotonic() - began - base) / backlog)
            assert process.returncode == 0, process.stderr.read().decode() if process.stderr else ""
        process.wait(timeout=30)
        if process.stderr:
            process.stderr.close()
        check_nothing_lost()

    final = subprocess.run(command, env=environment, cwd=workdir, capture_output=True, text=True, timeout=120)
    assert final.returncode == 0, final.stderr
    check_nothing_lost()
    stored = sorted(_final_names(out))
    assert stored == sorted(f"<reply-{n}@patients.example.org>" for n in range(1, MESSAGES + 1))
    for n in range(1, MESSAGES + 1):
        assert (out / f"<reply-{n}@patients.example.org>").read_bytes().rstrip(b"\n") == _body(n)
    assert mailbox.messages() == []
    if mode == "imap-move":
        assert len(mailbox.messages("Stored")) == MESSAGES
    # the kills really landed inside runs: every third trial waits for stores before killing,
    # the others are timed guesses that a loaded machine can miss (seen: 9 of 20 under CI load)
    assert outcomes["killed"] >= TRIALS // 4, outcomes
    assert outcomes["stored, not yet committed"] >= 1, outcomes  # and some between a store and its commit
    print(f"{mode}: {outcomes}")
