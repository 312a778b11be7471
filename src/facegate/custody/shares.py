"""Split custody of a key: k-of-n shares, none of which alone says anything about it.

The recipe over :mod:`facegate.custody.hazmat.shamir`: a 32-byte key (the master key, or
the decision holder's key-encryption key of the encrypted-verification mode) is split into
``n`` shares held by different custodians (by default the operator, an HSM or escrow, and
the regulator), any ``threshold`` of which rebuild it. Each share says what it is a share
of (``purpose``), of which key (``key_id``, the key's public fingerprint), who holds it,
and how many are needed, so that shares of different keys or ceremonies are never mixed
silently; a rebuilt key is accepted only if its fingerprint matches.

    >>> shares = split_key(master.key, purpose="master-key")       # operator, hsm, regulator
    >>> write_share(shares[0], Path("operator.share"))              # mode 0600, never over
    >>> MasterKey(combine_key([read_share(a), read_share(b)], purpose="master-key"))

One share is a uniformly random string whatever the key: with the database, the key store
and one share, an attacker holds exactly what they held without the share.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from facegate._internal.clock import Entropy, system_entropy
from facegate.custody.hazmat import shamir
from facegate.errors import ConfigError, InvalidInput
from facegate.templates.hazmat import keys

__all__ = [
    "DEFAULT_HOLDERS",
    "MASTER_KEY",
    "Share",
    "combine_key",
    "read_share",
    "split_key",
    "write_share",
]

#: the custodians of a 2-of-3 split, in share order
DEFAULT_HOLDERS: Final = ("operator", "hsm", "regulator")
#: the purpose of shares of the installation's master key
MASTER_KEY: Final = "master-key"
_KIND: Final = "facegate-key-share"
_VERSION: Final = 1
_MAX_FILE: Final = 4096


@dataclass(frozen=True, slots=True)
class Share:
    """One custodian's share. ``repr`` never shows the share bytes."""

    purpose: str
    key_id: str
    holder: str
    index: int
    threshold: int
    count: int
    value: bytes = field(repr=False)

    def to_json(self) -> str:
        return json.dumps(
            {
                "kind": _KIND,
                "version": _VERSION,
                "purpose": self.purpose,
                "key_id": self.key_id,
                "holder": self.holder,
                "index": self.index,
                "threshold": self.threshold,
                "count": self.count,
                "share": base64.b64encode(self.value).decode(),
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> Share:
        try:
            doc = json.loads(text)
            if not isinstance(doc, dict) or doc.get("kind") != _KIND:
                raise ValueError("not a facegate key share")
            if doc.get("version") != _VERSION:
                raise ValueError(f"unknown share version {doc.get('version')!r}")
            share = cls(
                purpose=str(doc["purpose"]),
                key_id=str(doc["key_id"]),
                holder=str(doc["holder"]),
                index=int(doc["index"]),
                threshold=int(doc["threshold"]),
                count=int(doc["count"]),
                value=base64.b64decode(str(doc["share"]), validate=True),
            )
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise InvalidInput(f"not a readable key share ({exc})") from None
        if not 1 <= share.index <= share.count or not 2 <= share.threshold <= share.count:
            raise InvalidInput("the key share's index or threshold is out of range")
        if len(share.value) != keys.KEY_BYTES:
            raise InvalidInput("the key share has the wrong length")
        return share


def _label(value: str, what: str) -> str:
    if not value or not value.isascii() or not value.isprintable() or len(value) > 64:
        raise InvalidInput(f"a {what} is 1 to 64 printable ASCII characters, got {value!r}")
    return value


def split_key(
    key: bytes,
    *,
    purpose: str = MASTER_KEY,
    holders: Sequence[str] = DEFAULT_HOLDERS,
    threshold: int = 2,
    entropy: Entropy = system_entropy,
) -> list[Share]:
    """Shares of ``key`` (32 bytes), one per holder, any ``threshold`` of which rebuild it."""
    if not isinstance(key, bytes) or len(key) != keys.KEY_BYTES:
        raise InvalidInput(f"only a {keys.KEY_BYTES}-byte key can be split")
    names = [_label(h, "holder name") for h in holders]
    if len(set(names)) != len(names):
        raise InvalidInput("each holder is named once")
    if not 2 <= threshold <= len(names) <= shamir.MAX_SHARES:
        raise InvalidInput(
            f"a split needs 2 <= threshold <= holders, got {threshold} of {len(names)}",
            advice="One share alone must not open anything: use a threshold of at least 2.",
        )
    points = shamir.split(key, threshold=threshold, shares=len(names), entropy=entropy)
    kid = keys.key_id(key)
    return [
        Share(_label(purpose, "purpose"), kid, name, x, threshold, len(names), y)
        for name, (x, y) in zip(names, points, strict=True)
    ]


def combine_key(shares: Sequence[Share], *, purpose: str = MASTER_KEY) -> bytes:
    """The key the shares were split from; :class:`InvalidInput` if they are too few, of
    different keys or purposes, or do not rebuild the key their fingerprint names."""
    if not shares:
        raise InvalidInput("no key shares given")
    first = shares[0]
    for s in shares:
        if s.purpose != purpose:
            raise InvalidInput(f"a share of {s.purpose!r} cannot rebuild the {purpose!r}")
        same = (s.key_id, s.threshold, s.count) == (first.key_id, first.threshold, first.count)
        if not same:
            raise InvalidInput("these shares come from different splits")
    distinct = {s.index: s for s in shares}
    if len(distinct) < first.threshold:
        raise InvalidInput(
            f"{len(distinct)} distinct share(s) given; {first.threshold} of {first.count} are "
            "needed",
            advice="Ask another custodian for their share.",
        )
    points = [(s.index, s.value) for s in list(distinct.values())[: first.threshold]]
    key = shamir.combine(points)
    if not keys.constant_time_equal(keys.key_id(key).encode(), first.key_id.encode()):
        raise InvalidInput(
            "the shares do not rebuild the key they name: one of them is damaged or altered",
            advice="Try another combination of shares, or restore the damaged one.",
        )
    return key


def write_share(share: Share, path: Path) -> None:
    """Write one share to a new file of mode 0600; refuse to overwrite."""
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise ConfigError(f"refusing to overwrite {path}") from None
    with os.fdopen(fd, "w") as fh:
        fh.write(share.to_json() + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def read_share(path: Path) -> Share:
    """A share file; :class:`ConfigError` if others can read it, InvalidInput if damaged."""
    path = Path(path).expanduser()
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise InvalidInput(f"cannot open the share {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise InvalidInput(f"{path} is not a regular file")
        if os.name == "posix" and st.st_mode & 0o077:
            raise ConfigError(
                f"the share {path} can be read by other users",
                advice=f"Run: chmod 600 {path}",
            )
        data = fh.read(_MAX_FILE + 1)
    if len(data) > _MAX_FILE:
        raise InvalidInput(f"{path} is far too large to be a key share")
    try:
        return Share.from_json(data.decode())
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not a key share") from None
