"""Start-up: the listing commands answer without loading what they do not need (SQLAlchemy,
pydantic, Rich, Typer), with the output and exit codes Typer gives; a run of a mail
process loads no DKIM or DNS library. Each case is one ``postroom`` process, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from postroom.repository import ComponentRecord, ExecutionRecord, open_repository

HEAVY = ("sqlalchemy", "alembic", "pydantic", "rich", "typer", "postroom.cli._app", "celery", "dkim", "dns",
         "jinja2", "yaml", "fastapi", "postroom.engine", "postroom.model", "croniter", "cryptography")

# Runs `postroom ARGS` in this interpreter and prints, on stderr after the command's own
# output, the heavy modules it loaded and its exit code.
PROBE = """
import atexit, json, sys
heavy = json.loads(sys.argv[1])
def report():
    sys.stderr.write("\\nLOADED " + json.dumps(sorted(m for m in heavy if m in sys.modules)) + "\\n")
atexit.register(report)
sys.argv = ["postroom", *sys.argv[2:]]
from postroom.cli import main
main()
"""


def postroom(home: Path, *args: str) -> tuple[int, str, str, list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTROOM_")}
    env["POSTROOM_HOME"] = str(home)
    proc = subprocess.run([sys.executable, "-c", PROBE, json.dumps(HEAVY), *args], capture_output=True,
                          text=True, env=env, timeout=120)
    err, _, loaded = proc.stderr.rpartition("\nLOADED ")
    return proc.returncode, proc.stdout, err, json.loads(loaded)


@pytest.fixture
def stored(home: Path) -> Path:
    repo = open_repository(home=home)
    repo.save_components([ComponentRecord(id="p1", type="process", name="Announcement", folder="Tutorials",
                                          body={"shapes": {}})])
    repo.create_execution(ExecutionRecord(id="e1", process_id="p1", process_version=1, status="complete"))
    repo.close()
    return home


def test_the_listings_load_nothing_heavy(stored: Path) -> None:
    code, out, err, loaded = postroom(stored, "components", "list")
    assert (code, loaded, err) == (0, [], "")
    assert "│ p1 │ process │ Announcement │ Tutorials │ 1       │" in out
    code, out, err, loaded = postroom(stored, "executions", "list", "--limit", "5", "--json")
    assert (code, loaded) == (0, [])
    assert [e["id"] for e in json.loads(out)] == ["e1"]


def test_a_bad_status_exits_2_as_before(stored: Path) -> None:
    code, out, err, loaded = postroom(stored, "executions", "list", "--status", "finished")
    assert (code, out, loaded) == (2, "", ["typer"])  # Typer's Exit carries the code, as before
    assert "no such status 'finished'" in err


@pytest.mark.parametrize("args", [["components", "list", "--bogus"], ["executions", "list", "--limit", "many"]])
def test_what_the_quick_path_does_not_parse_gets_typers_error(stored: Path, args: list[str]) -> None:
    code, out, err, loaded = postroom(stored, *args)
    assert code == 2
    assert "Usage: postroom" in err
    assert "postroom.cli._app" in loaded


def test_run_of_an_unknown_process_exits_2_without_the_typer_app(stored: Path) -> None:
    code, out, err, loaded = postroom(stored, "run", "no-such-process")
    assert code == 2
    assert "no-such-process" in err
    assert "postroom.cli._app" not in loaded


def test_a_run_answers_without_typer_or_rich(home: Path) -> None:
    repo = open_repository(home=home)
    repo.save_components([ComponentRecord(id="hello", type="process", name="Hello", body={
        "type": "process", "name": "Hello", "id": "hello", "start": "start", "shapes": {
            "start": {"type": "start", "mode": "no_data", "next": "greet"},
            "greet": {"type": "message", "text": "hello", "next": "done"},
            "done": {"type": "stop"}}})])
    repo.close()
    code, out, err, loaded = postroom(home, "run", "hello")
    assert (code, err) == (0, "")
    assert ": complete: 1 in, 1 out, 0 failed (" in out
    assert not {"typer", "postroom.cli._app", "rich", "dkim", "celery", "alembic"} & set(loaded)
    assert "cryptography" not in loaded  # Fernet: only where a secret is encrypted or decrypted
    assert "croniter" not in loaded  # its import runs `file` on the interpreter: only for schedules


def test_a_run_with_input_files_answers_without_typer(home: Path, tmp_path: Path) -> None:
    """``--input`` (repeatable) is parsed by the quick path too: each file is a document, in order."""
    repo = open_repository(home=home)
    repo.save_components([ComponentRecord(id="pass", type="process", name="Pass", body={
        "type": "process", "name": "Pass", "id": "pass", "start": "start", "shapes": {
            "start": {"type": "start", "mode": "data_passthrough", "next": "done"},
            "done": {"type": "stop"}}})])
    repo.close()
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("one")
    second.write_text("two")
    code, out, err, loaded = postroom(home, "run", "pass", "--input", str(first), "--quiet", "--input", str(second),
                                      "--json")
    assert (code, err) == (0, "")
    record = json.loads(out)
    assert (record["status"], record["documents_in"]) == ("complete", 2), record
    assert not {"typer", "postroom.cli._app", "sqlalchemy"} & set(loaded)  # --json: the run's own store reads its view
    code, out, err, loaded = postroom(home, "run", "pass", "--input", str(tmp_path / "missing.txt"))
    assert code == 2 and "missing.txt" in err  # a bad input: the contract's exit code, named
    assert "postroom.cli._app" not in loaded


def test_a_listing_on_a_new_home_creates_the_database(home: Path) -> None:
    code, out, err, loaded = postroom(home, "components", "list")
    assert (code, out.strip()) == (0, "no components yet: postroom import PATH")
    assert "sqlalchemy" in loaded and "alembic" in loaded  # the repository created and migrated it
    assert postroom(home, "components", "list")[3] == []  # from then on: the quick path


def test_a_mail_run_loads_no_dkim_or_dns(home: Path) -> None:
    """The DKIM signer and the DNS check are imported when a letter is signed or a
    connection test looks the key up, not by every run that loads the mail connector."""
    code = ("import sys; import postroom.connectors.mail, postroom.services._run; "
            "print(sorted(m for m in ('dkim', 'dns', 'dns.resolver') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"


def test_the_mail_connector_loads_only_what_sending_needs() -> None:
    """Reading (IMAP, POP3, parsing), OAuth's token flows (urllib.request), client
    certificates (cryptography's x509), DKIM keys and the HTML twin load when used; the
    names stay where they were."""
    lazy = ("postroom.connectors.mail.get", "postroom.connectors.mail._imap", "postroom.connectors.mail._pop3",
            "postroom.connectors.mail.connection", "postroom.connectors.mail._oauth",
            "postroom.connectors.mail._client_certs", "postroom.connectors.mail._html_text",
            "postroom.connectors.mail._dkim_dns", "cryptography.x509",
            "cryptography.hazmat.primitives.serialization", "urllib.request", "imaplib", "poplib", "html.parser")
    code = ("import sys, json; import postroom.connectors.mail, postroom.connectors.mail.send, "
            "postroom.services._run; "
            f"print(json.dumps(sorted(m for m in {lazy!r} if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert json.loads(out.stdout) == []
    from postroom.connectors import mail
    from postroom.connectors.mail.get import MailGetSession

    assert mail.MailGetSession is MailGetSession
    assert mail.dkim_record  # the DKIM record helper imports its modules when called
    with pytest.raises(AttributeError):
        mail.NoSuchName  # noqa: B018
