"""evidence: ledger entry lookup columns, witnesses, cosignatures, consent receipt copies

Revision ID: 0002
Revises: 0004
Create Date: 2026-11-26 19:40:00
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0002"
# Chained after the supervision migration so that the history keeps a single head.
down_revision = "0004"
branch_labels = None
depends_on = None

_BATCH = 5000


def upgrade() -> None:
    op.add_column("ledger_entries", sa.Column("deployment_id", sa.String(length=40), nullable=True))
    op.add_column("ledger_entries", sa.Column("subject", sa.String(length=40), nullable=True))
    _backfill()
    op.create_index(
        op.f("ix_ledger_entries_deployment_id"), "ledger_entries", ["deployment_id"], unique=False
    )
    op.create_index(op.f("ix_ledger_entries_subject"), "ledger_entries", ["subject"], unique=False)
    op.create_table(
        "ledger_witnesses",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "ledger_cosignatures",
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("witness_key", sa.String(length=300), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["witness_key"], ["ledger_witnesses.key"]),
        sa.PrimaryKeyConstraint("size", "witness_key"),
    )
    op.create_table(
        "consent_receipts",
        sa.Column("consent_id", sa.String(length=40), nullable=False),
        sa.Column("deployment_id", sa.String(length=40), nullable=False),
        sa.Column("pseudonym", sa.String(length=40), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["deployment_id"], ["deployments.id"]),
        sa.PrimaryKeyConstraint("consent_id"),
    )
    op.create_index(
        op.f("ix_consent_receipts_deployment_id"),
        "consent_receipts",
        ["deployment_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_consent_receipts_pseudonym"), "consent_receipts", ["pseudonym"], unique=False
    )


def _backfill() -> None:
    """Copy the deployment and subject of existing leaves into the new columns."""
    conn = op.get_bind()
    entries = sa.table(
        "ledger_entries",
        sa.column("idx", sa.BigInteger()),
        sa.column("data", sa.LargeBinary()),
        sa.column("deployment_id", sa.String()),
        sa.column("subject", sa.String()),
    )
    last = -1
    while True:
        rows = conn.execute(
            sa.select(entries.c.idx, entries.c.data)
            .where(entries.c.idx > last)
            .order_by(entries.c.idx)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        for idx, data in rows:
            leaf = json.loads(bytes(data))
            if leaf.get("deployment") is not None or leaf.get("subject") is not None:
                conn.execute(
                    sa.update(entries)
                    .where(entries.c.idx == idx)
                    .values(deployment_id=leaf.get("deployment"), subject=leaf.get("subject"))
                )
        last = rows[-1][0]


def downgrade() -> None:
    op.drop_index(op.f("ix_consent_receipts_pseudonym"), table_name="consent_receipts")
    op.drop_index(op.f("ix_consent_receipts_deployment_id"), table_name="consent_receipts")
    op.drop_table("consent_receipts")
    op.drop_table("ledger_cosignatures")
    op.drop_table("ledger_witnesses")
    op.drop_index(op.f("ix_ledger_entries_subject"), table_name="ledger_entries")
    op.drop_index(op.f("ix_ledger_entries_deployment_id"), table_name="ledger_entries")
    with op.batch_alter_table("ledger_entries") as batch_op:
        batch_op.drop_column("subject")
        batch_op.drop_column("deployment_id")
