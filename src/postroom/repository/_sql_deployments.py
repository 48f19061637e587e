"""Deployments in the SQL repository: one row per deploy of a process version to an
environment; the newest row (highest ``seq``) of an environment and process is in force."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import Row, func, select

from ._records import DeploymentRecord
from ._schema import deployments, utcnow
from ._sql_core import SqlCore


class DeploymentStore(SqlCore):
    """Process versions pinned to environments, with their history."""

    @staticmethod
    def _deployment(row: Row[Any]) -> DeploymentRecord:
        return DeploymentRecord(environment=row.environment, process_id=row.process_id,
                                process_version=row.process_version, action=row.action,
                                deployed_by=row.deployed_by,
                                deployed_at=row.deployed_at, seq=row.seq)

    def add_deployment(self, record: DeploymentRecord) -> DeploymentRecord:
        stored = replace(record, deployed_at=record.deployed_at or utcnow())
        with self._write() as conn:
            seq = conn.execute(deployments.insert().values(
                environment=stored.environment, process_id=stored.process_id,
                process_version=stored.process_version, action=stored.action, deployed_by=stored.deployed_by,
                deployed_at=stored.deployed_at).returning(deployments.c.seq)).scalar_one()
        return replace(stored, seq=seq)

    def get_deployment(self, environment: str, process_id: str) -> DeploymentRecord | None:
        stmt = (select(deployments).where(deployments.c.environment == environment,
                                          deployments.c.process_id == process_id)
                .order_by(deployments.c.seq.desc()).limit(1))
        with self._read() as conn:
            row = conn.execute(stmt).first()
        return self._deployment(row) if row is not None else None

    def list_deployments(self, environment: str | None = None, process_id: str | None = None,
                         history: bool = False) -> list[DeploymentRecord]:
        stmt = select(deployments)
        if environment is not None:
            stmt = stmt.where(deployments.c.environment == environment)
        if process_id is not None:
            stmt = stmt.where(deployments.c.process_id == process_id)
        if not history:
            newest = (select(func.max(deployments.c.seq))
                      .group_by(deployments.c.environment, deployments.c.process_id))
            stmt = stmt.where(deployments.c.seq.in_(newest))
        stmt = stmt.order_by(deployments.c.environment, deployments.c.process_id, deployments.c.seq.desc())
        with self._read() as conn:
            return [self._deployment(row) for row in conn.execute(stmt)]
