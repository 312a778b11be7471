"""an identification held for review may have no score (an encrypted search has none)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("identifications", schema=None) as batch_op:
        batch_op.alter_column("score", existing_type=sa.Float(), nullable=True)


def downgrade() -> None:
    op.execute("UPDATE identifications SET score = 0 WHERE score IS NULL")
    with op.batch_alter_table("identifications", schema=None) as batch_op:
        batch_op.alter_column("score", existing_type=sa.Float(), nullable=False)
