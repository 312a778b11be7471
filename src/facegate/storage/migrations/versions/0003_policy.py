"""policy: deployment scope, capabilities, egress, declarations; consent age, guardian,
egress and disclosure; impact assessments

Revision ID: 0003
Revises: 0005
Create Date: 2026-11-26 20:10:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.types import TypeEngine

revision = "0003"
# Chained after the newest migration present when it was written, to keep a single head.
down_revision = "0005"
branch_labels = None
depends_on = None

_COLUMNS: tuple[tuple[str, TypeEngine[Any]], ...] = (
    ("scope", sa.String(length=20)),
    ("capabilities", sa.JSON()),
    ("egress", sa.Boolean()),
    ("alternative_enabled", sa.Boolean()),
    ("purpose_ends_at", sa.DateTime(timezone=True)),
    ("declarations", sa.JSON()),
    ("activated_at", sa.DateTime(timezone=True)),
)
_CONSENT_COLUMNS: tuple[tuple[str, TypeEngine[Any]], ...] = (
    ("subject_age", sa.Integer()),
    ("by_guardian", sa.Boolean()),
    ("egress", sa.Boolean()),
    ("disclosure", sa.Boolean()),
)


def upgrade() -> None:
    # Plain ADD COLUMNs (nullable: older deployments read as the policy defaults), so that
    # SQLite does not rebuild the table that others refer to.
    for name, type_ in _COLUMNS:
        op.add_column("deployments", sa.Column(name, type_, nullable=True))
    for name, type_ in _CONSENT_COLUMNS:
        op.add_column("consents", sa.Column(name, type_, nullable=True))
    op.create_table(
        "pias",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("deployment_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("purpose_sha256", sa.String(length=64), nullable=False),
        sa.Column("method_sha256", sa.String(length=64), nullable=False),
        sa.Column("drafted", sa.Boolean(), nullable=False),
        sa.Column("confirmed_by", sa.String(length=200), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("keep_until", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["deployment_id"], ["deployments.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("deployment_id", "version"),
    )
    op.create_index("ix_pias_deployment_id", "pias", ["deployment_id"])


def downgrade() -> None:
    op.drop_index("ix_pias_deployment_id", table_name="pias")
    op.drop_table("pias")
    # Plain DROP COLUMNs (SQLite >= 3.35 has them): a batch rebuild of ``deployments``
    # would have to drop a table that others refer to.
    for name, _type in reversed(_CONSENT_COLUMNS):
        op.drop_column("consents", name)
    for name, _type in reversed(_COLUMNS):
        op.drop_column("deployments", name)
