"""The tutorial's process 2 with its database (issue 10, item 6), against devmail and a real
database: SQLite in POSTROOM_HOME (the example's default) and PostgreSQL (the url changed in
the connection, as docs/getting-started.md tells). What a user would check: the rows in the
table, the emails that arrived, the failed documents and a second run that sends nothing."""

from __future__ import annotations

import csv
import datetime as dt
import email
import email.policy
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from support.testsupport import ROOT

EXAMPLE = ROOT / "examples" / "dr-smith"
DEFAULT_URL = "url: sqlite:///${env:POSTROOM_HOME}/dr-smith.db"
COLUMNS = "patient_id, first_name, last_name, full_name, email, preferred_language, last_visit, email_consent"
#: rows of a patient list that do not fit the list's profile: each fails alone
BROKEN_ROWS = [
    ",Nora,Blank,nora.blank@example.com,en,2026-01-05,yes",
    "P0026,Ivan,Petrov,ivan.petrov@example.com,ru,2026-02-30,yes",
    "P0027,Ola,Nordmann,ola.nordmann@example.com,no,03/01/2026,yes",
]


@dataclass
class Tutorial:
    kind: str  # sqlite | postgresql
    env: dict[str, str]
    url: str  # what the test reads the table with
    folder: Path

    def rows(self, sql: str = f"SELECT {COLUMNS} FROM patient_records ORDER BY patient_id") -> list[tuple[Any, ...]]:
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                return [tuple(row) for row in conn.execute(text(sql))]
        finally:
            engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def tutorial(request, cli, workdir, home, devmail) -> Tutorial:  # noqa: ANN001
    folder = workdir / "dr-smith"
    shutil.copytree(EXAMPLE, folder)
    connections = folder / "connections.yaml"
    connections.write_text(connections.read_text().replace("port: 2465", f"port: {devmail.smtps_port}"))
    if request.param == "sqlite":
        url = f"sqlite:///{home / 'dr-smith.db'}"
    else:
        url = request.getfixturevalue("postgres_database")
        database = folder / "database.yaml"
        source = database.read_text()
        assert DEFAULT_URL in source
        # as a user writes it: postgresql://user@host:port/db, Postroom picks the driver
        database.write_text(source.replace(DEFAULT_URL, "url: " + url.replace("postgresql+psycopg://",
                                                                             "postgresql://")))
    env = {"POSTROOM_DEVMAIL_CA": str(devmail.ca_file)}
    assert cli("secrets", "set", "devmail-password", input="app-password-123\n").code == 0
    imported = cli("import", "dr-smith", env=env)
    assert imported.code == 0, imported
    return Tutorial(request.param, env, url, folder)


