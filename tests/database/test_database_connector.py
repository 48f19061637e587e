"""The database connector on its own: the SDK contract (SQLite, and PostgreSQL with a
password that must never show), the shared engine per connection, the streamed query,
and the small pieces (redaction, JSON values, parameters) as fast tests."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import create_engine, text

from postroom.connectors.database import DatabaseConnection, DatabaseOperation, connector
from postroom.connectors.database._rows import RowError, as_json, rows_of
from postroom.connectors.database._sql import bind_names
from postroom.connectors.database.connection import POOLS, redact
from postroom.sdk import Document, Failed
from postroom.sdk.testing import ConnectorContract, ContractCase, MemoryContext

SECRET = "contract-Pa55word"


def _count(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = int(conn.execute(text("SELECT count(*) FROM visits")).scalar() or 0)
    engine.dispose()
    return found


def _sql(url: str, statement: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(statement))
    engine.dispose()


def _visits(url: str) -> None:
    key = "SERIAL" if url.startswith("postgresql") else "INTEGER"
    _sql(url, f"CREATE TABLE visits (id {key} PRIMARY KEY, patient TEXT NOT NULL, note TEXT)")


def _case(url: str, password: str = "") -> ContractCase:
    return ContractCase(
        connector=connector,
        connection={"url": url, "password": password},
        send={"action": "insert", "table": "visits"},
        documents=lambda: [Document(json.dumps({"patient": f"P{n}", "note": "ok"})) for n in range(3)],
        # a column the table does not have: that document fails, the others are stored
        bad_document=lambda: Document('{"patient": "P9", "diagnosis": "x"}'),
        delivered=lambda: _count(url),
        get={"action": "query", "sql": "SELECT patient, note FROM visits"},
        put=lambda n: [_sql(url, f"INSERT INTO visits (patient, note) VALUES ('G{i}', 'put')") for i in range(n)],
        secrets=[password] if password else [],
    )


class TestDatabaseContractSQLite(ConnectorContract):
    @pytest.fixture
    def contract_case(self, tmp_path: Path) -> ContractCase:
        url = f"sqlite:///{tmp_path / 'contract.db'}"
        _visits(url)
        return _case(url)


class TestDatabaseContractPostgreSQL(ConnectorContract):
    @pytest.fixture
    def contract_case(self, postgres_database: str) -> ContractCase:
        _visits(postgres_database)
        return _case(postgres_database, SECRET)


def test_one_engine_per_connection_shared_by_sessions_and_disposed_by_the_last(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    _visits(url)
    connection = DatabaseConnection(url=url)
    before = POOLS.in_use()
    first = connector.open(connection, DatabaseOperation(action="insert", table="visits"), MemoryContext())
    second = connector.open(connection, DatabaseOperation(action="query", sql="SELECT * FROM visits"),
                            MemoryContext())
    assert first.engine is second.engine  # type: ignore[attr-defined]
    assert POOLS.in_use() == before + 1
    first.close()
    assert POOLS.in_use() == before + 1
    second.close()
    assert POOLS.in_use() == before


def test_a_query_reads_through_a_server_side_cursor(postgres_database: str) -> None:
    """After the first row arrives, the session's backend is inside a cursor (DECLARE/FETCH),
    not holding the whole result: memory stays flat however many rows there are."""
    operation = DatabaseOperation(action="query", sql="SELECT g AS n, repeat('x', 50) AS pad FROM "
                                  "generate_series(1, :count) AS g", parameters={"count": "200000"})
    session = connector.open(DatabaseConnection(url=postgres_database), operation, MemoryContext())
    rows = iter(session.execute([Document(b"")], "q"))
    try:
        first = next(rows)
        assert isinstance(first, Document) and json.loads(first.data) == {"n": 1, "pad": "x" * 50}
        engine = create_engine(postgres_database)
        with engine.connect() as other:
            last = other.execute(text("SELECT query FROM pg_stat_activity WHERE datname = current_database() "
                                      "AND pid <> pg_backend_pid()")).scalars().all()
        engine.dispose()
        assert last and all(q.lstrip().upper().startswith(("DECLARE", "FETCH")) for q in last), last
        assert sum(1 for _ in rows) == 199999
    finally:
        rows.close()  # type: ignore[attr-defined]
        session.close()


@pytest.mark.fast
def test_redact_removes_the_password_in_clear_and_url_encoded() -> None:
    secret = "p@ss w/rd"
    text_ = "connection to postgresql://clinic:p%40ss%20w%2Frd@db failed (password p@ss w/rd, p%40ss+w%2Frd)"
    assert redact(text_, [secret]) == "connection to postgresql://clinic:***@db failed (password ***, ***)"
    assert redact("an ok line", ["ok"]) == "an ok line"  # too short to be worth blanking


@pytest.mark.fast
def test_values_become_json_exactly() -> None:
    assert as_json(Decimal("1234.50")) == "1234.50"
    assert as_json(Decimal("1E+3")) == "1000"
    assert as_json(dt.date(2026, 11, 24)) == "2026-11-24"
    assert as_json(dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.UTC)) == "2026-11-24T09:30:00+00:00"
    assert as_json(b"\x00\xff") == "AP8="
    assert as_json(UUID(int=1)) == "00000000-0000-0000-0000-000000000001"
    assert as_json({"a": [Decimal("1.0")]}) == {"a": ["1.0"]}


@pytest.mark.fast
@pytest.mark.parametrize(("data", "words"), [
    (b"[1, 2]", "item 1 of the array is a JSON int, not an object"),
    (b'"text"', "the document is a JSON str, not an object"),
    (b"[]", "empty array"),
    (b"{", "the document is not JSON"),
])
def test_a_document_that_is_no_row_says_why(data: bytes, words: str) -> None:
    with pytest.raises(RowError, match=words):
        rows_of(Document(data))


@pytest.mark.fast
def test_bind_names_are_the_colon_parameters() -> None:
    assert bind_names("SELECT * FROM t WHERE a = :a AND b::int = :b AND c = '\\:c'") == ["a", "b"]


def test_a_dry_run_stores_nothing_and_a_refused_statement_fails_its_document(tmp_path: Path) -> None:
    path = tmp_path / "dry.db"
    sqlite3.connect(path).execute("CREATE TABLE visits (id INTEGER PRIMARY KEY, patient TEXT)").connection.commit()
    connection = DatabaseConnection(url=f"sqlite:///{path}")
    context = MemoryContext(dry_run=True)
    session = connector.open(connection, DatabaseOperation(action="execute", sql="DELETE FROM visits"), context)
    assert [r.seq for r in session.execute([Document(b"")], "x") if isinstance(r, Document)] == [-1]
    session.close()
    assert context.dry_runs[0][2] == "database.execute"
    bad = connector.open(connection, DatabaseOperation(action="query", sql="SELECT nope FROM visits"),
                         MemoryContext())
    bad.operation_id = "read-visits"
    [result] = list(bad.execute([Document(b"")], "x"))
    bad.close()
    assert isinstance(result, Failed)
    assert result.message == ("operation read-visits: sql: the database refused the query: no such column: nope "
                              "(fix sql in the operation and import it again)")


def test_more_documents_than_one_transaction_holds_each_get_their_own_result(tmp_path: Path) -> None:
    from postroom.connectors.database.send import CHUNK

    url = f"sqlite:///{tmp_path / 'big.db'}"
    _sql(url, "CREATE TABLE visits (id INTEGER PRIMARY KEY, patient TEXT NOT NULL UNIQUE, note TEXT)")
    count = CHUNK * 2 + 7
    documents = [Document(json.dumps({"patient": f"P{n}"})) for n in range(count)]
    documents[CHUNK + 3] = Document('{"patient": "P0"}')  # a duplicate in the second transaction
    for seq, doc in enumerate(documents, 1):
        doc.seq = seq
    session = connector.open(DatabaseConnection(url=url), DatabaseOperation(action="insert", table="visits"),
                             MemoryContext())
    results = list(session.execute(documents, "x"))
    session.close()
    assert [r.document.seq if isinstance(r, Failed) else r.seq for r in results] == list(range(1, count + 1))
    assert [r.document.seq for r in results if isinstance(r, Failed)] == [CHUNK + 4]
    assert _count(url) == count - 1
    assert all(r.properties["database.row_count"] == "1" for r in results if isinstance(r, Document))


def test_a_commit_refused_by_a_deferred_constraint_fails_every_document_of_the_transaction(
        postgres_database: str) -> None:
    _sql(postgres_database, "CREATE TABLE visits (id SERIAL PRIMARY KEY, patient TEXT NOT NULL, note TEXT, "
                            "CONSTRAINT one_visit UNIQUE (patient) DEFERRABLE INITIALLY DEFERRED)")
    documents = [Document('{"patient": "P1"}'), Document('{"patient": "P1"}')]
    for seq, doc in enumerate(documents, 1):
        doc.seq = seq
    session = connector.open(DatabaseConnection(url=postgres_database),
                             DatabaseOperation(action="insert", table="visits"), MemoryContext())
    results = list(session.execute(documents, "x"))
    session.close()
    assert [(r.document.seq, r.message.split(":")[0]) for r in results if isinstance(r, Failed)] == [
        (1, "the database refused the transaction at commit"), (2, "the database refused the transaction at commit")]
    assert "none of these 2 documents was stored" in results[0].message  # type: ignore[union-attr]
    assert _count(postgres_database) == 0


INJECTIONS = ["Robert'); DROP TABLE patients;--", "' OR '1'='1", "1; DELETE FROM patients", "\\'; --",
              "$$; DROP TABLE patients; $$", ":name", "%s", "?", "x /* comment */ --", "ünï'cödé\""]


def test_injection_attempts_are_stored_and_compared_as_data(database) -> None:  # noqa: ANN001
    database.create_patients()
    url = database.url
    connection = DatabaseConnection(url=url)
    store = connector.open(connection, DatabaseOperation(action="insert", table="patients", returning=True),
                           MemoryContext())
    rows = [{"patient_id": f"I{n}", "name": text_} for n, text_ in enumerate(INJECTIONS)]
    [stored] = list(store.execute([Document(json.dumps(rows))], "x"))
    store.close()
    assert isinstance(stored, Document) and [r["name"] for r in json.loads(stored.data)] == INJECTIONS
    find = connector.open(connection, DatabaseOperation(
        action="query", sql="SELECT patient_id FROM patients WHERE name = :name",
        parameters={"name": {"document_property": "wanted"}}), MemoryContext())
    found = [json.loads(d.data)["patient_id"] for d in find.execute(  # type: ignore[union-attr]
        [Document(b"", {"wanted": text_}) for text_ in INJECTIONS], "q")]
    find.close()
    assert found == [f"I{n}" for n in range(len(INJECTIONS))]  # each matches itself only
    assert database.rows("SELECT name FROM patients ORDER BY patient_id") == [(t,) for t in INJECTIONS]


def test_an_error_met_while_reading_rows_fails_the_document_after_the_rows_read(postgres_database: str) -> None:
    operation = DatabaseOperation(action="query", sql="SELECT 10 / (3000 - g) AS n FROM generate_series(1, 5000) g")
    before = POOLS.in_use()
    session = connector.open(DatabaseConnection(url=postgres_database), operation, MemoryContext())
    session.operation_id = "divide"
    results = list(session.execute([Document(b"")], "q"))
    session.close()
    session.close()  # a second close gives nothing back twice
    assert POOLS.in_use() == before
    assert sum(isinstance(r, Document) for r in results) <= 2999
    assert isinstance(results[-1], Failed) and "operation divide: sql: the database refused the query: division by zero" \
        in results[-1].message


def test_rows_sent_together_return_each_document_its_own_stored_rows(database) -> None:  # noqa: ANN001
    """A chunk goes as multi-row INSERTs (a run of rows with the same columns each); with
    returning, each document gets back the rows it stored, with the keys the database gave,
    whether it held one row or an array, and a refused row still fails alone."""
    database.create_patients()
    documents = [Document(json.dumps({"patient_id": "A1", "name": "Ann"})),
                 Document(json.dumps([{"patient_id": "A2", "name": "Bo"}, {"patient_id": "A3", "name": "Cy",
                                                                             "email": "cy@example.org"}])),
                 Document(json.dumps({"patient_id": "A4", "name": "Di", "born": "1980-02-01"}))]
    for seq, doc in enumerate(documents, 1):
        doc.seq = seq
    store = connector.open(DatabaseConnection(url=database.url),
                           DatabaseOperation(action="insert", table="patients", returning=True), MemoryContext())
    results = list(store.execute(documents, "x"))
    again = list(store.execute([Document(json.dumps({"patient_id": "A9", "name": "Ed"})),
                                Document(json.dumps({"patient_id": "A1", "name": "Twin"}))], "x"))
    store.close()
    assert all(isinstance(r, Document) for r in results)
    first, second, third = (json.loads(r.data) for r in results)  # type: ignore[union-attr]
    assert (first["id"], first["patient_id"]) == (1, "A1")
    assert [(r["id"], r["patient_id"], r["email"]) for r in second] == [(2, "A2", None), (3, "A3", "cy@example.org")]
    assert (third["id"], third["born"]) == (4, "1980-02-01")
    assert [r.properties["database.row_count"] for r in results] == ["1", "2", "1"]  # type: ignore[union-attr]
    assert isinstance(again[0], Document) and json.loads(again[0].data)["patient_id"] == "A9"
    assert isinstance(again[1], Failed) and "refused the row" in again[1].message
    assert database.rows("SELECT patient_id FROM patients ORDER BY id")[-1] == ("A9",)
