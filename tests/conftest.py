"""Shared fixtures: where the real face photos are, and temporary homes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FACES = Path(os.environ.get("FACEGATE_FACES", ROOT.parent / "shared" / "data" / "faces"))


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    if not FACES.is_dir():
        pytest.fail(f"face photos not found at {FACES}; set FACEGATE_FACES")
    return FACES
