"""the verifiable index over the ledger, and the documents the ledger commits to by hash

Issue: evidence that does not trust the operator.

The index tables start empty: the first append after this migration files every entry already
in the log (``facegate.ledger.index_store``), so no index is computed here.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_index_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "ledger_index_buckets",
        sa.Column("bucket", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("records", sa.LargeBinary(), nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("bucket"),
    )
    op.create_table(
        "ledger_index_undo",
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("records", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("size"),
    )
    op.create_table(
        "ledger_documents",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256"),
    )
    with op.batch_alter_table("ledger_documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_documents_kind"), ["kind"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ledger_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_documents_kind"))
    op.drop_table("ledger_documents")
    op.drop_table("ledger_index_undo")
    op.drop_table("ledger_index_buckets")
    op.drop_table("ledger_index_state")
