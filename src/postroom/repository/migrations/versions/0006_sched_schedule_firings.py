"""Schedules: one row per due time a serve process claimed (the primary key makes each due
time fire once, however many serve processes share the database).

Written by hand and frozen, like 0001.

Revision ID: 0006_sched
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_sched"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schedule_firings",
        sa.Column("schedule_id", sa.String(200), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("instance", sa.String(200), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("execution_id", sa.String(100), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("missed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("schedule_id", "due_at", name="pk_schedule_firings"),
    )
    op.create_index("ix_schedule_firings_fired_at", "schedule_firings", ["fired_at"])


def downgrade() -> None:
    op.drop_index("ix_schedule_firings_fired_at", table_name="schedule_firings")
    op.drop_table("schedule_firings")
