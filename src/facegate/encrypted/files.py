"""Private files for the parties' material: written whole (temporary file, fsync, rename),
mode 0600 in folders of mode 0700."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from facegate.errors import ConfigError


def private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def write_private(path: Path, blob: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        os.fchmod(fd, 0o600)
        view = memoryview(blob)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def read_file(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{what} ({path}) is missing",
            advice="Restore it from your backup, or run 'facegate encrypted setup' again "
            "(a new ceremony: templates enrolled under the old key must be enrolled again).",
        ) from None
