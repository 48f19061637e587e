"""The database connector as a user runs it: ``postroom import`` and ``postroom run``
against real SQLite and PostgreSQL, the rows read back with plain SQL afterwards."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

CONNECTION = """\
type: connection
connector: database
id: clinic-db
name: Clinic database
settings:
  url: {url}
"""

INSERT = """\
type: operation
connector: database
id: store-patient
name: Store the patient
settings:
  action: {action}
  table: patients
  returning: true
{extra}"""

PROCESS = """\
type: process
id: store
name: Store patients
start: start
shapes:
  start: {type: start, mode: data_passthrough, next: store}
  store:
    type: connector
    connection: clinic-db
    operation: store-patient
    next: keep
  keep:
    type: set_properties
    properties:
      - property: disk.file_name
        value: [{profile_element: patient_id}, ".json"]
    next: write
  write: {type: connector, connection: out-folder, operation: write-file}
---
type: connection
connector: disk
id: out-folder
name: Out
settings: {directory: out}
---
type: operation
connector: disk
id: write-file
name: Write
settings: {action: send, write_option: overwrite, sync_to_disk: false}
"""

INJECTIONS = ["Robert'); DROP TABLE patients;--", "x' OR '1'='1", "a\"; DELETE FROM patients; --", ":name \\:x ?"]


def _import(cli, workdir, name: str, *texts: str):  # noqa: ANN001, ANN202
    folder = workdir / name
    folder.mkdir()
    for n, content in enumerate(texts):
        (folder / f"{n}.yaml").write_text(content, encoding="utf-8")
    return cli("import", name)


def _failures(cli, execution_id: str) -> list[str]:  # noqa: ANN001
    shown = cli("executions", "show", execution_id, "--json").json()
    return [entry["message"] for entry in shown["log"] if entry["level"] == "error"]


def test_insert_stores_rows_a_refused_row_fails_alone_and_injection_is_data(cli, workdir, database, write_files):
    database.create_patients()
    imported = _import(cli, workdir, "components", CONNECTION.format(url=database.url),
                       INSERT.format(action="insert", extra=""), PROCESS)
    assert imported.code == 0, imported
    inputs = write_files("in", {
        "1.json": json.dumps({"patient_id": "P1", "name": "Alice Walker", "email": "alice@example.com",
                              "born": "1980-02-01", "balance": "12.50"}),
        "2.json": json.dumps({"patient_id": "P1", "name": "Second Alice"}),  # the same patient_id: refused
        "3.json": json.dumps([{"patient_id": f"I{n}", "name": text} for n, text in enumerate(INJECTIONS)]),
        "4.json": json.dumps({"patient_id": "P4", "name": "Nobody", "nickname": "N"}),  # no such column
        "5.json": "not json",
    })
    ran = cli("run", "store", *inputs, "--json")
    assert ran.code == 1, ran  # some documents failed
    assert (ran.json()["documents_failed"], ran.json()["status"]) == (3, "complete_with_errors")
    rows = database.rows("SELECT id, patient_id, name, email, born, balance FROM patients ORDER BY id")
    assert [r[1:4] for r in rows] == [("P1", "Alice Walker", "alice@example.com")] + [
        (f"I{n}", text, None) for n, text in enumerate(INJECTIONS)]
    assert str(rows[0][4]) == "1980-02-01" and Decimal(str(rows[0][5])) == Decimal("12.50")
    assert database.rows("SELECT count(*) FROM patients") == [(5,)]  # the table is intact
    # returning: the document became the stored row, generated id included
    stored = json.loads((workdir / "out" / "P1.json").read_text())
    assert stored["id"] == rows[0][0] and stored["born"] == "1980-02-01" and stored["name"] == "Alice Walker"
    errors = "\n".join(_failures(cli, ran.json()["id"]))
    assert "table patients refused the row" in errors and "patient_id" in errors.lower()
    assert "column 'nickname' is not in table patients (its columns: id, patient_id, name, email, born, balance)" in errors
    assert "the document is not JSON" in errors


def test_upsert_updates_the_row_with_the_same_key(cli, workdir, database, write_files):
    database.create_patients()
    upsert = INSERT.format(action="upsert", extra="  key_columns: [patient_id]\n")
    assert _import(cli, workdir, "components", CONNECTION.format(url=database.url), upsert, PROCESS).code == 0
    first = cli("run", "store", *write_files("a", {"1.json": '{"patient_id": "P1", "name": "Alice", "email": "a@x"}'}))
    assert first.code == 0, first
    second = cli("run", "store", *write_files("b", {
        "1.json": '{"patient_id": "P1", "name": "Alice Walker"}', "2.json": '{"patient_id": "P2", "name": "Bob"}'}))
    assert second.code == 0, second
    # P1 keeps its row (id 1); PostgreSQL spends a sequence number on the conflicting insert
    assert database.rows("SELECT id, patient_id, name, email FROM patients WHERE id = 1") == [
        (1, "P1", "Alice Walker", "a@x")]
    assert database.rows("SELECT patient_id, name, email FROM patients ORDER BY id") == [
        ("P1", "Alice Walker", "a@x"), ("P2", "Bob", None)]
    assert json.loads((workdir / "out" / "P1.json").read_text())["name"] == "Alice Walker"


QUERY = """\
type: operation
connector: database
id: read-patients
name: Patients born after
settings:
  action: query
  sql: "SELECT patient_id, name, born, balance FROM patients WHERE born > :after ORDER BY patient_id"
  parameters: {after: {profile_element: after}}
