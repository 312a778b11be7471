"""The verifiable index in the database: filed in each append's transaction, proven at any head.

Stored (``facegate.storage.tables.ledger_index``): one row per non-empty bucket (its records
and their hash), one undo row per append (the histories it replaced), and the state row (how
many entries the index took in, and its root). The tree above the buckets is not stored: each
process keeps it in memory (:class:`~facegate.ledger.index_tree.TopTree`, 4 MB) and, before
using it, checks it against the state row, catching up from the undo rows when another process
appended, or rebuilding it from the bucket hashes (65,536 rows at most) when it cannot tell.

An append changes one bucket row per key it names, writes one undo row and the state row, and
rehashes the changed buckets' paths in memory; :meth:`IndexStore.update` is the one call the
append makes. A proof at an earlier signed size (the newest one a witness cosigned, say) takes
the current buckets back through the undo rows written since, and is checked against the index
root that head signed before it is handed out.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from facegate.errors import InvalidInput, LedgerTampered, NotFound
from facegate.ledger.checkpoint import Checkpoint, CheckpointError, parse_signed_note
from facegate.ledger.driver_sql import insert_rows, mark
from facegate.ledger.hasher import HASH_SIZE
from facegate.ledger.head_lines import read_head_lines
from facegate.ledger.index_hasher import (
    DEFAULTS,
    DEPTH,
    RECORD_SIZE,
    _bucket,
    _chain,
    bucket_hash,
    bucket_of,
    keys_of_leaf,
)
from facegate.ledger.index_proofs import IndexProof, index_proof
from facegate.ledger.index_tree import TopTree
from facegate.storage import tables as t

__all__ = ["Filed", "IndexState", "IndexStore", "read_state", "signed_index_root"]

#: (entry index, leaf hash, index keys) of one appended entry
Filed = tuple[int, bytes, tuple[bytes, ...]]

_STATE_ID = 1
_CHUNK = 500
_NO_HISTORY = bytes(RECORD_SIZE - HASH_SIZE)  # count 0, all-zero chain


@dataclass(frozen=True, slots=True)
class IndexState:
    """How many log entries the index has taken in, and its root after them."""

    size: int
    root: bytes


def read_state(s: Session) -> IndexState:
    conn = s.connection()
    cursor = conn.connection.cursor()  # the driver's: read once per append, see _stored
    try:
        cursor.execute(
            f"SELECT size, root FROM ledger_index_state WHERE id = {mark(conn)}", (_STATE_ID,)
        )
        row = cursor.fetchone()
    finally:
        cursor.close()
    return IndexState(0, DEFAULTS[DEPTH]) if row is None else IndexState(row[0], bytes(row[1]))


def signed_index_root(s: Session, size: int) -> bytes:
    """The index root that the head signed at ``size`` commits to."""
    note = s.scalar(select(t.LedgerHead.note).where(t.LedgerHead.size == size))
    if note is None:
        raise NotFound(f"no checkpoint was signed at size {size}")
    try:
        lines = read_head_lines(Checkpoint.from_body(parse_signed_note(note).text))
    except CheckpointError as err:
        raise LedgerTampered(
            f"the head at size {size} cannot be read: {err.message}", index=None
        ) from err
    if lines.index_root is None:
        raise NotFound(
            f"the head at size {size} commits to no index: it was signed before the index "
            "existed, so it cannot prove that a history is complete",
            advice="Use a head signed since; every append signs one.",
        )
    return lines.index_root


class IndexStore:
    """The index of one ledger. Thread-safe; one per process is enough."""

    def __init__(self) -> None:
        self._tree: TopTree | None = None
        self._lock = threading.Lock()

    def update(self, s: Session, size: int, filed: Sequence[Filed]) -> bytes:
        """File appended entries (from index ``size`` on) under their keys, in the append's
        transaction, with the ledger's append lock held; return the index root after them.

        Entries the index never took in (the log predates it) are filed first.
        """
        state = read_state(s)
        if state.size > size:
            raise LedgerTampered(
                f"the index has taken in {state.size} entries but the log holds {size}",
                index=size,
            )
        todo = [*_unfiled(s, state.size, size), *filed]
        with self._lock:
            tree = self._synced(s, state)
            try:
                return _file(s, tree, todo, size + len(filed))
            except BaseException:
                self._tree = None  # possibly half-changed: rebuild on next use
                raise

    def prove(self, s: Session, key: bytes, size: int) -> IndexProof:
        """The completeness proof for ``key`` at ``size``, a size with a signed head whose
        index root the proof is checked against before it is returned."""
        state = read_state(s)
        if size < 1:
            raise InvalidInput(f"no proof at size {size}: sizes start at 1")
        if size > state.size:
            raise NotFound(
                f"the index has taken in {state.size} entries; it proves nothing at size {size}",
                advice="The next append files every entry the index has not taken in yet.",
            )
        want = state.root if size == state.size else signed_index_root(s, size)
        bucket = bucket_of(key)
        with self._lock:
            shared = self._tree
            if shared is not None and shared.size > state.size:
                base = _rebuild(s, state)  # an append of this process is in flight
            elif size == state.size:  # the common case: read the path under the lock
                base = self._synced(s, state)
                records = _read_buckets(s, [bucket]).get(bucket, b"")
                return _checked(index_proof(key, records, base), base.root, want)
            else:
                base = self._synced(s, state).copy()
        reverted = _revert(s, base, size, state.size) if size < state.size else {}
        if bucket in reverted:
            records = reverted[bucket]
        else:
            records = _read_buckets(s, [bucket]).get(bucket, b"")
        return _checked(index_proof(key, records, base), base.root, want)

    def _synced(self, s: Session, state: IndexState) -> TopTree:
        """The shared tree, brought to ``state`` (call with the lock held)."""
        tree = self._tree
        if tree is not None and tree.size < state.size:
            _advance(s, tree, state.size)
        if tree is None or tree.size != state.size or tree.root != state.root:
            tree = _rebuild(s, state)
        self._tree = tree
        return tree


def _checked(proof: IndexProof, root: bytes, want: bytes) -> IndexProof:
    """A proof is handed out only from a tree whose root the head at its size signed."""
    if root != want:
        raise LedgerTampered(
            f"the stored index at size {proof.size} has root {root.hex()}, but the head "
            f"signed at that size commits to {want.hex()}",
            index=None,
        )
    return proof


# --- reading and writing rows ----------------------------------------------------------------


@lru_cache(maxsize=16)
def _in_sql(n: int, mark: str) -> str:
    marks = ", ".join([mark] * n)
    return f"SELECT bucket, records, hash FROM ledger_index_buckets WHERE bucket IN ({marks})"


def _stored(s: Session, buckets: Iterable[int]) -> dict[int, tuple[bytes, bytes]]:
    """Stored (records, hash) of the given buckets (empty buckets are absent).

    Read through the driver's own cursor: an append reads a row per key it files, and
    SQLAlchemy's row objects would cost more than the query."""
    conn = s.connection()
    m = mark(conn)
    wanted = sorted(set(buckets))
    out: dict[int, tuple[bytes, bytes]] = {}
    cursor = conn.connection.cursor()
    try:
        for lo in range(0, len(wanted), _CHUNK):
            chunk = tuple(wanted[lo : lo + _CHUNK])
            cursor.execute(_in_sql(len(chunk), m), chunk)
            out.update((b, (bytes(r), bytes(h))) for b, r, h in cursor.fetchall())
    finally:
        cursor.close()
    return out


