"""The optional keyring mode: start from custodians' shares instead of a master key file.

In this mode the home holds no ``master.key``: the master key exists only as shares (by
default 2 of 3: operator, HSM or escrow, regulator), and a process that must open templates
is started with two of them. The rebuilt key lives only in that process's memory.

:func:`open_keyring_from_shares` builds a :class:`facegate.keyring.Keyring` through its
public ``Keyring.open(home, env_value=...)``, exactly as ``FACEGATE_MASTER_KEY`` does, so
the keyring's own behaviour is unchanged. A Gate wanting this mode calls it where it now
calls ``Keyring.open`` (gate.py), e.g. when ``FACEGATE_MASTER_KEY_SHARES`` names share files.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from facegate._internal.clock import Entropy
from facegate.custody.shares import MASTER_KEY, combine_key, read_share
from facegate.errors import ConfigError
from facegate.templates.hazmat.master_key import MASTER_KEY_FILENAME, MasterKey

if TYPE_CHECKING:
    from facegate.keyring import Keyring

__all__ = ["master_from_shares", "open_keyring_from_shares"]


def master_from_shares(paths: Sequence[Path]) -> MasterKey:
    """The master key rebuilt from share files (at least the threshold's number)."""
    return MasterKey(combine_key([read_share(Path(p)) for p in paths], purpose=MASTER_KEY))


def open_keyring_from_shares(home: Path, paths: Sequence[Path], *, entropy: Entropy) -> Keyring:
    """The home's keyring with the master key rebuilt from ``paths``.

    Refuses a home that still holds ``master.key``: in this mode no single file may open
    the templates, so a key file left beside the database would defeat the split.
    """
    from facegate.keyring import Keyring

    leftover = Path(home) / MASTER_KEY_FILENAME
    if leftover.exists():
        raise ConfigError(
            f"{leftover} exists, but this home is meant to be opened from key shares",
            advice="Split the key ('facegate custody split'), hand the shares out, then "
            "destroy the key file ('facegate custody split --destroy-key-file').",
        )
    master = master_from_shares(paths)
    return Keyring.open(Path(home), env_value=master.to_base64(), entropy=entropy)