---
type: process
id: read
name: Read patients
start: start
shapes:
  start: {type: start, mode: data_passthrough, next: query}
  query: {type: connector, connection: clinic-db, operation: read-patients, next: keep}
  keep:
    type: set_properties
    properties:
      - property: disk.file_name
        value: [{profile_element: patient_id}, ".json"]
    next: write
  write: {type: connector, connection: out-folder, operation: write-file}
"""


def test_query_gives_a_document_per_row_with_exact_values(cli, workdir, database, write_files):
    database.create_patients()
    for n, born in enumerate(["1970-05-06", "1990-01-02", "2001-12-31"], 1):
        database.sql("INSERT INTO patients (patient_id, name, born, balance) VALUES (:p, :n, :b, :m)",
                     p=f"P{n}", n=f"Zoë {n}", b=born, m="1234.05")
    process = PROCESS.split("---", 1)[1]
    assert _import(cli, workdir, "components", CONNECTION.format(url=database.url), QUERY, process).code == 0
    ran = cli("run", "read", *write_files("in", {"q.json": '{"after": "1980-01-01"}'}), "--json")
    assert ran.code == 0, ran
    assert sorted(p.name for p in (workdir / "out").iterdir()) == ["P2.json", "P3.json"]
    assert json.loads((workdir / "out" / "P2.json").read_text(encoding="utf-8")) == {
        "patient_id": "P2", "name": "Zoë 2", "born": "1990-01-02",
        # PostgreSQL's numeric is a decimal, given as its exact text; SQLite keeps a number
        "balance": "1234.05" if database.kind == "postgresql" else 1234.05}


EXECUTE = """\
type: operation
connector: database
id: deactivate
name: Zero the balance
settings:
  action: execute
  sql: "UPDATE patients SET balance = 0 WHERE name = :name"
  parameters: {name: {profile_element: name}}
---
type: process
id: zero
name: Zero balances
start: start
shapes:
  start: {type: start, mode: data_passthrough, next: run}
  run: {type: connector, connection: clinic-db, operation: deactivate, next: log}
  log: {type: notify, message: "{1} row(s)", parameters: [{document_property: database.row_count}]}
