"""Environments in the run use case, on SQLite and PostgreSQL: the request that names an
environment is stored with it (what a resume or a worker reads back); a deployment picks the version; the
environment's process properties start the run; a bad override names the environment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from postroom.errors import ConfigError
from postroom.repository import Repository, open_repository
from postroom.services import (
    RunRequest,
    deploy_process,
    import_paths,
    rollback_process,
    run_process,
)

FILES = """\
type: connection
connector: disk
name: Out
id: out
settings: {{directory: "{base}/dev"}}
---
type: operation
connector: disk
name: Write
id: write
settings: {{action: send, write_option: overwrite}}
---
type: environment
id: production
name: Production
extensions:
  connections:
    out: {{directory: "{base}/prod"}}
  process_properties: {{sender: records@clinic.example}}
---
type: process
name: Letter
id: letter
shapes:
  start: {{type: start, next: text}}
  text: {{type: message, text: "{text} from {{1}}", parameters: [{{process_property: sender}}], next: name}}
  name: {{type: set_properties, properties: [{{property: disk.file_name, value: [letter.txt]}}], next: write}}
  write: {{type: connector, connection: out, operation: write}}
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def repo(request: pytest.FixtureRequest, home: Path) -> Repository:
    url = f"sqlite:///{home / 'postroom.db'}" if request.param == "sqlite" else request.getfixturevalue(
        "postgres_database")
    repository = open_repository(url, home=home)
    yield repository  # type: ignore[misc]
    repository.close()


def _import(repo: Repository, tmp_path: Path, text: str) -> None:
    path = tmp_path / "letter.yaml"
    path.write_text(FILES.format(base=tmp_path, text=text), encoding="utf-8")
    import_paths(repo, [path])


def test_environment_runs_record_resume_and_follow_deployments(repo: Repository, tmp_path: Path) -> None:
    _import(repo, tmp_path, "First")
    _import(repo, tmp_path, "Second")
    record, result = run_process(repo, RunRequest("letter", environment="production"))
    assert result.exit_code == 0 and record.process_version == 2
    assert (tmp_path / "prod" / "letter.txt").read_text() == "Second from records@clinic.example"
    stored = repo.get_execution(record.id).request  # type: ignore[union-attr]
    assert stored["environment"] == "production"
    again = RunRequest.from_json(json.loads(json.dumps(stored)))
    assert again.environment == "production" and again.process_version == 2

    deploy_process(repo, "letter", "production", 1)
    record, _ = run_process(repo, RunRequest("letter", environment="production"))
    assert record.process_version == 1
    assert (tmp_path / "prod" / "letter.txt").read_text() == "First from records@clinic.example"
    deploy_process(repo, "letter", "production")
    assert run_process(repo, RunRequest("letter", environment="production"))[0].process_version == 2
    assert rollback_process(repo, "letter", "production").process_version == 1
    assert run_process(repo, RunRequest("letter", environment="production"))[0].process_version == 1
    # without the environment: the latest version, the connection's own folder, the default property
    record, _ = run_process(repo, RunRequest("letter"))
    assert record.process_version == 2
    assert (tmp_path / "dev" / "letter.txt").read_text() == "Second from "


def test_an_override_that_breaks_the_connection_names_the_environment(repo: Repository, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    _import(repo, tmp_path, "First")
    path = tmp_path / "broken.yaml"
    path.write_text("type: environment\nid: broken\nname: Broken\nextensions:\n  operations:\n"
                    "    write: {write_option: \"${env:PR_WRITE_OPTION}\"}\n", encoding="utf-8")
    import_paths(repo, [path])
    monkeypatch.setenv("PR_WRITE_OPTION", "sometimes")
    with pytest.raises(ConfigError) as caught:
        run_process(repo, RunRequest("letter", environment="broken"))
    text = str(caught.value)
    assert "environment 'broken' sets operation 'write' setting 'write_option'" in text
    assert "extensions.operations.write.write_option" in text
    assert repo.list_executions() == []  # refused before anything was recorded


def test_a_called_process_binds_with_the_environment_too(repo: Repository, tmp_path: Path) -> None:
    _import(repo, tmp_path, "Child")
    path = tmp_path / "parent.yaml"
    path.write_text("type: process\nname: Parent\nid: parent\nshapes:\n"
                    "  start: {type: start, next: text}\n"
                    "  text: {type: message, text: for the child, next: call}\n"
                    "  call: {type: process_call, process: child}\n"
                    "---\n"
                    "type: process\nname: Child\nid: child\nshapes:\n"
                    "  start: {type: start, mode: data_passthrough, next: name}\n"
                    "  name: {type: set_properties, properties: [{property: disk.file_name, value: [child.txt]}], "
                    "next: write}\n"
                    "  write: {type: connector, connection: out, operation: write}\n", encoding="utf-8")
    import_paths(repo, [path])
    record, result = run_process(repo, RunRequest("parent", environment="production"))
    assert result.exit_code == 0, record.error
    assert (tmp_path / "prod" / "child.txt").read_text() == "for the child"
    assert not (tmp_path / "dev").exists()
