"""RFC 9162 (Certificate Transparency 2.0) Merkle tree hashing with SHA-256.

This module only hashes. Tree addressing lives in :mod:`facegate.ledger.tree`, proof building
and checking in :mod:`facegate.ledger.proofs`.

* ``hash_leaf(d)``        = SHA-256(0x00 || d)          (RFC 9162 §2.1.1, leaf)
* ``hash_children(l, r)`` = SHA-256(0x01 || l || r)     (RFC 9162 §2.1.1, interior node)
* ``EMPTY_ROOT``          = SHA-256("")                 (MTH({}) of the empty tree)

The domain-separation prefixes make a leaf hash and an interior hash of the same bytes differ,
which is what stops second-preimage tricks that pass an interior node off as a leaf.
"""

from __future__ import annotations

import hashlib
from typing import Final

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "LEAF_PREFIX",
    "NODE_PREFIX",
    "hash_children",
    "hash_leaf",
]

#: size in bytes of every hash in the tree
HASH_SIZE: Final = 32
#: domain-separation prefix of a leaf hash
LEAF_PREFIX: Final = b"\x00"
#: domain-separation prefix of an interior node hash
NODE_PREFIX: Final = b"\x01"
#: MTH({}), the root of the empty tree: SHA-256 of the empty string
EMPTY_ROOT: Final[bytes] = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


def hash_leaf(data: bytes | bytearray | memoryview) -> bytes:
    """Return the RFC 9162 leaf hash SHA-256(0x00 || data) of one log entry."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"leaf data must be bytes, not {type(data).__name__}")
    h = _sha256(LEAF_PREFIX)
    h.update(data)
    return h.digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 interior hash SHA-256(0x01 || left || right).

    Both children must be 32-byte hashes; anything else is a programming error (ValueError).
    """
    if len(left) != HASH_SIZE or len(right) != HASH_SIZE:
        raise ValueError(
            f"child hashes must be {HASH_SIZE} bytes, got {len(left)} and {len(right)} bytes"
        )
    return _sha256(NODE_PREFIX + left + right).digest()


def _node(left: bytes, right: bytes) -> bytes:
    """hash_children without the length checks, for inner loops over already checked hashes."""
    return _sha256(NODE_PREFIX + left + right).digest()
