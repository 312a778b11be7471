"""liveness challenges; active liveness and unknown-face alerts per deployment

Issue 17: what face recognition users expect. Chained after 0013 (the transfers
placeholder), as the team rules ask of a migration beyond the reserved ones.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for name in ("liveness_challenge", "unknown_alerts"):
        op.add_column(
            "deployments",
            sa.Column(name, sa.Boolean(), server_default=sa.text("false"), nullable=False),
        )
    op.create_table(
        "liveness_challenges",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("deployment_id", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("act", sa.String(length=10), nullable=False),
        sa.Column("challenge", sa.String(length=20), nullable=False),
        sa.Column("issued_by", sa.String(length=40), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("frame_hashes", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["deployment_id"], ["deployments.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_liveness_challenges_deployment_id", "liveness_challenges", ["deployment_id"]
    )
    op.create_index("ix_liveness_challenges_expires_at", "liveness_challenges", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_liveness_challenges_expires_at", table_name="liveness_challenges")
    op.drop_index("ix_liveness_challenges_deployment_id", table_name="liveness_challenges")
    op.drop_table("liveness_challenges")
    with op.batch_alter_table("deployments") as batch:
        batch.drop_column("unknown_alerts")
        batch.drop_column("liveness_challenge")
