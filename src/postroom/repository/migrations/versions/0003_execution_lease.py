"""Executions hold a lease (host, pid, heartbeat) while they run, and record what each
connector shape completed and failed.

Written by hand and frozen, like 0001.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("executions", sa.Column("lease_host", sa.String(200), nullable=True))
    op.add_column("executions", sa.Column("lease_pid", sa.Integer(), nullable=True))
    op.add_column("executions", sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("executions", sa.Column("connector_counts", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("executions") as batch:
        for name in ("connector_counts", "heartbeat_at", "lease_pid", "lease_host"):
            batch.drop_column(name)
