"""Where the master key comes from: a key file or the environment (the embedded default), or
a PKCS#11 token (:mod:`facegate.hsm`), and the older keys of a rotation in progress."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from facegate._internal.clock import Entropy
from facegate.errors import ConfigError, InvalidTemplate
from facegate.templates import MasterKey
from facegate.templates.hazmat import keys
from facegate.templates.hazmat.master_key import MASTER_KEY_FILENAME

if TYPE_CHECKING:
    from facegate.config import HsmSettings
    from facegate.hsm import HsmMaster

__all__ = ["custody", "key_files", "open_masters", "unwrap_with"]


def open_masters(
    home: Path,
    *,
    env_value: str | None,
    previous_env_value: str | None,
    previous_env: str,
    suffixes: tuple[str, ...],
    hsm: HsmSettings | None,
    entropy: Entropy,
    create: bool,
) -> tuple[MasterKey | HsmMaster, list[MasterKey | HsmMaster]]:
    """The current master key and the previous ones (see :meth:`facegate.keyring.Keyring.open`)."""
    previous: list[MasterKey | HsmMaster] = []
    if hsm is not None and hsm.module is not None:
        from facegate.hsm import open_hsm

        master, older = open_hsm(hsm, create=create)
        previous.extend(older)
        return master, previous
    path = home / MASTER_KEY_FILENAME
    if create:
        current = MasterKey.load_or_create(path, env_value=env_value, entropy=entropy)
    else:
        current = MasterKey.load(path, env_value=env_value)
    if previous_env_value is None:
        previous_env_value = os.environ.get(previous_env) or None
    previous.extend(key_files(home, *suffixes))
    if previous_env_value:
        previous.append(MasterKey.from_base64(previous_env_value))
    return current, previous


def custody(home: Path, *, env_value: str | None, hsm: HsmSettings | None) -> str:
    """How the master key in use is held, for reports (``facegate.reports.measures``):
    ``hsm``, ``environment``, ``file-passphrase``, ``file-clear``, or ``shares`` (rebuilt
    from custodians' shares, :mod:`facegate.custody.loading`, which refuses a key file)."""
    if hsm is not None and hsm.module is not None:
        return "hsm"
    if env_value is not None:
        return "environment"
    try:
        doc = json.loads((home / MASTER_KEY_FILENAME).read_text())
    except FileNotFoundError:
        return "shares"
    except (OSError, ValueError):
        return "file-passphrase"  # unreadable here: not known to be in clear
    protection = doc.get("protection") if isinstance(doc, dict) else None
    return "file-clear" if protection == "none" else "file-passphrase"


def unwrap_with(master: MasterKey | HsmMaster, blob: bytes, context: str) -> bytes:
    if isinstance(master, MasterKey):
        return keys.unwrap_key(master.key, blob, context=context)
    return master.unwrap(blob, context=context)  # inside the HSM


def key_files(home: Path, *suffixes: str) -> list[MasterKey]:
    """The master keys in ``master.key<suffix>`` files of ``home`` that exist."""
    found = []
    for suffix in suffixes:
        path = home / (MASTER_KEY_FILENAME + suffix)
        if path.exists():
            try:
                found.append(MasterKey.from_file(path))
            except (ConfigError, InvalidTemplate):
                if suffix == "":
                    raise
                # a half-written staging file is not a key; the rotation will redo it
    return found
