"""What ``documents out`` means and how it is shown (issue 7, items 7 and 21): the documents
the connector shapes delivered, each once, with what each connector shape completed and
failed; path ends only in a process without connector shapes. And ``executions list
--status`` takes the status as it is displayed."""

from __future__ import annotations

import shutil

import pytest

from support.smtpkit import TinySmtp, letters_yaml
from support.testsupport import ROOT

PATIENTS = """\
patient_id,first_name,last_name,email,preferred_language,last_visit,email_consent
P1,Alice,Walker,alice.walker@example.com,en,2026-10-02,yes
P2,Bob,Nguyen,not-an-address,en,2026-09-14,yes
P3,Carla,Diaz,carla.diaz@example.org,es,2026-08-01,yes
P4,Dan,Moe,,en,2026-07-12,yes
"""


def test_the_tutorial_reports_each_delivered_document_once(cli, workdir, devmail):
    """Dr. Smith's personal letters to four patients, two of them without a usable address:
    two letters go out. Since issue 10 the tutorial stores each patient in a database first,
    so the run says 5 out: the table's document and the four stored records, each once,
    although two of them then also went through send and note-sent (before the database it
    said 2 out for the two letters; before issue 7 it counted every path end)."""
    folder = workdir / "dr-smith"
    shutil.copytree(ROOT / "examples" / "dr-smith", folder)
    (workdir / "list").mkdir()
    (workdir / "list" / "patients.csv").write_text(PATIENTS, encoding="utf-8")
    process = folder / "process-2-personal-letters.yaml"
    process.write_text(process.read_text().replace("directory: examples/data", "directory: list"))
    connections = folder / "connections.yaml"
    connections.write_text(connections.read_text().replace("port: 2465", f"port: {devmail.smtps_port}"))
    env = {"POSTROOM_DEVMAIL_CA": str(devmail.ca_file)}
    assert cli("secrets", "set", "devmail-password", input="app-password-123\n").code == 0
    assert cli("import", "dr-smith", env=env).code == 0

    ran = cli("run", "dr-smith-personal-letters", env=env)
    assert ran.code == 0, ran
    assert sorted(m.rcpt_tos[0] for m in devmail.messages()) == ["alice.walker@example.com",
                                                                 "carla.diaz@example.org"]
    assert ": complete: 1 in, 5 out, 0 failed" in ran.stdout
    counts = ("records-table 1 done, 0 failed; store 4 done, 0 failed; send 2 done, 0 failed; "
              "note-sent 2 done, 0 failed")
    assert f"connector shapes: {counts}" in ran.stdout
    execution_id = ran.stdout.split()[1].rstrip(":")
    shown = cli("executions", "show", execution_id)
    assert "documents 1 in, 5 out, 0 failed" in shown.stdout
    assert f"connector shapes  {counts}" in shown.stdout
    listed = cli("executions", "list", "--json").json()
    assert listed[0]["documents_out"] == 5
    assert listed[0]["connector_counts"] == {"records-table": {"completed": 1, "failed": 0},
                                             "store": {"completed": 4, "failed": 0},
                                             "send": {"completed": 2, "failed": 0},
                                             "note-sent": {"completed": 2, "failed": 0}}


@pytest.fixture
def dropping_server():
    smtp = TinySmtp(accept_limit=7).start()
    yield smtp
    smtp.stop()


def test_a_server_that_goes_away_mid_batch(cli, workdir, dropping_server):
    """The server takes 7 of 20 letters and goes away: the 7 are recorded out and filed by
    the next shape; the 13 others fail with the server's error (they were recorded failed
    and never reached the next shape)."""
    rows = ["patient_id,first_name,last_name,email,preferred_language,last_visit,email_consent"]
    rows += [f"P{n:02},Name{n},X,p{n}@example.com,en,2026-01-01,yes" for n in range(1, 21)]
    (workdir / "patients.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (workdir / "filed").mkdir()
    yaml = letters_yaml(dropping_server.port, write_to=str(workdir / "filed"), max_retries=1)
    (workdir / "c.yaml").write_text(yaml.replace("timeout_seconds: 10", "timeout_seconds: 10, max_sessions: 1"),
                                    encoding="utf-8")
    assert cli("import", "c.yaml").code == 0

    ran = cli("run", "letters", "--input", "patients.csv")
    assert ran.code == 1, ran
    sent = sorted(r for m in dropping_server.messages for r in m.rcpt_tos)
    assert sent == [f"p{n}@example.com" for n in range(1, 8)]
    assert sorted(p.name for p in (workdir / "filed").iterdir()) == [f"P{n:02}.txt" for n in range(1, 8)]
    assert ": complete with errors: 1 in, 7 out, 13 failed" in ran.stdout
    assert "connector shapes: send 7 done, 13 failed; write 7 done, 0 failed" in ran.stdout

    record = cli("executions", "list", "--json").json()[0]
    shown = cli("executions", "show", record["id"], "--json").json()
    assert len(shown["errors"]) == 13 and {e["shape"] for e in shown["errors"]} == {"send"}

    # the status as displayed filters (it said "no executions yet")
    for spelling in ("complete with errors", "complete_with_errors", "Complete-With-Errors"):
        listed = cli("executions", "list", "--status", spelling)
        assert listed.code == 0 and record["id"] in listed.stdout, (spelling, listed)
    assert cli("executions", "list", "--status", "complete", "--json").json() == []
    wrong = cli("executions", "list", "--status", "done")
    assert wrong.code == 2 and "complete with errors" in wrong.stderr


def test_a_process_without_connector_shapes_counts_its_path_ends(cli, workdir):
    (workdir / "p.yaml").write_text("""\
type: process
name: notes
id: notes
shapes:
  start: {type: start, next: csv}
  csv: {type: message, text: "a\\nb\\nc", next: split}
  split: {type: data_process, steps: [{type: split}], next: note}
  note: {type: notify, message: "{1}", parameters: [{document_property: none}]}
""", encoding="utf-8")
    assert cli("import", "p.yaml").code == 0
    ran = cli("run", "notes", "--json")
    assert ran.code == 0, ran
    assert ran.json()["documents_out"] == 3 and ran.json()["connector_counts"] == {}
