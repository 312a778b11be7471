"""the operator's link to its regulator: witness pushes, orders, delivered filings

Issue: the regulator node.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 21:00:00
"""

from __future__ import annotations

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet: reserved so that parallel work keeps a single chain of revisions."""


def downgrade() -> None:
    """Nothing to undo."""
