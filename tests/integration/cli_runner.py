"""Run the ``facegate`` command line in a separate process, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[2] / "src")


def fg(home: Path | None, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    """``facegate ARGS --home HOME``; with ``ok``, fail the test unless it exits 0."""
    extra = ["--home", str(home)] if home is not None else []
    proc = subprocess.run(
        [sys.executable, "-m", "facegate.cli", *args, *extra],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": SRC, "COLUMNS": "200"},
    )
    if ok:
        assert proc.returncode == 0, proc.stderr + proc.stdout
    return proc
