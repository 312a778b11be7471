"""the operator's link to its regulator: witness pushes, orders, delivered filings

Issue: the regulator node.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "regulator_links",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("witness_key", sa.String(length=300), nullable=False),
        sa.Column("authority_key", sa.String(length=300), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("push_interval_s", sa.Integer(), nullable=False),
        sa.Column("poll_s", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("witness_size", sa.BigInteger(), nullable=False),
        sa.Column("last_push_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("orders_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("url"),
    )
    op.create_table(
        "regulator_orders",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("link_id", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("deployment_id", sa.String(length=40), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["link_id"], ["regulator_links.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("link_id", "seq"),
    )
    with op.batch_alter_table("regulator_orders", schema=None) as batch_op:
        batch_op.create_index("ix_regulator_orders_link_id", ["link_id"], unique=False)
        batch_op.create_index("ix_regulator_orders_deployment_id", ["deployment_id"], unique=False)
    op.create_table(
        "regulator_receipts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("link_id", sa.String(length=40), nullable=False),
        sa.Column("what", sa.String(length=20), nullable=False),
        sa.Column("ref", sa.String(length=100), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["link_id"], ["regulator_links.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("regulator_receipts", schema=None) as batch_op:
        batch_op.create_index("ix_regulator_receipts_link_id", ["link_id"], unique=False)


def downgrade() -> None:
    op.drop_table("regulator_receipts")
    op.drop_table("regulator_orders")
    op.drop_table("regulator_links")
