"""A CSV → JSON map over examples/data/patients.csv through postroom import + postroom run."""

import csv
import json

from support.testsupport import ROOT

MAP = """\
type: profile
id: patient-csv
name: Patient CSV
fields: [patient_id, first_name, last_name, {name: email, required: true}, preferred_language,
         {name: last_visit, type: date, format: yyyy-MM-dd}, email_consent]
---
type: profile
id: patient-record
name: Patient record
profile_type: json
elements:
  - name: RecordData
    type: object
    elements: [Id, Full Name, {name: Email Address, required: true}, Last Visit, Language, Consent]
---
type: cross_reference
id: consent-codes
columns: [code, label]
rows: [[yes, granted], [no, refused]]
---
type: map
id: patient-csv-to-record
name: Patient CSV to record
from_profile: patient-csv
to_profile: patient-record
mappings:
  - {from: patient_id, to: RecordData.Id}
  - {to: RecordData.Full Name, function: concat, inputs: [{from: first_name}, " ", {from: last_name}]}
  - {from: email, to: RecordData.Email Address}
  - {to: RecordData.Last Visit, function: date_format, inputs: [{from: last_visit}],
     input_format: yyyy-MM-dd, output_format: M/d/yyyy}
  - {to: RecordData.Language, function: upper, inputs: [{from: preferred_language}]}
  - {to: RecordData.Consent, function: cross_reference, table: consent-codes, inputs: [{from: email_consent}],
     match: code, output: label, default: unknown}
---
type: connection
connector: disk
name: Out
id: out
settings: {directory: .}
---
type: operation
connector: disk
name: Write
id: write
settings: {action: send, write_option: append}
---
type: process
name: Patients to records
id: patients-to-records
shapes:
  start: {type: start, mode: data_passthrough, next: split}
  split: {type: data_process, steps: [{type: split, headers: retain}], next: map}
  map: {type: map, map: patient-csv-to-record, next: line}
  line: {type: data_process, steps: [{type: search_replace, pattern: "$", replacement: "\\n"}], next: name}
  name: {type: set_properties, properties: [{property: disk.file_name, value: [records.jsonl]}], next: write}
  write: {type: connector, connection: out, operation: write}
"""


def _expected(row: dict[str, str]) -> dict:
    year, month, day = row["last_visit"].split("-")
    return {"RecordData": {
        "Id": row["patient_id"], "Full Name": f"{row['first_name']} {row['last_name']}",
        "Email Address": row["email"], "Last Visit": f"{int(month)}/{int(day)}/{year}",
        "Language": row["preferred_language"].upper(),
        "Consent": {"yes": "granted", "no": "refused"}.get(row["email_consent"], "unknown")}}


def test_patients_csv_becomes_json_records(cli, workdir):
    (workdir / "map.yaml").write_text(MAP, encoding="utf-8")
    imported = cli("import", "map.yaml")
    assert imported.code == 0, imported.stderr
    ran = cli("run", "patients-to-records", "--input", "examples/data/patients.csv", "--json")
    source = ROOT / "examples" / "data" / "patients.csv"
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    good = [r for r in rows if r["email"].strip()]
    assert ran.json()["documents_failed"] == len(rows) - len(good), ran.stdout
    lines = (workdir / "records.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [_expected(r) for r in good]


BAD = MAP.replace("{from: email, to: RecordData.Email Address}", "{from: e_mail, to: RecordData.Email Address}") \
    .replace("to: RecordData.Language,", "to: RecordData.Tongue,") \
    .replace("match: code, output: label", "match: code, output: text")


def test_import_names_the_map_the_mapping_the_path_and_the_fix(cli, workdir):
    (workdir / "map.yaml").write_text(BAD, encoding="utf-8")
    imported = cli("import", "map.yaml")
    assert imported.code == 2
    err = imported.stderr
    assert ("map.yaml:29: field mappings.2.from: map patient-csv-to-record: mapping 3 (from: e_mail): no such "
            "field in the profile (use an element of profile patient-csv: patient_id, first_name, last_name, "
            "email,") in err, err
    assert ("map.yaml:32: field mappings.4.to: map patient-csv-to-record: mapping 5 (to: RecordData.Tongue): no "
            "such element in the profile (use an element of profile patient-record: RecordData.Id, "
            "RecordData.Full Name, RecordData.Email Address, RecordData.Last Visit, RecordData.Language, "
            "RecordData.Consent)") in err
    assert ("map.yaml:33: field mappings.5.table: map patient-csv-to-record: mapping 6 (to: RecordData.Consent): "
            "output 'text' is not a column of consent-codes (use one of: code, label)") in err
    assert cli("components", "list", "--json").json() == []


SCRIPTED = """\
type: profile
id: item-csv
name: Item CSV
fields: [name, qty]
---
type: profile
id: item-json
name: Item JSON
profile_type: json
elements: [Name, Half]
---
type: map
id: item-map
name: Item map
from_profile: item-csv
to_profile: item-json
mappings:
  - {from: name, to: Name}
  - {to: Half, function: script, inputs: [{from: qty}],
     expression: "EXPRESSION"}
---
type: process
name: Items
id: items
shapes:
  start: {type: start, mode: data_passthrough, next: split}
  split: {type: data_process, steps: [{type: split, headers: retain}], next: map}
  map: {type: map, map: item-map, next: show}
  show: {type: notify, message: "{1}", parameters: [{current_data: true}]}
"""


def test_a_script_mapping_runs_and_a_bad_record_fails_alone(cli, workdir):
    (workdir / "map.yaml").write_text(SCRIPTED.replace("EXPRESSION", "int(inputs[0]) / 2"), encoding="utf-8")
    (workdir / "items.csv").write_text("name,qty\nbolt,4\nnut,many\nwasher,1\n", encoding="utf-8")
    assert cli("import", "map.yaml").code == 0
    ran = cli("run", "items", "--input", "items.csv", "--json")
    assert ran.code == 1, ran.stdout + ran.stderr
    record = ran.json()
    assert [e["message"] for e in record["errors"]] == [
        "map item-map: mapping 2 (to Half): the script raised ValueError: invalid literal for int() with base 10: "
        "'many' (line 1 of the expression)"]
    log = [e["message"] for e in cli("executions", "show", record["id"], "--json").json()["log"]]
    assert [m for m in log if m.startswith("{")] == ['{"Name": "bolt", "Half": "2.0"}',
                                                      '{"Name": "washer", "Half": "0.5"}']


def test_an_expression_that_does_not_compile_is_refused_at_import(cli, workdir):
    (workdir / "map.yaml").write_text(SCRIPTED.replace("EXPRESSION", "inputs[0] +"), encoding="utf-8")
    imported = cli("import", "map.yaml")
    assert imported.code == 2
    assert ("map.yaml:20: field mappings.1.expression: the script expression does not compile: invalid syntax "
            "(line 1 of the expression); write one Python expression over inputs, such as "
            "inputs[0].strip().title()") in imported.stderr, imported.stderr
    (workdir / "map.yaml").write_text(SCRIPTED.replace("EXPRESSION", "inputs[0]"), encoding="utf-8")
    off = cli("import", "map.yaml", env={"POSTROOM_ALLOW_SCRIPTS": "false"})
    assert off.code == 2
    assert ("map.yaml:19: field mappings.1.function: map item-map: mapping 2 is a script and scripts are turned "
            "off (POSTROOM_ALLOW_SCRIPTS=false) (use another function, or set POSTROOM_ALLOW_SCRIPTS=true to allow "
            "scripts)") in off.stderr, off.stderr
    assert cli("components", "list", "--json").json() == []
