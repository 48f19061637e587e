"""Deployments in the repository (revision 0007_envs), on SQLite and PostgreSQL: each deploy is
a row; the newest of an environment and process is the one in force; history keeps them all."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from postroom.repository import DeploymentRecord, Repository


@pytest.mark.fast_on_sqlite
def test_the_newest_deploy_is_in_force_and_history_keeps_every_one(repo: Repository, database_url: str) -> None:
    assert repo.list_deployments() == [] and repo.get_deployment("production", "letters") is None
    first = repo.add_deployment(DeploymentRecord("production", "letters", 1, deployed_by="cli:ann"))
    assert first.seq is not None and first.deployed_at is not None and first.deployed_at.tzinfo is not None
    repo.add_deployment(DeploymentRecord("production", "letters", 3))
    repo.add_deployment(DeploymentRecord("test", "letters", 4))
    repo.add_deployment(DeploymentRecord("production", "reminders", 2))
    back = repo.add_deployment(DeploymentRecord("production", "letters", 1, action="rollback"))
    assert back.seq is not None and back.seq > first.seq

    current = repo.get_deployment("production", "letters")
    assert current is not None and (current.process_version, current.action) == (1, "rollback")
    assert [(d.environment, d.process_id, d.process_version) for d in repo.list_deployments()] == [
        ("production", "letters", 1), ("production", "reminders", 2), ("test", "letters", 4)]
    assert [d.process_version for d in repo.list_deployments("production", "letters", history=True)] == [1, 3, 1]
    assert [d.process_id for d in repo.list_deployments(process_id="letters")] == ["letters", "letters"]
    assert repo.list_deployments(environment="test")[0].process_version == 4
    assert repo.get_deployment("staging", "letters") is None

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT deployed_by FROM deployments WHERE process_version = 1 "
                                     "ORDER BY seq")).scalars().all()
    finally:
        engine.dispose()
    assert rows == ["cli:ann", ""]
