"""transfers to recipients, their keys, fingerprints and canaries

Issue: when face data leaves.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _index(table: str, *columns: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.create_index(f"ix_{table}_{column}", [column], unique=False)


def upgrade() -> None:
    """Recipients and agreements, later transfer consents, exports and the people each
    carried, and the alerts that guard them (see storage/tables/transfers.py)."""
    op.create_table(
        "transfer_recipients",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("operator_id", sa.String(length=40), nullable=False),
        sa.Column("deployment_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("contact", sa.String(length=300), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("same_purpose", sa.Boolean(), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=True),
        sa.Column("irrevocable", sa.Boolean(), nullable=False),
        sa.Column("for_profit", sa.Boolean(), nullable=False),
        sa.Column("mechanism", sa.String(length=40), nullable=False),
        sa.Column("max_people", sa.Integer(), nullable=False),
        sa.Column("agreement_sha256", sa.String(length=64), nullable=False),
        sa.Column("agreement_ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["deployment_id"], ["deployments.id"]),
        sa.ForeignKeyConstraint(["operator_id"], ["operators.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    _index("transfer_recipients", "operator_id", "deployment_id")
    op.create_table(
        "transfer_consents",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("recipient_id", sa.String(length=40), nullable=False),
        sa.Column("egress", sa.Boolean(), nullable=False),
        sa.Column("disclosure", sa.Boolean(), nullable=False),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("form_sha256", sa.String(length=64), nullable=True),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["recipient_id"], ["transfer_recipients.id"]),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    _index("transfer_consents", "subject_id", "recipient_id")
    op.create_table(
        "transfer_exports",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("operator_id", sa.String(length=40), nullable=False),
        sa.Column("deployment_id", sa.String(length=40), nullable=False),
        sa.Column("recipient_id", sa.String(length=40), nullable=False),
        sa.Column("act", sa.String(length=20), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("canaries", sa.Integer(), nullable=False),
        sa.Column("cross_border", sa.Boolean(), nullable=False),
        sa.Column("scheme", sa.String(length=40), nullable=False),
        sa.Column("key_id", sa.String(length=40), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["deployment_id"], ["deployments.id"]),
        sa.ForeignKeyConstraint(["operator_id"], ["operators.id"]),
        sa.ForeignKeyConstraint(["recipient_id"], ["transfer_recipients.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    _index("transfer_exports", "operator_id", "deployment_id", "recipient_id")
    op.create_table(
        "transfer_items",
        sa.Column("export_id", sa.String(length=40), nullable=False),
        sa.Column("pseudonym", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["export_id"], ["transfer_exports.id"]),
        sa.PrimaryKeyConstraint("export_id", "pseudonym"),
    )
    _index("transfer_items", "pseudonym")
    op.create_table(
        "transfer_alerts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("operator_id", sa.String(length=40), nullable=False),
        sa.Column("deployment_id", sa.String(length=40), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=True),
        sa.Column("principal_id", sa.String(length=40), nullable=True),
        sa.Column("export_id", sa.String(length=40), nullable=True),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocks_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("receipt_id", sa.String(length=40), nullable=True),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cleared_by", sa.String(length=40), nullable=True),
        sa.Column("cleared_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["operator_id"], ["operators.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    _index("transfer_alerts", "operator_id", "deployment_id", "subject")


def downgrade() -> None:
    op.drop_table("transfer_alerts")
    op.drop_table("transfer_items")
    op.drop_table("transfer_exports")
    op.drop_table("transfer_consents")
    op.drop_table("transfer_recipients")
