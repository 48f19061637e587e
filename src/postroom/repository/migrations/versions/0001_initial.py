"""Initial schema: components, secrets, executions and their records, process properties,
send journal, watermarks, leases.

Written by hand and frozen: it does not import the live metadata, so later changes to
``_schema.py`` need a new revision (a test compares the migrated database with the
metadata and fails on any drift).

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "components",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(50), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("folder", sa.String(1000), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=True),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", "version", name="pk_components"),
    )
    op.create_index("ix_components_type", "components", ["type"])

    op.create_table(
        "secrets",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("ciphertext", sa.Text(), nullable=False),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("name", name="pk_secrets"),
    )

    op.create_table(
        "executions",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("process_id", sa.String(200), nullable=False),
        sa.Column("process_version", sa.Integer(), nullable=False),
        sa.Column("process_name", sa.String(500), nullable=False),
        sa.Column("status", sa.String(50), nullable=False),
        sa.Column("mode", sa.String(50), nullable=False),
        _ts("started_at"),
        _ts("ended_at", nullable=True),
        sa.Column("documents_in", sa.Integer(), nullable=False),
        sa.Column("documents_out", sa.Integer(), nullable=False),
        sa.Column("documents_failed", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("node", sa.String(200), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_executions"),
    )
    op.create_index("ix_executions_process_id_started_at", "executions", ["process_id", "started_at"])
    op.create_index("ix_executions_started_at", "executions", ["started_at"])
    op.create_index("ix_executions_status", "executions", ["status"])
    op.create_index("ix_executions_ended_at", "executions", ["ended_at"])

    op.create_table(
        "execution_logs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("execution_id", sa.String(100), nullable=False),
        _ts("time"),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("shape", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_execution_logs"),
    )
    op.create_index("ix_execution_logs_execution_id", "execution_logs", ["execution_id"])

    op.create_table(
        "document_errors",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("execution_id", sa.String(100), nullable=False),
        sa.Column("shape", sa.String(200), nullable=False),
        sa.Column("document", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        _ts("time", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_document_errors"),
    )
    op.create_index("ix_document_errors_execution_id", "document_errors", ["execution_id"])

    op.create_table(
        "shape_documents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("execution_id", sa.String(100), nullable=False),
        sa.Column("shape", sa.String(200), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("document", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("properties", sa.Text(), nullable=False),
        sa.Column("dynamic", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_shape_documents"),
    )
    op.create_index("ix_shape_documents_execution_id_shape", "shape_documents", ["execution_id", "shape"])

    op.create_table(
        "dry_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("execution_id", sa.String(100), nullable=False),
        sa.Column("shape", sa.String(200), nullable=False),
        sa.Column("document", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dry_runs"),
    )
    op.create_index("ix_dry_runs_execution_id", "dry_runs", ["execution_id"])

    op.create_table(
        "process_properties",
        sa.Column("process_id", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("process_id", "name", name="pk_process_properties"),
    )

    op.create_table(
        "send_journal",
        sa.Column("execution_id", sa.String(100), nullable=False),
        sa.Column("key", sa.String(1000), nullable=False),
        sa.Column("message_id", sa.String(1000), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("execution_id", "key", name="pk_send_journal"),
    )

    op.create_table(
        "watermarks",
        sa.Column("mailbox", sa.String(1000), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("mailbox", name="pk_watermarks"),
    )

    op.create_table(
        "leases",
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("owner", sa.String(500), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_leases"),
    )


def downgrade() -> None:
    for table in (
        "leases", "watermarks", "send_journal", "process_properties", "dry_runs",
        "shape_documents", "document_errors", "execution_logs", "executions", "secrets",
        "components",
    ):
        op.drop_table(table)
