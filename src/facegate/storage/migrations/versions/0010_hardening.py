"""hardening

Issue: every door fuzzed, every key with a lifecycle.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 21:00:00
"""

from __future__ import annotations

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet: reserved so that parallel work keeps a single chain of revisions."""


def downgrade() -> None:
    """Nothing to undo."""
