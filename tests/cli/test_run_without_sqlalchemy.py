"""``postroom run`` on a current SQLite home reads and writes its execution, log and send
journal with sqlite3 (repository/_runstore.py), without importing SQLAlchemy (nor PyYAML:
its components come from the repository as JSON); what it records is what the repository
reads back. Each run is one ``postroom`` process."""

from __future__ import annotations

import email
import email.policy
import json
import os
import subprocess
import sys
from pathlib import Path

from postroom.repository import open_repository
from support.letterskit import devmail_connection, letters_yaml

# `postroom ARGS` in this interpreter; on stderr after the command's output: which of
# SQLAlchemy, Alembic and PyYAML were loaded.
PROBE = """
import atexit, json, sys
def report():
    sys.stderr.write("\\nLOADED " + json.dumps(sorted(m for m in ("sqlalchemy", "alembic", "yaml") if m in sys.modules)) + "\\n")
atexit.register(report)
sys.argv = ["postroom", *sys.argv[1:]]
from postroom.cli import main
main()
"""

PATIENTS = "id,first_name,last_name,email\n1,Ada,Byron,ada@example.com\n2,Alan,Turing,alan@example.org\n" \
           "3,Grace,Hopper,grace@example.net\n"


def postroom(workdir: Path, home: Path, *args: str) -> tuple[int, str, str, list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTROOM_")}
    env["POSTROOM_HOME"] = str(home)
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=workdir, capture_output=True, text=True,
                          env=env, timeout=120)
    err, _, loaded = proc.stderr.rpartition("\nLOADED ")
    return proc.returncode, proc.stdout, err, json.loads(loaded)


def test_a_mail_run_journals_every_letter_without_sqlalchemy_or_yaml(cli, workdir, home, devmail) -> None:  # noqa: ANN001
    (workdir / "c.yaml").write_text(letters_yaml(devmail_connection(devmail.smtps_port, devmail.ca_file), "devmail"),
                                    encoding="utf-8")
    assert cli("import", "c.yaml").code == 0
    (workdir / "patients.csv").write_text(PATIENTS, encoding="utf-8")
    assert cli("components", "list").code == 0  # the database exists and is at the current schema

    code, out, err, loaded = postroom(workdir, home, "run", "letters", "--input", "patients.csv")
    assert (code, err) == (0, ""), out
    assert ": complete: 1 in, 3 out, 0 failed (" in out
    assert loaded == []

    letters = {m.rcpt_tos[0]: email.message_from_bytes(m.raw, policy=email.policy.default)["Message-ID"]
               for m in devmail.messages()}
    assert set(letters) == {"ada@example.com", "alan@example.org", "grace@example.net"}
    repo = open_repository(home=home)
    try:
        [execution] = repo.list_executions()
        assert (execution.status, execution.documents_out, execution.ended_at is not None) == ("complete", 3, True)
        assert execution.connector_counts == {"send": {"completed": 3, "failed": 0}}
        journal = repo.journal_entries(execution.id)
        assert sorted(e.message_id for e in journal.values()) == sorted(letters.values())
        assert {e.status for e in journal.values()} == {"sent"}
        assert execution.started_at is not None and all(
            e.updated_at is not None and e.updated_at >= execution.started_at for e in journal.values())
    finally:
        repo.close()


def test_a_test_mode_run_records_its_documents_through_the_repository(cli, workdir, home) -> None:  # noqa: ANN001
    """A test-mode run records every shape's documents, which the plain store leaves to the
    full repository (opened then, on the same file)."""
    (workdir / "hello.yaml").write_text(
        "type: process\nname: Hello\nid: hello\nshapes:\n"
        "  start: {type: start, mode: no_data, next: greet}\n"
        "  greet: {type: message, text: hello, next: done}\n"
        "  done: {type: stop}\n", encoding="utf-8")
    assert cli("import", "hello.yaml").code == 0
    code, out, err, loaded = postroom(workdir, home, "run", "hello", "--test")
    assert (code, err) == (0, ""), out
    assert "sqlalchemy" in loaded and "yaml" not in loaded
    repo = open_repository(home=home)
    try:
        [execution] = repo.list_executions()
        assert execution.status == "complete" and execution.mode == "test"
        recorded = {d.shape: d.data for d in repo.get_shape_documents(execution.id)}
        assert recorded["done"] == b"hello"
    finally:
        repo.close()
