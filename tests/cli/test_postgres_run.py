"""The same process through the CLI with the repository on PostgreSQL."""

import shutil

from support.testsupport import ROOT


def test_import_and_run_on_postgresql(cli, workdir, postgres_database):
    env = {"POSTROOM_DATABASE_URL": postgres_database}
    shutil.copytree(ROOT / "examples" / "patient-letters", workdir / "example")
    imported = cli("import", "example", env=env)
    assert imported.code == 0, imported
    ran = cli("run", "patient-letters", "--json", env=env)
    assert ran.code == 0, ran
    # documents out: what the connector shapes delivered (22 letters written), not the 24 path ends
    assert ran.json()["documents_out"] == 22
    assert ran.json()["connector_counts"] == {"write": {"completed": 22, "failed": 0}}
    assert len(list((workdir / "out" / "letters").iterdir())) == 22
    listed = cli("executions", "list", "--json", env=env).json()
    assert [e["id"] for e in listed] == [ran.json()["id"]]
    # the SQLite default was not touched: the record lives in PostgreSQL only
    assert cli("executions", "list", "--json").json() == []
