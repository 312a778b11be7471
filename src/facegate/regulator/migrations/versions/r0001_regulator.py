"""the regulator node: registry, witness state, mirror, monitor, findings, orders, inbox

Revision ID: r0001
Revises:
Create Date: 2026-12-06 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reg_logs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("origin", sa.String(length=300), nullable=False),
        sa.Column("vkey", sa.String(length=400), nullable=False),
        sa.Column("operator_name", sa.String(length=200), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("push_interval_s", sa.Integer(), nullable=False),
        sa.Column("filing_threshold", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(), nullable=True),
        sa.Column("frontier", sa.LargeBinary(), nullable=False),
        sa.Column("checkpoint", sa.Text(), nullable=True),
        sa.Column("index_root", sa.LargeBinary(), nullable=True),
        sa.Column("cosigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_push_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("order_seq", sa.Integer(), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("threshold_reached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("filing_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("origin"),
    )
    op.create_table(
        "reg_meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "reg_counts",
        sa.Column("log_id", sa.String(length=40), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["log_id"],
            ["reg_logs.id"],
        ),
        sa.PrimaryKeyConstraint("log_id", "day", "kind"),
    )
    op.create_table(
        "reg_deployments",
        sa.Column("log_id", sa.String(length=40), nullable=False),
        sa.Column("deployment_id", sa.String(length=40), nullable=False),
        sa.Column("capabilities", sa.JSON(), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["log_id"],
            ["reg_logs.id"],
        ),
        sa.PrimaryKeyConstraint("log_id", "deployment_id"),
    )
    op.create_table(
        "reg_entries",
        sa.Column("log_id", sa.String(length=40), nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["log_id"],
            ["reg_logs.id"],
        ),
        sa.PrimaryKeyConstraint("log_id", "idx"),
    )
    op.create_table(
        "reg_findings",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("log_id", sa.String(length=40), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("entry_index", sa.BigInteger(), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["log_id"],
            ["reg_logs.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("log_id", "key"),
    )
    with op.batch_alter_table("reg_findings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reg_findings_log_id"), ["log_id"], unique=False)

    op.create_table(
        "reg_inbox",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("log_id", sa.String(length=40), nullable=False),
        sa.Column("what", sa.String(length=20), nullable=False),
        sa.Column("ref", sa.String(length=100), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=False),
        sa.Column("receipt", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["log_id"],
            ["reg_logs.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reg_inbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reg_inbox_log_id"), ["log_id"], unique=False)

    op.create_table(
        "reg_obligations",
        sa.Column("log_id", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("what", sa.String(length=200), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["log_id"],
            ["reg_logs.id"],
        ),
        sa.PrimaryKeyConstraint("log_id", "key"),
    )
    op.create_table(
        "reg_orders",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("log_id", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("deployment_id", sa.String(length=40), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["log_id"],
            ["reg_logs.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("log_id", "seq"),
    )
    with op.batch_alter_table("reg_orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reg_orders_log_id"), ["log_id"], unique=False)

    op.create_table(
        "reg_subjects",
        sa.Column("log_id", sa.String(length=40), nullable=False),
        sa.Column("deployment_id", sa.String(length=40), nullable=False),
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("holding_since", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["log_id"],
            ["reg_logs.id"],
        ),
        sa.PrimaryKeyConstraint("log_id", "deployment_id", "pseudonym"),
    )


def downgrade() -> None:
    op.drop_table("reg_subjects")
    with op.batch_alter_table("reg_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reg_orders_log_id"))

    op.drop_table("reg_orders")
    op.drop_table("reg_obligations")
    with op.batch_alter_table("reg_inbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reg_inbox_log_id"))

    op.drop_table("reg_inbox")
    with op.batch_alter_table("reg_findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reg_findings_log_id"))

    op.drop_table("reg_findings")
    op.drop_table("reg_entries")
    op.drop_table("reg_deployments")
    op.drop_table("reg_counts")
    op.drop_table("reg_meta")
    op.drop_table("reg_logs")
