"""Private folders (0700) for the parties' material, and reading it back; files are written
whole, 0600, by :func:`facegate.storage.home.write_atomically`."""

from __future__ import annotations

import os
from pathlib import Path

from facegate.errors import ConfigError


def private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def read_file(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{what} ({path}) is missing",
            advice="Restore it from your backup, or run 'facegate encrypted setup' again "
            "(a new ceremony: templates enrolled under the old key must be enrolled again).",
        ) from None
