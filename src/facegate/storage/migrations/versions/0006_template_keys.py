"""template keys: recorded scheme parameters, re-enrollment campaigns

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-26 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
# Chained after the newest migration present when it was written, to keep a single head.
down_revision = "0003"
branch_labels = None
depends_on = None

#: what every scheme name in use before this migration meant (biohash-v1 at 1024 bits)
_BIOHASH_V1 = {"bits": 1024, "levels": 8, "span": 2.0}


def upgrade() -> None:
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("scheme_params", sa.JSON(), server_default=sa.text("'{}'"), nullable=False)
        )
    # Deployments made before this migration used biohash-v1 (possibly with a length
    # suffix); record what their names meant, so a later redefinition is caught on load.
    deployments = sa.table(
        "deployments",
        sa.column("id", sa.String()),
        sa.column("scheme", sa.String()),
        sa.column("scheme_params", sa.JSON()),
    )
    conn = op.get_bind()
    for dep_id, scheme in conn.execute(sa.select(deployments.c.id, deployments.c.scheme)):
        base, _, bits = str(scheme).partition(":")
        if base != "biohash-v1":
            continue
        params = dict(_BIOHASH_V1, bits=int(bits) if bits else 1024)
        conn.execute(
            deployments.update().where(deployments.c.id == dep_id).values(scheme_params=params)
        )
    op.create_table(
        "reenrollments",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("deployment_id", sa.String(length=40), nullable=False),
        sa.Column("key_id", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["deployment_id"], ["deployments.id"]),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("subject_id"),
    )
    with op.batch_alter_table("reenrollments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reenrollments_deployment_id"), ["deployment_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("reenrollments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reenrollments_deployment_id"))
    op.drop_table("reenrollments")
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.drop_column("scheme_params")