def _read_buckets(s: Session, buckets: Iterable[int]) -> dict[int, bytes]:
    """Stored records of the given buckets (empty buckets are absent)."""
    return {b: records for b, (records, _) in _stored(s, buckets).items()}


def _write(
    s: Session, buckets: dict[int, tuple[bytes, bytes]], undo: bytes, size: int, root: bytes
) -> None:
    conn = s.connection()
    m = mark(conn)
    cursor = conn.connection.cursor()  # the driver's: one row per key filed, see _stored
    try:
        if buckets:  # one key per bucket in a dict: the upserted rows never conflict
            insert_rows(
                conn,
                "ledger_index_buckets",
                ("bucket", "records", "hash"),
                [(b, r, h) for b, (r, h) in buckets.items()],
                suffix=" ON CONFLICT (bucket) DO UPDATE SET records = excluded.records,"
                " hash = excluded.hash",
            )
        if undo:
            cursor.execute(
                f"INSERT INTO ledger_index_undo (size, records) VALUES ({m}, {m})", (size, undo)
            )
        cursor.execute(
            f"INSERT INTO ledger_index_state (id, size, root) VALUES ({m}, {m}, {m}) "
            "ON CONFLICT (id) DO UPDATE SET size = excluded.size, root = excluded.root",
            (_STATE_ID, size, root),
        )
    finally:
        cursor.close()


def _unfiled(s: Session, start: int, end: int) -> list[Filed]:
    """Entries [start, end) that the index has not taken in (written before it existed)."""
    if start >= end:
        return []
    rows = s.execute(
        select(t.LedgerEntry.idx, t.LedgerEntry.data, t.LedgerEntry.leaf_hash)
        .where(t.LedgerEntry.idx >= start, t.LedgerEntry.idx < end)
        .order_by(t.LedgerEntry.idx)
    )
    return [(idx, bytes(leaf), keys_of_leaf(bytes(data))) for idx, data, leaf in rows]


# --- bucket records as a dict: key hash -> 40 bytes (count, chain) ----------------------------


def _split(records: bytes) -> dict[bytes, bytes]:
    return {
        records[i : i + HASH_SIZE]: records[i + HASH_SIZE : i + RECORD_SIZE]
        for i in range(0, len(records), RECORD_SIZE)
    }


def _join(values: dict[bytes, bytes]) -> bytes:
    return b"".join(k + values[k] for k in sorted(values) if values[k] != _NO_HISTORY)


