"""principals and roles, draft deployments and DPO sign-off, required consent facts

Issue: lawful by construction.

Deployments registered before this revision had impact assessments drafted and confirmed by
facegate itself; they become drafts, so that a data protection officer signs before they
process again. Existing API keys each get a principal of role ``operator``.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 21:00:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_DT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "principals",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("operator_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("created_at", _DT, nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=True),
        sa.Column("revoked_at", _DT, nullable=True),
        sa.ForeignKeyConstraint(["operator_id"], ["operators.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("operator_id", "name_key"),
    )
    op.create_index("ix_principals_operator_id", "principals", ["operator_id"])
    op.create_table(
        "selfchecks",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("at", _DT, nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("controls", sa.JSON(), nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_selfchecks_at", "selfchecks", ["at"])
    for name, length in (("dpo", 200), ("email", 200), ("address", 300), ("url", 300)):
        op.add_column(
            "operators",
            sa.Column(name, sa.String(length=length), server_default="", nullable=False),
        )
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("principal_id", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("expires_at", _DT, nullable=True))
        batch.add_column(sa.Column("last_used_at", _DT, nullable=True))
        batch.add_column(sa.Column("deployment_id", sa.String(length=40), nullable=True))
        batch.create_foreign_key("fk_api_keys_principal_id", "principals", ["principal_id"], ["id"])
        batch.create_index("ix_api_keys_principal_id", ["principal_id"])
    op.add_column("deployments", sa.Column("capture", sa.String(length=20), nullable=True))
    op.add_column("deployments", sa.Column("public_security", sa.JSON(), nullable=True))
    op.add_column("deployments", sa.Column("ended_at", _DT, nullable=True))
    op.add_column(
        "deployments",
        sa.Column("liveness", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column("deployments", sa.Column("notice_translations", sa.JSON(), nullable=True))
    op.add_column("pias", sa.Column("signed_by", sa.String(length=40), nullable=True))
    op.add_column("pias", sa.Column("signed_at", _DT, nullable=True))
    op.add_column("subjects", sa.Column("hold_ground", sa.String(length=40), nullable=True))
    op.add_column("consents", sa.Column("separate", sa.Boolean(), nullable=True))
    op.add_column("consents", sa.Column("age_basis", sa.String(length=20), nullable=True))
    op.add_column("consents", sa.Column("form_sha256", sa.String(length=64), nullable=True))
    op.add_column("consents", sa.Column("guardian_sealed", sa.LargeBinary(), nullable=True))
    op.add_column(
        "consents", sa.Column("guardian_form_sha256", sa.String(length=64), nullable=True)
    )
    op.add_column("subject_requests", sa.Column("text_sealed", sa.LargeBinary(), nullable=True))
    _existing_rows()


def _existing_rows() -> None:
    conn = op.get_bind()
    deployments = sa.table("deployments", sa.column("status", sa.String()))
    conn.execute(
        deployments.update().where(deployments.c.status == "active").values(status="draft")
    )
    keys = sa.table(
        "api_keys",
        sa.column("id", sa.String()),
        sa.column("operator_id", sa.String()),
        sa.column("principal_id", sa.String()),
    )
    principals = sa.table(
        "principals",
        sa.column("id", sa.String()),
        sa.column("operator_id", sa.String()),
        sa.column("name", sa.String()),
        sa.column("name_key", sa.String()),
        sa.column("role", sa.String()),
        sa.column("created_at", _DT),
    )
    now = datetime.now(UTC)
    for key_id, operator_id in conn.execute(sa.select(keys.c.id, keys.c.operator_id)).all():
        principal_id = "pr_" + str(key_id).removeprefix("key_")[:36]
        name = f"api key {key_id}"
        conn.execute(
            principals.insert().values(
                id=principal_id,
                operator_id=operator_id,
                name=name,
                name_key=name.casefold(),
                role="operator",
                created_at=now,
            )
        )
        conn.execute(keys.update().where(keys.c.id == key_id).values(principal_id=principal_id))


def downgrade() -> None:
    """Not supported: principals and signatures cannot be forgotten safely."""
    raise NotImplementedError("facegate migrations only go forward")
