"""a partial index of each deployment's record events

A deployment row is held, when used, to the record the ledger last committed to (a row edited
outside facegate, its threshold set to 0, say, is refused). Finding that event must not read
a deployment's millions of verifications: this index holds only the four kinds of event that
commit to a deployment record.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 05:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_WHERE = "kind IN ('deployment.created', 'deployment.changed', 'pia.signed', 'deployment.ended')"


def upgrade() -> None:
    op.create_index(
        "ix_ledger_entries_record",
        "ledger_entries",
        ["deployment_id", "idx"],
        unique=False,
        sqlite_where=sa.text(_WHERE),
        postgresql_where=sa.text(_WHERE),
    )


def downgrade() -> None:
    op.drop_index("ix_ledger_entries_record", table_name="ledger_entries")
