"""web sessions and logins

Issue: a face for every party.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 21:00:00
"""

from __future__ import annotations

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet: reserved so that parallel work keeps a single chain of revisions."""


def downgrade() -> None:
    """Nothing to undo."""
