"""templates of threshold encrypted verification

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "encrypted_templates",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("deployment_id", sa.String(length=40), nullable=False),
        sa.Column("ceremony", sa.String(length=64), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["deployment_id"], ["deployments.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_encrypted_templates_subject_id", "encrypted_templates", ["subject_id"], unique=False
    )
    op.create_index(
        "ix_encrypted_templates_deployment_id",
        "encrypted_templates",
        ["deployment_id"],
        unique=False,
    )
    op.create_index(
        "ix_encrypted_templates_expires_at", "encrypted_templates", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_table("encrypted_templates")
