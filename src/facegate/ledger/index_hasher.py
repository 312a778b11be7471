"""Hashing of the verifiable index: the ledger's map from a key to the history of its events.

This module only hashes and encodes. The tree lives in :mod:`facegate.ledger.index_tree`,
proof building and checking in :mod:`facegate.ledger.index_proofs`, the database side in
:mod:`facegate.ledger.index_store`.

The index maps each *key* (a subject pseudonym, a deployment id) to its *history*: how many
log entries name the key, and a hash chain over their positions and leaf hashes, in log order.
It is a fixed-depth sparse Merkle tree in the manner of transparency-dev's verifiable index
and of the prefix trees of Key Transparency (IETF KEYTRANS) and Meta's AKD: keys are hashed,
the first :data:`DEPTH` bits of a key hash choose a *bucket*, a bucket is the sorted list of
its keys with their histories, and buckets are hashed pairwise up to one root. A bucket lists
every key it holds, so it proves a key's absence as well as its value; the count in a history
is its "greatest version", and the chain makes every earlier version part of the claim.

* ``key_hash(kind, value)``  = SHA-256(0x10 || kind byte || UTF-8 value); kind byte 0x01 for a
  subject pseudonym, 0x02 for a deployment id
* history after no entry     = (0, 32 zero bytes)
* history after entry ``i``  = (n + 1, SHA-256(0x11 || chain || uint64be(i) || leaf hash))
* bucket record              = key hash (32) || uint64be(count) || chain (32), 72 bytes
* ``bucket_hash(records)``   = SHA-256(0x12 || records sorted by key hash, no duplicates)
* ``node_hash(l, r)``        = SHA-256(0x13 || l || r); the root is DEPTH levels above buckets

The prefixes keep every hash here apart from the log's own (0x00 leaves, 0x01 nodes).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from facegate.ledger.hasher import HASH_SIZE

__all__ = [
    "DEFAULTS",
    "DEPTH",
    "EMPTY_CHAIN",
    "KIND_DEPLOYMENT",
    "KIND_SUBJECT",
    "RECORD_SIZE",
    "History",
    "bucket_hash",
    "bucket_of",
    "chain_next",
    "decode_records",
    "encode_records",
    "event_keys",
    "key_hash",
    "keys_of_leaf",
    "node_hash",
]

#: levels of the tree above the buckets: 2**DEPTH buckets, chosen by a key hash's first bits
DEPTH: Final = 16
#: the kinds of key the index holds, as the byte that separates them in the key hash
KIND_SUBJECT: Final = 0x01
KIND_DEPLOYMENT: Final = 0x02
KINDS: Final = {"subject": KIND_SUBJECT, "deployment": KIND_DEPLOYMENT}
#: bytes of one bucket record: key hash, count, chain
RECORD_SIZE: Final = HASH_SIZE + 8 + HASH_SIZE
#: the chain of a key no entry names
EMPTY_CHAIN: Final = bytes(HASH_SIZE)

_KEY, _CHAIN, _BUCKET, _NODE = b"\x10", b"\x11", b"\x12", b"\x13"
_sha256 = hashlib.sha256


@lru_cache(maxsize=1 << 16)  # deployments, and people seen again, repeat across appends
def key_hash(kind: str, value: str) -> bytes:
    """The index key of a subject pseudonym (``kind="subject"``) or a deployment id."""
    tag = KINDS.get(kind)
    if tag is None:
        raise ValueError(f"index keys are of kind 'subject' or 'deployment', not {kind!r}")
    if not isinstance(value, str) or not value:
        raise ValueError(f"a {kind} key must be a non-empty string")
    return _sha256(_KEY + bytes([tag]) + value.encode("utf-8")).digest()


def event_keys(subject: object, deployment: object) -> tuple[bytes, ...]:
    """The keys an event is filed under: its subject and its deployment, where it names them.

    Only non-empty strings name something (facegate writes a string or null).
    """
    keys: list[bytes] = []
    if isinstance(subject, str) and subject:
        keys.append(key_hash("subject", subject))
    if isinstance(deployment, str) and deployment:
        keys.append(key_hash("deployment", deployment))
    return tuple(keys)


def keys_of_leaf(data: bytes) -> tuple[bytes, ...]:
    """The keys of one log entry, read from its exact bytes: anyone holding the log can rebuild
    the index with this function alone. An entry that is not a JSON object has no keys."""
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        return ()
    if not isinstance(value, dict):
        return ()
    return event_keys(value.get("subject"), value.get("deployment"))


@dataclass(frozen=True, slots=True)
class History:
    """What the index holds for one key: how many entries name it, and their hash chain."""

    count: int = 0
    chain: bytes = EMPTY_CHAIN

    def __post_init__(self) -> None:
        if isinstance(self.count, bool) or not isinstance(self.count, int):
            raise TypeError("a history count must be an int")
        if not 0 <= self.count < 2**64:
            raise ValueError(f"a history count must be in [0, 2**64), got {self.count}")
        if not isinstance(self.chain, bytes) or len(self.chain) != HASH_SIZE:
            raise ValueError(f"a history chain must be a {HASH_SIZE}-byte hash")
        if self.count == 0 and self.chain != EMPTY_CHAIN:
            raise ValueError("an empty history has the all-zero chain")

    def then(self, index: int, leaf_hash: bytes) -> History:
        """This history extended by the entry at ``index`` whose leaf hash is ``leaf_hash``."""
        return History(self.count + 1, chain_next(self.chain, index, leaf_hash))

    def to_text(self) -> str:
        return f"{self.count} {base64.b64encode(self.chain).decode()}"


def chain_next(chain: bytes, index: int, leaf_hash: bytes) -> bytes:
    """One step of a key's chain: SHA-256(0x11 || chain || uint64be(index) || leaf hash)."""
    if len(chain) != HASH_SIZE or len(leaf_hash) != HASH_SIZE:
        raise ValueError(f"chain and leaf hash must be {HASH_SIZE}-byte hashes")
    if not 0 <= index < 2**64:
        raise ValueError(f"an entry index must be in [0, 2**64), got {index}")
    return _sha256(_CHAIN + chain + index.to_bytes(8, "big") + leaf_hash).digest()


