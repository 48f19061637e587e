"""Send journal scopes: entries shared by every execution of a scope (a process), so that a
side effect keyed by an inbound message is done once however many executions read it.

Written by hand and frozen, like 0001.

Revision ID: 0009_once
Revises: 0008_bounce
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_once"
down_revision = "0008_bounce"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("send_journal", sa.Column("scope", sa.String(200), nullable=True))
    op.create_index("uq_send_journal_scope_key", "send_journal", ["scope", "key"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_send_journal_scope_key", table_name="send_journal")
    with op.batch_alter_table("send_journal") as batch:
        batch.drop_column("scope")
