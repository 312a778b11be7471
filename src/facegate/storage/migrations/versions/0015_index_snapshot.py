"""the index's change rows also hold each key's history after the append; the index state
moves into ``ledger_state``

Issue 11: the index must not cost an append more than 20 %. Appends stop rewriting the bucket
rows they change; the bucket table becomes a snapshot (``ledger_index_state`` row 2) that an
append brings up to date every few thousand changed buckets, and the ``after`` histories of
the change rows bring it forward in between. Existing rows keep a null ``after``: with no
row 2 the table stands at the index state, so no snapshot precedes them. The index state
(row 1) moves into the ``ledger_state`` row that every append locks and updates anyway.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 03:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("ledger_index_undo", sa.Column("after", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("ledger_state") as batch:
        batch.add_column(sa.Column("index_size", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("index_root", sa.LargeBinary(), nullable=True))
    op.execute(
        sa.text(
            "UPDATE ledger_state SET "
            "index_size = (SELECT size FROM ledger_index_state WHERE id = 1), "
            "index_root = (SELECT root FROM ledger_index_state WHERE id = 1) "
            "WHERE id = 1"
        )
    )
    op.execute(sa.text("DELETE FROM ledger_index_state WHERE id = 1"))


def downgrade() -> None:
    # An older facegate reads the bucket table as current, which a snapshot is not. The index
    # rows are dropped instead: its next append files the whole log again, to the same roots.
    for table in ("ledger_index_undo", "ledger_index_buckets", "ledger_index_state"):
        op.execute(sa.text(f"DELETE FROM {table}"))
    with op.batch_alter_table("ledger_state") as batch:
        batch.drop_column("index_root")
        batch.drop_column("index_size")
    with op.batch_alter_table("ledger_index_undo") as batch:
        batch.drop_column("after")