"""


def test_execute_binds_per_document_and_reports_the_row_count(cli, workdir, database, write_files):
    database.create_patients()
    for n, name in enumerate(["Ann", "Ann", INJECTIONS[0]]):
        database.sql("INSERT INTO patients (patient_id, name, balance) VALUES (:p, :n, 5)", p=f"P{n}", n=name)
    assert _import(cli, workdir, "components", CONNECTION.format(url=database.url), EXECUTE).code == 0
    ran = cli("run", "zero", *write_files("in", {"1.json": '{"name": "Ann"}',
                                                  "2.json": json.dumps({"name": "' OR 1=1 --"})}), "--json")
    assert ran.code == 0, ran
    log = [e["message"] for e in cli("executions", "show", ran.json()["id"], "--json").json()["log"]]
    assert "2 row(s)" in log and "0 row(s)" in log
    assert [(name, Decimal(str(balance))) for name, balance in
            database.rows("SELECT name, balance FROM patients ORDER BY patient_id")] == [
        ("Ann", Decimal(0)), ("Ann", Decimal(0)), (INJECTIONS[0], Decimal(5))]


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)  # SQLite takes any type in any column
def test_a_wrong_type_fails_that_document_only_on_postgresql(cli, workdir, database, write_files):
    database.create_patients()
    assert _import(cli, workdir, "components", CONNECTION.format(url=database.url),
                   INSERT.format(action="insert", extra=""), PROCESS).code == 0
    ran = cli("run", "store", *write_files("in", {
        "1.json": '{"patient_id": "P1", "name": "Ann", "balance": "a lot"}',
        "2.json": '{"patient_id": "P2", "name": "Bob", "born": "31/12/1999"}',
        "3.json": '{"patient_id": "P3", "name": "Cy", "balance": 7.25}',
        "4.json": '{"patient_id": "P4"}'}), "--json")
    assert ran.code == 1, ran
    assert database.rows("SELECT patient_id, balance FROM patients") == [("P3", Decimal("7.25"))]
    errors = "\n".join(_failures(cli, ran.json()["id"]))
    assert "invalid input syntax for type numeric" in errors
    assert "column born: '31/12/1999' is not a date in ISO form" in errors
    assert 'null value in column "name"' in errors


@pytest.mark.parametrize("password", ["s3cret-Pa55word"])
def test_an_unreachable_database_is_exit_3_without_the_password(cli, workdir, write_files, password):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    connection = CONNECTION.format(url=f"postgresql://clinic@127.0.0.1:{port}/clinic") + \
        "  password: ${secret:clinic-db-password}\n"
    assert cli("secrets", "set", "clinic-db-password", input=password).code == 0
    assert _import(cli, workdir, "components", connection, INSERT.format(action="insert", extra=""), PROCESS).code == 0
    ran = cli("run", "store", *write_files("in", {"1.json": '{"patient_id": "P1", "name": "Ann"}'}))
    assert ran.code == 3, ran
    assert "could not reach the database at postgresql+psycopg://clinic:***@127.0.0.1" in ran.stdout + ran.stderr
    tested = cli("connections", "test", "clinic-db")
    assert tested.code == 3, tested
    for text in (ran.stdout, ran.stderr, tested.stdout, tested.stderr):
        assert password not in text


def test_connection_test_reports_the_dialect_and_server_version(cli, workdir, database):
    assert _import(cli, workdir, "components", CONNECTION.format(url=database.url)).code == 0
    tested = cli("connections", "test", "clinic-db")
    assert tested.code == 0, tested
    assert f"dialect: {database.kind}" in tested.stdout.replace("  ", " ") or database.kind in tested.stdout
    assert ("SQLite 3." if database.kind == "sqlite" else "PostgreSQL 1") in tested.stdout


BAD_SQL = """\
type: operation
connector: database
id: read-typo
name: A typo in the sql
settings:
  action: query
  sql: "SELEC patient_id FROM patients"
---
type: process
id: typo
name: Typo
shapes:
  start: {type: start, next: query}
  query: {type: connector, connection: clinic-db, operation: read-typo}
"""


def test_bad_sql_fails_the_document_naming_the_operation_and_the_fix(cli, workdir, database):
    database.create_patients()
    assert _import(cli, workdir, "components", CONNECTION.format(url=database.url), BAD_SQL).code == 0
    ran = cli("run", "typo", "--json")
    assert ran.code == 1, ran
    [error] = _failures(cli, ran.json()["id"])
    assert "operation read-typo: sql: the database refused the query: " in error
    assert "syntax error" in error and error.endswith("(fix sql in the operation and import it again)")


MISSING_TABLE = INSERT.replace("table: patients", "table: patient")


def test_a_table_that_does_not_exist_is_exit_2_with_the_fix(cli, workdir, database, write_files):
    database.create_patients()
    assert _import(cli, workdir, "components", CONNECTION.format(url=database.url),
                   MISSING_TABLE.format(action="insert", extra=""), PROCESS).code == 0
    ran = cli("run", "store", *write_files("in", {"1.json": '{"patient_id": "P1", "name": "Ann"}'}))
    assert ran.code == 2, ran
    assert "field table: table 'patient' does not exist in the database (create the table, or fix table in the " \
           "operation)" in ran.stdout + ran.stderr


QUERY_START = """\
type: operation
connector: database
id: all-patients
name: All patients
settings: {action: query, sql: "SELECT patient_id, name FROM patients ORDER BY patient_id"}
---
type: process
id: from-db
name: From the database
start: start
shapes:
  start: {type: start, mode: connector, connection: clinic-db, operation: all-patients, next: log}
  log: {type: notify, message: "{1}: {2}", parameters: [{profile_element: patient_id}, {profile_element: name}]}
"""


def test_a_query_as_the_start_shape_gives_a_document_per_row(cli, workdir, database):
    database.create_patients()
    for n, name in enumerate(["Zoë", INJECTIONS[0]]):
        database.sql("INSERT INTO patients (patient_id, name) VALUES (:p, :n)", p=f"P{n}", n=name)
    assert _import(cli, workdir, "components", CONNECTION.format(url=database.url), QUERY_START).code == 0
    ran = cli("run", "from-db", "--json")
    assert ran.code == 0, ran
    assert (ran.json()["documents_in"], ran.json()["documents_out"]) == (2, 2)
    log = [e["message"] for e in cli("executions", "show", ran.json()["id"], "--json").json()["log"]]
    assert "P0: Zoë" in log and f"P1: {INJECTIONS[0]}" in log
