"""the verifiable index over the ledger and its column bindings

Issue: evidence that does not trust the operator.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 21:00:00
"""

from __future__ import annotations

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet: reserved so that parallel work keeps a single chain of revisions."""


def downgrade() -> None:
    """Nothing to undo."""
