"""Listener health: one row per listener and ``postroom serve`` process.

Written by hand and frozen, like 0001.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "listener_health",
        sa.Column("listener", sa.String(200), nullable=False),
        sa.Column("instance", sa.String(200), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("resource", sa.String(1000), nullable=False),
        sa.Column("node", sa.String(200), nullable=False),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("interval_seconds", sa.Float(), nullable=False),
        _ts("started_at", nullable=True),
        _ts("updated_at"),
        _ts("last_check_at", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        _ts("last_error_at", nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("documents_taken", sa.Integer(), nullable=False),
        sa.Column("executions", sa.Integer(), nullable=False),
        sa.Column("last_execution_id", sa.String(100), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("listener", "instance", name="pk_listener_health"),
    )
    op.create_index("ix_listener_health_updated_at", "listener_health", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_listener_health_updated_at", table_name="listener_health")
    op.drop_table("listener_health")
