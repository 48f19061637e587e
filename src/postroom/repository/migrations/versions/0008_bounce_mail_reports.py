"""Bounces and complaints: the send journal found by Message-ID (an index), and the
reports read about sent letters (mail_reports), by the execution that sent them.

Written by hand and frozen, like 0001.

Revision ID: 0008_bounce
Revises: 0007_envs
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_bounce"
down_revision = "0007_envs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_send_journal_message_id", "send_journal", ["message_id"])
    op.create_table(
        "mail_reports",
        sa.Column("report_id", sa.String(1000), nullable=False),
        sa.Column("recipient", sa.String(1000), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("diagnostic", sa.Text(), nullable=False),
        sa.Column("original_message_id", sa.String(1000), nullable=False),
        sa.Column("execution_id", sa.String(100), nullable=False),
        sa.Column("journal_key", sa.String(1000), nullable=False),
        sa.Column("reported_at", sa.String(50), nullable=False),
        sa.Column("read_by", sa.String(100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("report_id", "recipient", name="pk_mail_reports"),
    )
    op.create_index("ix_mail_reports_execution_id", "mail_reports", ["execution_id"])


def downgrade() -> None:
    op.drop_index("ix_mail_reports_execution_id", table_name="mail_reports")
    op.drop_table("mail_reports")
    op.drop_index("ix_send_journal_message_id", table_name="send_journal")
