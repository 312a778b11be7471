"""transfers to recipients, their keys, fingerprints and canaries

Issue: when face data leaves.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 21:00:00
"""

from __future__ import annotations

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet: reserved so that parallel work keeps a single chain of revisions."""


def downgrade() -> None:
    """Nothing to undo."""
