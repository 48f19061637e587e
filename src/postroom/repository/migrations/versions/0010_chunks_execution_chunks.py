"""Execution chunks: a Flow Control unit of an execution run as a task of its own on the
workers (its input documents as data until it ended, the node that ran it, its lease and
its counts).

Written by hand and frozen, like 0001.

Revision ID: 0010_chunks
Revises: 0009_once
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_chunks"
down_revision = "0009_once"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "execution_chunks",
        sa.Column("execution_id", sa.String(100), nullable=False),
        sa.Column("shape", sa.String(200), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("documents", sa.Integer(), nullable=False),
        sa.Column("inputs", sa.Text(), nullable=True),
        sa.Column("node", sa.String(200), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_host", sa.String(255), nullable=True),
        sa.Column("lease_pid", sa.Integer(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("counts", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("execution_id", "shape", "number", name="pk_execution_chunks"),
    )


def downgrade() -> None:
    op.drop_table("execution_chunks")