def patients(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def expected_rows(patients_csv: Path) -> list[tuple[Any, ...]]:
    """The records the map should make, computed here from the CSV (in patient_id order)."""
    return sorted((p["patient_id"], p["first_name"], p["last_name"], f"{p['first_name']} {p['last_name']}",
                   p["email"].lower(), p["preferred_language"], p["last_visit"], p["email_consent"])
                  for p in patients(patients_csv))


def as_text(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A row with its date as ISO text (PostgreSQL gives a date, SQLite the stored text)."""
    return tuple(str(v) if n == 6 else v for n, v in enumerate(row))


def letter(full_name: str, patient_id: str) -> str:
    return (f"Dear {full_name},\n\n"
            "After many years of caring for you, Dr. Smith is retiring at the end of the year.\n"
            "We'll make sure your records move to the physician of your choice: just reply to\n"
            "this email and tell us who that is.\n\n"
            f"Your patient record: {patient_id}.\n\n"
            "Kind regards,\nThe clinic\n")


def parse(stored) -> email.message.EmailMessage:  # noqa: ANN001
    return email.message_from_bytes(stored.raw, policy=email.policy.default)


def log_of(cli, execution_id: str) -> list[tuple[str, str]]:  # noqa: ANN001
    shown = cli("executions", "show", execution_id, "--json").json()
    return [(entry["level"], entry["message"]) for entry in shown["log"]]


def check_letters(devmail, stored_rows: list[tuple[Any, ...]], message_ids: dict[str, str]) -> None:  # noqa: ANN001
    """One email per patient with consent and a usable address: to that patient alone, the
    body made from the stored row (full name and patient_id)."""
    to_send = [r for r in stored_rows if r[7] == "yes" and "@" in r[4]]
    assert [r[0] for r in to_send] == [f"P{n:04}" for n in range(1, 25) if n not in (8, 11, 13, 15)]
    received = sorted(devmail.messages(), key=lambda m: parse(m)["Message-ID"])
    assert len(received) == len(to_send) == 20
    by_body = {parse(m).get_content().replace("\r\n", "\n"): m for m in received}
    for record in to_send:
        stored = by_body.pop(letter(record[3], record[0]))
        msg = parse(stored)
        assert stored.rcpt_tos == (record[4],)  # the stored (lower-case) address, that one alone
        assert msg["To"] == record[4] and msg["Cc"] is None and msg["Bcc"] is None
        assert msg["Subject"] == "Announcement: Dr. Smith is Retiring" and msg["From"] == "clinic@example.com"
        assert msg["Message-ID"] == message_ids[record[0]]  # noted on the record after the send
    assert by_body == {}


def test_process_2_stores_each_patient_and_mails_from_the_stored_row(cli, devmail, tutorial, patients_csv):
    ran = cli("run", "dr-smith-personal-letters", "--json", env=tutorial.env)
    assert ran.code == 0, ran
    record = ran.json()
    assert (record["status"], record["documents_failed"]) == ("complete", 0)
    assert record["connector_counts"]["store"] == {"completed": 24, "failed": 0}
    assert record["connector_counts"]["send"] == {"completed": 20, "failed": 0}
    # the table: one statement both databases take, nothing refused on either
    assert record["connector_counts"]["records-table"] == {"completed": 1, "failed": 0}
    assert all(counts["failed"] == 0 for counts in record["connector_counts"].values()), record

    rows = [as_text(r) for r in tutorial.rows()]
    assert rows == expected_rows(patients_csv)
    # the awkward rows are stored as the list has them
    assert rows[5][2] == "Smith, Jr." and rows[22][2] == "Mallory\nInjected" and rows[2][3] == "José Núñez"
    assert rows[6][4] == "olu.adeyemi@example.com"  # OLU.ADEYEMI@EXAMPLE.COM, lower-cased by the map
    notes = {r[0]: (r[1], r[2]) for r in tutorial.rows(
        "SELECT patient_id, letter_sent_at, letter_message_id FROM patient_records")}
    sent = {pid for pid, (at, _) in notes.items() if at is not None}
    assert sent == {r[0] for r in rows if r[7] == "yes" and "@" in r[4]}
    check_letters(devmail, rows, {pid: mid for pid, (_, mid) in notes.items() if mid})

    log = log_of(cli, record["id"])
    assert ("warning", "patient P0011 has no usable email address (): no letter sent") in log
    assert ("warning", "patient P0013 has no usable email address (not-an-email): no letter sent") in log
    assert ("info", "patient P0008 did not agree to email: no letter sent") in log
    # stored_at, filled in by the database, came back in the stored row and into the log
    # (SQLite's text and PostgreSQL's timestamp, both shown in ISO form)
    stored_at = dict(tutorial.rows("SELECT patient_id, stored_at FROM patient_records"))
    shown = dt.datetime.fromisoformat(str(stored_at["P0020"])).isoformat()
    assert ("info", f"letter sent to patient P0020 (record stored {shown})") in log


def test_the_run_summary_shows_no_failure(cli, devmail, tutorial):
    """What the user reads after postroom run: on SQLite and on PostgreSQL alike, every
    connector shape done and none failed (the table statement included)."""
    ran = cli("run", "dr-smith-personal-letters", env=tutorial.env)
    assert ran.code == 0, ran
    assert ": complete: 1 in, 25 out, 0 failed" in ran.stdout, ran.stdout  # the table statement + 24 records
    assert ("connector shapes: records-table 1 done, 0 failed; store 24 done, 0 failed; "
            "send 20 done, 0 failed; note-sent 20 done, 0 failed") in ran.stdout, ran.stdout
    assert re.findall(r"(\d+) failed", ran.stdout + ran.stderr) == ["0"] * 5, ran.stdout
    assert "error" not in (ran.stdout + ran.stderr).lower(), ran


def test_a_second_run_sends_nothing_and_adds_no_row(cli, devmail, tutorial, patients_csv):
    first = cli("run", "dr-smith-personal-letters", env=tutorial.env)
    assert first.code == 0, first
    before = tutorial.rows("SELECT * FROM patient_records ORDER BY patient_id")
    assert len(devmail.messages()) == 20

    again = cli("run", "dr-smith-personal-letters", "--json", env=tutorial.env)
    assert again.code == 0, again
    assert len(devmail.messages()) == 20  # no letter twice
    # same rows: none added, and stored_at (made with each record) and the letter notes kept
    assert tutorial.rows("SELECT * FROM patient_records ORDER BY patient_id") == before
    assert again.json()["connector_counts"]["store"] == {"completed": 24, "failed": 0}  # upserted
    assert "send" not in again.json()["connector_counts"]
    already = [m for level, m in log_of(cli, again.json()["id"]) if "already has their letter" in m]
    assert len(already) == 20 and already[0].startswith("patient P0001 already has their letter (sent 20")


def test_records_that_do_not_fit_the_list_fail_alone(cli, devmail, tutorial, workdir, patients_csv):
    listing = workdir / "list"
    listing.mkdir()
    rows = patients_csv.read_text(encoding="utf-8").rstrip("\n").split("\n")
    (listing / "patients.csv").write_text("\n".join(rows[:3] + BROKEN_ROWS + rows[3:]) + "\n", encoding="utf-8")
    process = tutorial.folder / "process-2-personal-letters.yaml"
    process.write_text(process.read_text().replace("directory: examples/data", "directory: list"))
    assert cli("import", "dr-smith", env=tutorial.env).code == 0

    ran = cli("run", "dr-smith-personal-letters", "--json", env=tutorial.env)
    assert ran.code == 1, ran  # some documents failed
    record = ran.json()
    assert (record["status"], record["documents_failed"]) == ("complete_with_errors", 3)
    errors = sorted(m for level, m in log_of(cli, record["id"]) if level == "error")
    # each document is one record under the header line kept by the split: line 2 of it
    prefix = "map dr-smith-patient-to-record: the document does not fit profile dr-smith-patient-list: line 2: field"
    assert errors == [
        f"document 4 failed: {prefix} patient_id: is required and empty",
        f"document 5 failed: {prefix} last_visit: '2026-02-30' is not a date (day is out of range for month) "
        "in the format yyyy-MM-dd",
        f"document 6 failed: {prefix} last_visit: '03/01/2026' does not match the date format yyyy-MM-dd",
    ]
    # the others are stored and mailed as without the broken rows
    assert [as_text(r) for r in tutorial.rows()] == expected_rows(patients_csv)
    assert len(devmail.messages()) == 20
