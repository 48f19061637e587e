"""Bad database settings are refused at import (exit 2), each problem naming the component,
the field and the fix; nothing is imported."""

from __future__ import annotations

import pytest

OPERATION = """\
type: operation
connector: database
id: bad-op
name: Bad operation
settings:
{settings}"""


@pytest.mark.parametrize(("settings", "field", "words"), [
    ("  action: insert\n", "settings.table", "action insert needs table"),
    ("  action: upsert\n  table: patients\n", "settings.key_columns", "action upsert needs key_columns"),
    ("  action: query\n", "settings.sql", "action query needs sql"),
    ("  action: execute\n  sql: ''\n", "settings.sql", "action execute needs sql"),
    ("  action: query\n  sql: SELECT * FROM patients\n  parameters: {active: yes}\n", "settings.parameters",
     "parameter active is not used in sql (sql uses: none): write :active where its value goes, or remove it"),
    ("  action: execute\n  sql: DELETE FROM patients WHERE id = :id AND x = :x\n  parameters: {id: '1'}\n",
     "settings.parameters", "sql uses :x but parameters has no x: add x: {profile_element: ...}"),
    ("  action: merge\n", "settings.action", "insert"),
])
def test_an_operation_missing_what_its_action_needs_is_refused(cli, workdir, settings, field, words):
    (workdir / "op.yaml").write_text(OPERATION.format(settings=settings))
    imported = cli("import", "op.yaml")
    assert imported.code == 2, imported
    assert "nothing was imported" in imported.stderr
    assert "op.yaml:" in imported.stderr and field in imported.stderr and words in imported.stderr
    assert cli("components", "list", "--json").json() == []


CONNECTION = """\
type: connection
connector: database
id: clinic-db
name: Clinic database
settings:
  url: {url}
"""


@pytest.mark.parametrize(("url", "words"), [
    ("postgresql://clinic:hunter2secret@db.example.org/clinic",
     "url holds a password: remove it from the url and put it in password (as ${secret:NAME})"),
    ("not a url", "url is not a database URL: write dialect://user@host:port/database"),
    ("nosuchdb://host/x", "url names the database kind 'nosuchdb', which SQLAlchemy does not know"),
])
def test_a_bad_url_is_refused_and_a_password_in_it_is_not_echoed(cli, workdir, url, words):
    (workdir / "c.yaml").write_text(CONNECTION.format(url=url))
    imported = cli("import", "c.yaml")
    assert imported.code == 2, imported
    assert "settings.url" in imported.stderr and words in imported.stderr
    assert "hunter2secret" not in imported.stderr + imported.stdout


def test_a_password_from_a_secret_imports_and_stays_out_of_the_export(cli, workdir):
    (workdir / "c.yaml").write_text(CONNECTION.format(url="postgresql://clinic@127.0.0.1/clinic")
                                    + "  password: literal-pa55word\n")
    imported = cli("import", "c.yaml")
    assert imported.code == 0, imported
    exported = cli("export", "--out", "exported")
    assert exported.code == 0, exported
    text = "".join(p.read_text() for p in (workdir / "exported").rglob("*.yaml"))
    assert "literal-pa55word" not in text and "password: ${secret:" in text


def test_a_url_whose_driver_is_not_installed_is_refused_with_the_fix(cli, workdir):
    try:
        import MySQLdb  # type: ignore[import-not-found]  # noqa: F401
        pytest.skip("mysqlclient is installed here")
    except ImportError:
        pass
    (workdir / "c.yaml").write_text(CONNECTION.format(url="mysql://clinic@127.0.0.1/clinic"))
    imported = cli("import", "c.yaml")
    assert imported.code == 2, imported
    assert "settings.url: url needs the mysql driver, which is not installed (no module MySQLdb)" in imported.stderr


def test_upsert_is_refused_on_a_database_without_on_conflict():
    from postroom.connectors.database import DatabaseConnection, DatabaseOperation, connector
    from postroom.errors import ConfigError
    from postroom.sdk.testing import MemoryContext

    # built without validation: the MySQL driver need not be installed for this check
    connection = DatabaseConnection.model_construct(url="mysql+pymysql://clinic@127.0.0.1/clinic", password="")
    operation = DatabaseOperation(action="upsert", table="patients", key_columns=["id"])
    with pytest.raises(ConfigError) as refused:
        connector.open(connection, operation, MemoryContext())
    assert refused.value.field == "action" and "upsert is not available on mysql" in str(refused.value)
    assert "use action insert" in str(refused.value)
