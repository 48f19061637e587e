"""Watermarks per get operation: the key is (operation, mailbox), no longer the mailbox alone.

Rows stored before keep ``operation = ''``; the Mail get adopts such a row once per
operation the first time that operation reads the mailbox, so an upgrade neither reads
old mail again nor skips new mail. Written by hand and frozen, like 0001.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("watermarks", recreate="always") as batch:
        batch.add_column(sa.Column("operation", sa.String(200), nullable=False, server_default=""))
        batch.drop_constraint("pk_watermarks", type_="primary")
        batch.create_primary_key("pk_watermarks", ["operation", "mailbox"])


def downgrade() -> None:
    op.execute("DELETE FROM watermarks WHERE operation <> ''")
    with op.batch_alter_table("watermarks", recreate="always") as batch:
        batch.drop_constraint("pk_watermarks", type_="primary")
        batch.drop_column("operation")
        batch.create_primary_key("pk_watermarks", ["mailbox"])
