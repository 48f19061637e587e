"""Deployments: each deploy of a process version to an environment (the newest of an
environment and process is the one in force; older rows are the history a rollback uses).

Written by hand and frozen, like 0001.

Revision ID: 0007_envs
Revises: 0006_sched
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_envs"
down_revision = "0006_sched"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deployments",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("environment", sa.String(128), nullable=False),
        sa.Column("process_id", sa.String(128), nullable=False),
        sa.Column("process_version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("deployed_by", sa.String(200), nullable=False),
        sa.Column("deployed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_deployments"),
    )
    op.create_index("ix_deployments_environment_process_id", "deployments", ["environment", "process_id"])


def downgrade() -> None:
    op.drop_index("ix_deployments_environment_process_id", table_name="deployments")
    op.drop_table("deployments")
