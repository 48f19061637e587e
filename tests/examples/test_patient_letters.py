"""The patient-letters example: disk in, split with header retained, decision, letters out."""

import csv
import shutil

from support.testsupport import ROOT

EXAMPLE = ROOT / "examples" / "patient-letters"


def expected_letters(patients_csv):
    letters = {}
    with open(patients_csv, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["email_consent"] == "yes":
                letters[f"{row['patient_id']}.txt"] = (
                    f"Dear {row['first_name']} {row['last_name']},\n\n"
                    "Dr. Smith is retiring at the end of the year. We'll make sure your records move\n"
                    "to the physician of your choice.\n\nKind regards,\nThe clinic\n"
                )
    return letters


def test_example_writes_one_exact_letter_per_consenting_patient(cli, workdir, patients_csv):
    shutil.copytree(EXAMPLE, workdir / "example")
    imported = cli("import", "example")
    assert imported.code == 0, imported
    ran = cli("run", "patient-letters", "--json")
    assert ran.code == 0, ran
    record = ran.json()
    assert record["status"] == "complete"
    assert record["documents_in"] == 1
    assert record["errors"] == []

    letters_dir = workdir / "out" / "letters"
    written = {p.name: p.read_text(encoding="utf-8") for p in letters_dir.iterdir()}
    expected = expected_letters(patients_csv)
    assert set(written) == set(expected)
    assert written == expected
    # the awkward rows arrive intact
    assert written["P0003.txt"].startswith("Dear José Núñez,\n")
    assert written["P0004.txt"].startswith("Dear Zoë O'Brien,\n")
    assert written["P0006.txt"].startswith("Dear Margaret Smith, Jr.,\n")
    assert written["P0023.txt"].startswith("Dear Eve Mallory\nInjected,\n")
    assert "P0008.txt" not in written and "P0015.txt" not in written
    assert "P0024.txt" in written  # the record after the multi-line one is not lost


def test_true_documents_finish_before_false_ones(cli, workdir):
    shutil.copytree(EXAMPLE, workdir / "example")
    assert cli("import", "example").code == 0
    ran = cli("run", "patient-letters", "--json")
    shown = cli("executions", "show", ran.json()["id"], "--json")
    assert shown.code == 0, shown
    shapes = [entry["shape"] for entry in shown.json()["log"] if entry["shape"] in ("written", "no-consent")]
    assert shapes.count("written") == 22 and shapes.count("no-consent") == 2
    assert shapes == sorted(shapes, key=lambda s: s != "written")  # every letter before any refusal


def test_test_mode_keeps_documents_at_every_shape(cli, workdir):
    shutil.copytree(EXAMPLE, workdir / "example")
    assert cli("import", "example").code == 0
    ran = cli("run", "patient-letters", "--test", "--json")
    assert ran.code == 0, ran
    shown = cli("executions", "show", ran.json()["id"], "--documents", "--json").json()
    at_letter = [d for d in shown["documents"] if d["shape"] == "letter"]
    assert len(at_letter) == 22
    # a document entering the Message shape is the CSV record with its header retained
    assert at_letter[0]["data"].splitlines()[0] == (
        "patient_id,first_name,last_name,email,preferred_language,last_visit,email_consent")
    assert at_letter[0]["properties"]["disk.file_name"] == "P0001.txt"


def test_dry_run_writes_nothing_and_records_each_write(cli, workdir):
    shutil.copytree(EXAMPLE, workdir / "example")
    assert cli("import", "example").code == 0
    ran = cli("run", "patient-letters", "--dry-run", "--json")
    assert ran.code == 0, ran
    assert not (workdir / "out").exists()
    shown = cli("executions", "show", ran.json()["id"], "--documents", "--json").json()
    writes = [d for d in shown["dry_runs"] if d["action"] == "disk.write"]
    assert len(writes) == 22
    first_line, _, body = writes[0]["payload"].partition("\n")
    assert first_line.endswith("out/letters/P0001.txt")
    assert body.startswith("Dear Alice Walker,")


def test_test_mode_says_when_it_cuts(cli, workdir):
    shutil.copytree(EXAMPLE, workdir / "example")
    assert cli("import", "example").code == 0
    ran = cli("run", "patient-letters", "--test", "--keep-documents", "5", "--json")
    assert ran.code == 0, ran
    assert ran.json()["truncated"] is True
    shown = cli("executions", "show", ran.json()["id"], "--documents", "--json").json()
    per_shape = {}
    for doc in shown["documents"]:
        per_shape[doc["shape"]] = per_shape.get(doc["shape"], 0) + 1
    assert per_shape["letter"] == 5 and max(per_shape.values()) == 5
    assert any("test mode keeps at most 5 documents per shape" in e["message"] for e in shown["log"])
    text = cli("executions", "show", ran.json()["id"], "--documents").stdout
    assert "cut at the test-mode limit" in text
