"""the index's change rows also hold each key's history after the append

Issue 11: the index must not cost an append more than 20 %. Appends stop rewriting the bucket
rows they change; the bucket table becomes a snapshot (state row 2) that an append brings up
to date every few thousand changed buckets, and the ``after`` histories of the change rows
bring it forward in between. Existing rows keep a null ``after``: the first append after
this migration records the table as standing at the current size, so no snapshot precedes
them.

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


def downgrade() -> None:
    # An older facegate reads the bucket table as current, which a snapshot is not. The index
    # rows are dropped instead: its next append files the whole log again, to the same roots.
    for table in ("ledger_index_undo", "ledger_index_buckets", "ledger_index_state"):
        op.execute(sa.text(f"DELETE FROM {table}"))
    with op.batch_alter_table("ledger_index_undo") as batch:
        batch.drop_column("after")