def _chain(chain: bytes, index: int, leaf_hash: bytes) -> bytes:
    """chain_next without the checks, for inner loops over hashes this package made."""
    return _sha256(_CHAIN + chain + index.to_bytes(8, "big") + leaf_hash).digest()


def _bucket(key: bytes) -> int:
    """bucket_of without the check, for inner loops over key hashes this package made."""
    return int.from_bytes(key[:4], "big") >> (32 - DEPTH)


def bucket_of(key: bytes) -> int:
    """The bucket of a key hash: its first DEPTH bits."""
    if len(key) != HASH_SIZE:
        raise ValueError(f"a key hash is {HASH_SIZE} bytes, got {len(key)}")
    return int.from_bytes(key[:4], "big") >> (32 - DEPTH)


def encode_records(records: Iterable[tuple[bytes, History]]) -> bytes:
    """Bucket records as bytes, sorted by key hash. Histories of count 0 are left out: a key
    no entry names is simply absent."""
    out = bytearray()
    last = b""
    for key, hist in sorted(records, key=lambda r: r[0]):
        if len(key) != HASH_SIZE:
            raise ValueError(f"a key hash is {HASH_SIZE} bytes, got {len(key)}")
        if key == last:
            raise ValueError(f"key {key.hex()} appears twice in one bucket")
        last = key
        if hist.count:
            out += key + hist.count.to_bytes(8, "big") + hist.chain
    return bytes(out)


def decode_records(data: bytes) -> list[tuple[bytes, History]]:
    """Parse bucket records; they must be whole, strictly sorted by key hash, counts above 0.

    Raises ValueError naming the first record that is not.
    """
    if len(data) % RECORD_SIZE:
        raise ValueError(f"a bucket is a whole number of {RECORD_SIZE}-byte records")
    out: list[tuple[bytes, History]] = []
    last = b""
    for pos in range(0, len(data), RECORD_SIZE):
        key = data[pos : pos + HASH_SIZE]
        count = int.from_bytes(data[pos + HASH_SIZE : pos + HASH_SIZE + 8], "big")
        chain = data[pos + HASH_SIZE + 8 : pos + RECORD_SIZE]
        if key <= last:
            raise ValueError(f"bucket record {pos // RECORD_SIZE} is out of order or repeated")
        if count == 0:
            raise ValueError(f"bucket record {pos // RECORD_SIZE} has a count of 0")
        last = key
        out.append((bytes(key), History(count, bytes(chain))))
    return out


def bucket_hash(records: bytes) -> bytes:
    """SHA-256(0x12 || records): the hash of one bucket as encoded by :func:`encode_records`."""
    return _sha256(_BUCKET + records).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x13 || left || right): an interior node of the index."""
    return _sha256(_NODE + left + right).digest()


def _defaults() -> tuple[bytes, ...]:
    level = [bucket_hash(b"")]
    for _ in range(DEPTH):
        level.append(node_hash(level[-1], level[-1]))
    return tuple(level)


#: DEFAULTS[l] is the hash of a subtree of height l holding no key (l = 0: an empty bucket);
#: DEFAULTS[DEPTH] is the root of the empty index
DEFAULTS: Final[tuple[bytes, ...]] = _defaults()
