"""The verifiable index in memory: the tree above the buckets, and a builder that replays a log.

:class:`TopTree` holds the 2**DEPTH bucket hashes and every node above them (about 4 MB):
setting some bucket hashes rehashes only their paths, once per shared parent. The database
side (:mod:`facegate.ledger.index_store`) keeps one in memory and stores only the buckets.

:class:`IndexBuilder` rebuilds the whole index from a log's entries alone, as anyone can: the
ledger's own verification, a witness or a regulator mirroring the log, and the tests. It is the
reference the stored index must always equal.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Final

from facegate.ledger.hasher import HASH_SIZE, hash_leaf
from facegate.ledger.index_hasher import (
    DEFAULTS,
    DEPTH,
    EMPTY_CHAIN,
    History,
    _chain,
    bucket_hash,
    bucket_of,
    keys_of_leaf,
    node_hash,
)

__all__ = ["BUCKETS", "IndexBuilder", "TopTree"]

#: how many buckets the index has
BUCKETS: Final = 1 << DEPTH
_NONE: Final = (0, EMPTY_CHAIN)
_NODE: Final = b"\x13"  # see index_hasher.node_hash
_FEW: Final = 4  # up to this many changed buckets, paths are walked one by one


class TopTree:
    """Bucket hashes (level 0) and the nodes above them up to the root (level DEPTH).

    ``size`` is the log size this tree stands for; the callers keep it right.
    """

    __slots__ = ("levels", "size")

    def __init__(self, *, size: int = 0) -> None:
        self.levels: list[list[bytes]] = [
            [DEFAULTS[level]] * (BUCKETS >> level) for level in range(DEPTH + 1)
        ]
        self.size = size

    @classmethod
    def from_buckets(cls, hashes: Iterable[tuple[int, bytes]], *, size: int) -> TopTree:
        """A tree from the hashes of its non-empty buckets (the others are empty)."""
        tree = cls(size=size)
        level0 = tree.levels[0]
        for bucket, h in hashes:
            _check_bucket(bucket)
            level0[bucket] = bytes(h)
        for level in range(DEPTH):
            below, above = tree.levels[level], tree.levels[level + 1]
            empty = DEFAULTS[level]
            for i in range(len(above)):
                left, right = below[2 * i], below[2 * i + 1]
                if left != empty or right != empty:
                    above[i] = node_hash(left, right)
        return tree

    def copy(self) -> TopTree:
        twin = TopTree.__new__(TopTree)
        twin.levels = [list(level) for level in self.levels]
        twin.size = self.size
        return twin

    @property
    def root(self) -> bytes:
        return self.levels[DEPTH][0]

    def bucket_hash(self, bucket: int) -> bytes:
        return self.levels[0][bucket]

    def set_buckets(self, hashes: Mapping[int, bytes]) -> None:
        """Replace some bucket hashes and rehash their paths (each shared parent once)."""
        levels, level0 = self.levels, self.levels[0]
        for bucket, h in hashes.items():
            _check_bucket(bucket)
            level0[bucket] = bytes(h)
        sha256, prefix = hashlib.sha256, _NODE  # node_hash, inlined: ~4,000 a batch append
        if len(hashes) <= _FEW:  # one or two paths: walk each up (a few parents twice)
            for bucket in hashes:
                i = bucket >> 1
                for level in range(DEPTH):
                    below = levels[level]
                    levels[level + 1][i] = sha256(prefix + below[2 * i] + below[2 * i + 1]).digest()
                    i >>= 1
            return
        dirty = {bucket >> 1 for bucket in hashes}
        for level in range(DEPTH):
            below, above = levels[level], levels[level + 1]
            for i in dirty:
                above[i] = sha256(prefix + below[2 * i] + below[2 * i + 1]).digest()
            dirty = {i >> 1 for i in dirty}

    def path(self, bucket: int) -> tuple[bytes, ...]:
        """The sibling hashes from a bucket up to the root, bucket end first."""
        _check_bucket(bucket)
        return tuple(self.levels[level][(bucket >> level) ^ 1] for level in range(DEPTH))


def _check_bucket(bucket: int) -> None:
    if not 0 <= bucket < BUCKETS:
        raise ValueError(f"a bucket number is in [0, {BUCKETS}), got {bucket}")


class IndexBuilder:
    """The whole index in memory, built by replaying a log from its first entry.

    Feed entries in log order with :meth:`add` (leaf hash and keys) or :meth:`add_leaf` (the
    exact entry bytes); read :meth:`root` at any size reached. Memory: about 200 bytes a key.
    """

    def __init__(self) -> None:
        # bucket -> key hash -> (count, chain); plain tuples, as a replay files millions
        self._buckets: dict[int, dict[bytes, tuple[int, bytes]]] = {}
        self._dirty: set[int] = set()
        self._tree = TopTree()
        self.size = 0

    def add(self, index: int, leaf_hash: bytes, keys: Iterable[bytes]) -> None:
        """File the entry at ``index`` under ``keys``; entries come in log order, each once."""
        if index != self.size:
            raise ValueError(f"expected entry {self.size} next, got entry {index}")
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError(f"a leaf hash is {HASH_SIZE} bytes")
        for key in dict.fromkeys(keys):
            bucket = bucket_of(key)
            records = self._buckets.get(bucket)
            if records is None:
                records = self._buckets[bucket] = {}
            count, chain = records.get(key, _NONE)
            records[key] = (count + 1, _chain(chain, index, leaf_hash))
            self._dirty.add(bucket)
        self.size += 1

    def add_leaf(self, index: int, data: bytes) -> None:
        """File the entry at ``index`` from its exact bytes (what a mirror of the log holds)."""
        self.add(index, hash_leaf(data), keys_of_leaf(data))

    def history(self, key: bytes) -> History:
        count, chain = self._buckets.get(bucket_of(key), {}).get(key, _NONE)
        return History(count, chain)

    def records(self, bucket: int) -> bytes:
        """The encoded records of one bucket, as stored and as carried in proofs."""
        records = self._buckets.get(bucket, {})
        return b"".join(
            k + records[k][0].to_bytes(8, "big") + records[k][1] for k in sorted(records)
        )

    def buckets(self) -> dict[int, bytes]:
        """Every non-empty bucket's encoded records."""
        return {b: self.records(b) for b in sorted(self._buckets)}

    def tree(self) -> TopTree:
        """The tree at the current size (shared: copy it before changing it)."""
        if self._dirty:
            self._tree.set_buckets({b: bucket_hash(self.records(b)) for b in self._dirty})
            self._dirty.clear()
        self._tree.size = self.size
        return self._tree

    def root(self) -> bytes:
        """The index root at the current size."""
        return self.tree().root
