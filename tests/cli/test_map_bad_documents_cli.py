"""Bad documents through a Map, from the command line: each fails alone with the map, the
profile or mapping, the field and the reason; the good ones go on (exit 1, not a dead run).
Bad maps at import: exit 2, naming the file, line, field and fix, and nothing is stored."""

import json

MAP = """\
type: profile
id: visit-csv
name: Visit CSV
fields:
  - {name: patient, required: true}
  - {name: day, type: date, format: M/d/yyyy}
  - {name: fee, type: number, format: "#,##0.00"}
  - paid
  - count
---
type: profile
id: visit-json
name: Visit JSON
profile_type: json
elements:
  - name: Visit
    type: object
    elements: [Patient, Day, {name: Fee, type: number}, {name: Paid, type: boolean}, {name: Count, type: number}]
---
type: map
id: visit-map
name: Visit map
from_profile: visit-csv
to_profile: visit-json
mappings:
  - {from: patient, to: Visit.Patient}
  - {to: Visit.Day, function: date_format, inputs: [{from: day}], input_format: M/d/yyyy, output_format: yyyy-MM-dd}
  - {to: Visit.Fee, function: number_format, inputs: [{from: fee}], input_format: "#,##0.00", output_format: "0.00"}
  - {from: paid, to: Visit.Paid}
  - {from: count, to: Visit.Count}
---
type: process
name: Visits
id: visits
shapes:
  start: {type: start, mode: data_passthrough, next: split}
  split: {type: data_process, steps: [{type: split, headers: retain}], next: map}
  map: {type: map, map: visit-map, next: show}
  show: {type: notify, message: "{1}", parameters: [{current_data: true}]}
"""

DATA = """\
patient,day,fee,paid,count
Ann,3/7/2024,"1,200.50",yes,2
,3/8/2024,10.00,no,1
Bob,2024-03-09,10.00,no,1
Cy,3/10/2024,ten,no,1
Di,3/11/2024,5.00,maybe,1
Ed,3/12/2024,5.00,y,many
"""


def test_each_bad_record_fails_alone_naming_the_field_and_reason(cli, workdir):
    (workdir / "map.yaml").write_text(MAP, encoding="utf-8")
    (workdir / "visits.csv").write_text(DATA, encoding="utf-8")
    assert cli("import", "map.yaml").code == 0
    ran = cli("run", "visits", "--input", "visits.csv", "--json")
    assert ran.code == 1, ran.stdout + ran.stderr
    record = ran.json()
    assert record["status"] == "complete_with_errors"
    assert [e["message"] for e in record["errors"]] == [
        "map visit-map: the document does not fit profile visit-csv: line 2: field patient: is required and empty",
        "map visit-map: the document does not fit profile visit-csv: line 2: field day: '2024-03-09' does not "
        "match the date format M/d/yyyy",
        "map visit-map: the document does not fit profile visit-csv: line 2: field fee: 'ten' is not a number in "
        "the format #,##0.00",
        "map visit-map: mapping 4 (to Visit.Paid): 'maybe' is not true or false, and profile visit-json has "
        "Visit.Paid as a boolean (map true/false, yes/no, y/n or 1/0)",
        "map visit-map: mapping 5 (to Visit.Count): 'many' is not a number, and profile visit-json has "
        "Visit.Count as a number (map a number here, or change the element's type)",
    ]
    log = [e["message"] for e in cli("executions", "show", record["id"], "--json").json()["log"]]
    assert [json.loads(m) for m in log if m.startswith("{")] == [
        {"Visit": {"Patient": "Ann", "Day": "2024-03-07", "Fee": 1200.5, "Paid": True, "Count": 2}}]


def _refused(cli, workdir, old: str, new: str) -> str:
    assert old in MAP
    (workdir / "map.yaml").write_text(MAP.replace(old, new), encoding="utf-8")
    imported = cli("import", "map.yaml")
    assert imported.code == 2, imported.stdout + imported.stderr
    assert cli("components", "list", "--json").json() == []
    return imported.stderr


def test_bad_maps_and_profiles_are_refused_at_import(cli, workdir):
    err = _refused(cli, workdir, "input_format: M/d/yyyy,", "input_format: M/d/yyyy EEE QQ,")
    assert ("map.yaml:27: field mappings.1: input_format 'M/d/yyyy EEE QQ' of the function date_format: Q is not "
            "a pattern letter Postroom reads") in err, err
    err = _refused(cli, workdir, "{name: day, type: date, format: M/d/yyyy}", "{name: day, type: date, format: d/M/y/M}")
    assert ("map.yaml:6: field fields.1.format: format 'd/M/y/M' for a date: the month appears twice (M); a "
            "pattern reads each part once; for example format: 'M/d/yyyy'") in err, err
    err = _refused(cli, workdir, "{name: fee, type: number,", "{name: fee, type: money,")
    assert ("map.yaml:7: field fields.2.type: Input should be 'text', 'number', 'date' or 'boolean'") in err, err
    err = _refused(cli, workdir, "{from: count, to: Visit.Count}", "{from: count, to: Visit.Total}")
    assert ("map.yaml:30: field mappings.4.to: map visit-map: mapping 5 (to: Visit.Total): no such element in the "
            "profile (use an element of profile visit-json: Visit.Patient, Visit.Day, Visit.Fee, Visit.Paid, "
            "Visit.Count)") in err, err
    err = _refused(cli, workdir, "output_format: \"0.00\"}", "output_format: \"0.00\", digits: two}")
    assert "map.yaml:28: field mappings.2.digits: Input should be a valid integer" in err, err


READS = """\
type: profile
id: visit-csv
name: Visit CSV
fields: [patient, email]
---
type: profile
id: visit-json
name: Visit JSON
profile_type: json
elements: [{name: Visit, type: object, elements: [Patient, Email]}]
---
type: process
name: Reads
id: reads
profile: visit-csv
shapes:
  start: {type: start, mode: data_passthrough, next: check}
  check:
    type: decision
    first: {profile_element: e_mail}
    comparison: equals
    second: ""
    true: note
  note:
    type: notify
    message: "{1} {2}"
    parameters: [{profile_element: patient}, {profile_element: Visit.Mail, profile: visit-json}]
"""


def test_a_profile_element_naming_no_element_of_its_profile_is_refused_at_import(cli, workdir):
    (workdir / "reads.yaml").write_text(READS, encoding="utf-8")
    imported = cli("import", "reads.yaml")
    assert imported.code == 2, imported.stdout + imported.stderr
    err = imported.stderr
    assert ("reads.yaml:20: shape check: field first: profile_element 'e_mail' (read through profile "
            "visit-csv): no such field in the profile (use an element of profile visit-csv: patient, email, or "
            "name the profile the document has at this shape (profile: ID on the value))") in err, err
    assert ("reads.yaml:27: shape note: field parameters.1: profile_element 'Visit.Mail' (read through "
            "profile visit-json): no such element in the profile (use an element of profile visit-json: "
            "Visit.Patient, Visit.Email, or name") in err, err
    assert cli("components", "list", "--json").json() == []
    fixed = READS.replace("e_mail", "email").replace("Visit.Mail", "Visit.Email")
    (workdir / "reads.yaml").write_text(fixed, encoding="utf-8")
    assert cli("import", "reads.yaml").code == 0