def _find(records: bytes, key: bytes) -> tuple[int, bool]:
    """Where ``key`` is, or would go, in sorted bucket records (binary search), and whether
    it is there."""
    lo, hi = 0, len(records) // RECORD_SIZE
    while lo < hi:
        mid = (lo + hi) // 2
        if records[mid * RECORD_SIZE : mid * RECORD_SIZE + HASH_SIZE] < key:
            lo = mid + 1
        else:
            hi = mid
    pos = lo * RECORD_SIZE
    return pos, records[pos : pos + HASH_SIZE] == key


def _file(s: Session, tree: TopTree, todo: Sequence[Filed], new_size: int) -> bytes:
    """Apply the entries to the buckets, the tree and the tables; return the new root.

    The hot path of a batch append: each key's record is found by binary search and spliced
    in place (a bucket holds its records sorted), every hash is computed once."""
    groups: dict[bytes, list[tuple[int, bytes]]] = {}
    for index, leaf, keys in todo:
        for key in keys:
            if key in groups:
                groups[key].append((index, leaf))
            else:
                groups[key] = [(index, leaf)]
    buckets = {_bucket(k) for k in groups}
    stored = _stored(s, buckets)
    changed: dict[int, bytes] = {}
    for bucket in buckets:
        # The records themselves are rehashed: altered records (whatever their hash column
        # says) must not be extended and signed.
        records = stored.get(bucket, (b"", b""))[0]
        if bucket_hash(records) != tree.bucket_hash(bucket):
            raise LedgerTampered(
                f"index bucket {bucket} does not hash to the value its tree holds", index=None
            )
        changed[bucket] = records
    undo: list[bytes] = []
    for key, items in groups.items():
        bucket = _bucket(key)
        records = changed[bucket]
        pos, found = _find(records, key)
        value = records[pos + HASH_SIZE : pos + RECORD_SIZE] if found else _NO_HISTORY
        undo.append(key + value)
        count, chain = int.from_bytes(value[:8], "big"), value[8:]
        for index, leaf in items:
            chain = _chain(chain, index, leaf)
        record = key + (count + len(items)).to_bytes(8, "big") + chain
        changed[bucket] = records[:pos] + record + records[pos + RECORD_SIZE if found else pos :]
    hashes = {b: bucket_hash(r) for b, r in changed.items()}
    tree.set_buckets(hashes)
    tree.size = new_size
    _write(s, {b: (changed[b], hashes[b]) for b in changed}, b"".join(undo), new_size, tree.root)
    return tree.root


def _changed_keys(s: Session, after: int, upto: int) -> dict[bytes, bytes]:
    """Each key changed by the appends ending in (after, upto], with its history at ``after``
    (the value the earliest of those appends replaced)."""
    prior: dict[bytes, bytes] = {}
    rows = s.execute(
        select(t.LedgerIndexUndo.records)
        .where(t.LedgerIndexUndo.size > after, t.LedgerIndexUndo.size <= upto)
        .order_by(t.LedgerIndexUndo.size)
    )
    for (records,) in rows:
        data = bytes(records)
        for i in range(0, len(data), RECORD_SIZE):
            prior.setdefault(data[i : i + HASH_SIZE], data[i + HASH_SIZE : i + RECORD_SIZE])
    return prior


def _advance(s: Session, tree: TopTree, size: int) -> None:
    """Bring a tree forward to ``size`` by re-reading the buckets changed since its size."""
    buckets = {bucket_of(k) for k in _changed_keys(s, tree.size, size)}
    stored = _read_buckets(s, buckets)
    tree.set_buckets({b: bucket_hash(stored.get(b, b"")) for b in buckets})
    tree.size = size


def _revert(s: Session, tree: TopTree, size: int, top: int) -> dict[int, bytes]:
    """Take a tree at ``top`` back to ``size``; return the records of every bucket changed."""
    prior = _changed_keys(s, size, top)
    by_bucket: dict[int, list[bytes]] = {}
    for key in prior:
        by_bucket.setdefault(bucket_of(key), []).append(key)
    stored = _read_buckets(s, by_bucket)
    out: dict[int, bytes] = {}
    for bucket, keys in by_bucket.items():
        values = _split(stored.get(bucket, b""))
        values.update((k, prior[k]) for k in keys)
        out[bucket] = _join(values)
    tree.set_buckets({b: bucket_hash(r) for b, r in out.items()})
    tree.size = size
    return out


def _rebuild(s: Session, state: IndexState) -> TopTree:
    rows: Any = s.execute(select(t.LedgerIndexBucket.bucket, t.LedgerIndexBucket.hash))
    tree = TopTree.from_buckets(((b, bytes(h)) for b, h in rows), size=state.size)
    if tree.root != state.root:
        raise LedgerTampered(
            f"the index buckets add up to root {tree.root.hex()}, but the index records "
            f"{state.root.hex()} at size {state.size}",
            index=None,
            advice="Run 'facegate ledger verify': it rebuilds the index from the log and names\n"
            "the first disagreement.",
        )
    return tree
