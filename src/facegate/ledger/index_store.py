"""The verifiable index in the database: filed in each append's transaction, proven at any head.

The rows are described in :mod:`.index_rows`. An append does not rewrite the buckets it
changes: it writes one change row (each key's history before and after) and returns the new
index state, which the ledger writes into the ``ledger_state`` row it locks anyway; it keeps
the changed buckets in memory. Every :data:`COMPACT_BUCKETS` changed buckets (or
:data:`COMPACT_ENTRIES` entries) an append writes them all to the bucket table at once and
moves the snapshot row. Rewriting a bucket row per key per append was most of what the index
cost (a random B-tree page per new person); written in bulk, a page takes many changes, and
a deployment's bucket is written once, not once per event.

Each process keeps a *view*: the tree above the buckets (:class:`~.index_tree.TopTree`,
4 MB) at some size, and the records of every bucket changed since the snapshot. A view at
the state's size and root is current and needs no read. Otherwise, when another process
appended, it lays their change rows over the view (and moves onto the snapshot if they moved
it); when it cannot tell (a rolled-back append, a new process), it loads the snapshot and
lays every later change row over it. Whatever it builds must add up to the root the state
(and the head signed at the view's size) records, or nothing is signed.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final, cast

from sqlalchemy.orm import Session

from facegate.errors import InvalidInput, LedgerTampered, NotFound
from facegate.ledger.driver_sql import Writes
from facegate.ledger.hasher import HASH_SIZE
from facegate.ledger.index_hasher import RECORD_SIZE, _bucket, _chain, bucket_hash, bucket_of
from facegate.ledger.index_proofs import IndexProof, index_proof
from facegate.ledger.index_rows import (
    NO_HISTORY,
    Filed,
    IndexState,
    all_hashes,
    apply,
    by_bucket,
    changes_after,
    changes_before,
    read_snapshot,
    read_state,
    signed_index_root,
    stored,
    unfiled,
    write,
)
from facegate.ledger.index_tree import TopTree

__all__ = ["Filed", "IndexState", "IndexStore", "read_state", "signed_index_root"]

#: changed buckets kept in memory before an append writes them to the table
COMPACT_BUCKETS: Final = 8192
#: entries after which an append writes the snapshot anyway (bounds a new process's catch-up)
COMPACT_ENTRIES: Final = 16384
#: most buckets kept as read from the table (a bucket holds about 80 bytes a key filed in it)
TABLE_CACHE: Final = 16384


@dataclass(slots=True)
class _View:
    """The index at ``tree.size``: the tree, and the records of each bucket changed since
    ``snap`` (the others are as the bucket table holds them)."""

    tree: TopTree
    snap: IndexState
    #: whether the snapshot's row exists (a database from before snapshots has none)
    snap_stored: bool
    delta: dict[int, bytes] = field(default_factory=dict)
    #: buckets as the table holds them at ``snap`` (read before, or written by compaction);
    #: the table changes only when the snapshot moves, which empties this
    table: dict[int, bytes] = field(default_factory=dict)

    def copy(self) -> _View:
        return _View(self.tree.copy(), self.snap, self.snap_stored, dict(self.delta))

    def moved_to(self, snap: IndexState, delta: dict[int, bytes]) -> None:
        self.snap, self.delta, self.table = snap, delta, {}

    def records(self, s: Session, buckets: Iterable[int]) -> dict[int, bytes]:
        """Current records of the given buckets, each checked against the tree."""
        wanted = set(buckets)
        out = {b: self.delta[b] if b in self.delta else self.table.get(b) for b in wanted}
        missing = [b for b, records in out.items() if records is None]
        if not missing:
            return cast(dict[int, bytes], out)
        rows = stored(s, missing)
        if len(self.table) + len(missing) > TABLE_CACHE:
            self.table = {}
        for b in missing:
            records = rows.get(b, (b"", b""))[0]
            # The records themselves are hashed: altered records (whatever their hash column
            # says) must be neither extended and signed nor handed out in a proof.
            if bucket_hash(records) != self.tree.bucket_hash(b):
                raise LedgerTampered(
                    f"index bucket {b} does not hash to the value its tree holds", index=None
                )
            out[b] = self.table[b] = records
        return cast(dict[int, bytes], out)


class IndexStore:
    """The index of one ledger. Thread-safe; one per process is enough.

    ``compact_buckets`` and ``compact_entries`` say how often an append writes the bucket
    table (tests set them low to exercise the table)."""

    def __init__(
        self, *, compact_buckets: int = COMPACT_BUCKETS, compact_entries: int = COMPACT_ENTRIES
    ) -> None:
        self._view: _View | None = None
        self._lock = threading.Lock()
        self._compact = (max(1, compact_buckets), max(1, compact_entries))

    def update(
        self,
        s: Session,
        size: int,
        filed: Sequence[Filed],
        state: IndexState,
        *,
        writes: Writes | None = None,
    ) -> IndexState:
        """File appended entries (from index ``size`` on) under their keys, in the append's
        transaction, with the ledger's append lock held; ``state`` is the index state read
        under that lock. Return the index state after them, for the caller to write with
        the ledger's own state. The rows go with ``writes`` if given (the caller sends them).

        Entries the index never took in (the log predates it) are filed first.
        """
        if state.size > size:
            raise LedgerTampered(
                f"the index has taken in {state.size} entries but the log holds {size}",
                index=size,
            )
        todo = [*unfiled(s, state.size, size), *filed]
        with self._lock:
            view = self._synced(s, state)
            try:
                return self._file(s, view, todo, size + len(filed), writes)
            except BaseException:
                self._view = None  # possibly half-changed: rebuild on next use
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
            shared = self._view
            if shared is not None and shared.tree.size > state.size:
                base = _load(s, state)  # an append of this process is in flight
            elif size == state.size:  # the common case: read the path under the lock
                base = self._synced(s, state)
                records = base.records(s, [bucket])[bucket]
                return _checked(index_proof(key, records, base.tree), base.tree.root, want)
            else:
                base = self._synced(s, state).copy()
        reverted = _revert(s, base, size)
        records = reverted[bucket] if bucket in reverted else base.records(s, [bucket])[bucket]
        return _checked(index_proof(key, records, base.tree), base.tree.root, want)

    def _synced(self, s: Session, state: IndexState) -> _View:
        """The shared view, brought to ``state`` (call with the lock held). A view at the
        state's size and root is current, snapshot included (only an append moves it); else
        the snapshot is read, and other processes' change rows are laid over the view."""
        view, self._view = self._view, None  # until it is known good
        if view is not None and view.tree.size == state.size and view.tree.root == state.root:
            self._view = view
            return view
        if view is not None and _valid(s, view, state):
            snap, stored_ = read_snapshot(s, state)
            _catch_up(s, view, state, snap)
            view.snap_stored = stored_
            if view.tree.root == state.root:
                self._view = view
                return view
        view = self._view = _load(s, state)
        return view

    def _file(
        self,
        s: Session,
        view: _View,
        todo: Sequence[Filed],
        new_size: int,
        writes: Writes | None,
    ) -> IndexState:
        """Apply the entries to the view and write the append's rows; return the new root.

        The hot path of a batch append: each key's record is found by binary search and
        spliced in place (a bucket holds its records sorted), every hash is computed once."""
        groups: dict[bytes, list[tuple[int, bytes]]] = {}
        for index, leaf, keys in todo:
            for key in keys:
                if key in groups:
                    groups[key].append((index, leaf))
                else:
                    groups[key] = [(index, leaf)]
        changed = view.records(s, {_bucket(k) for k in groups})
        before: list[bytes] = []
        after: list[bytes] = []
        for key, items in groups.items():
            bucket = _bucket(key)
            records = changed[bucket]
            pos, found = _find(records, key)
            value = records[pos + HASH_SIZE : pos + RECORD_SIZE] if found else NO_HISTORY
            before.append(key + value)
            count, chain = int.from_bytes(value[:8], "big"), value[8:]
            for index, leaf in items:
                chain = _chain(chain, index, leaf)
            record = key + (count + len(items)).to_bytes(8, "big") + chain
            after.append(record)
            changed[bucket] = (
                records[:pos] + record + records[pos + RECORD_SIZE if found else pos :]
            )
        view.tree.set_buckets({b: bucket_hash(r) for b, r in changed.items()})
        view.tree.size = new_size
        view.delta.update(changed)
        state = IndexState(new_size, view.tree.root)
        most_buckets, most_entries = self._compact
        compact = len(view.delta) >= most_buckets or new_size - view.snap.size >= most_entries
        write(
            s,
            size=new_size,
            before=b"".join(before),
            after=b"".join(after),
            snapshot=state if compact else (None if view.snap_stored else view.snap),
            buckets={b: (r, view.tree.bucket_hash(b)) for b, r in view.delta.items()}
            if compact
            else {},
            writes=writes,
        )
        view.snap_stored = True
        if compact:
            view.moved_to(state, {})
        return state


def _checked(proof: IndexProof, root: bytes, want: bytes) -> IndexProof:
    """A proof is handed out only from a tree whose root the head at its size signed."""
    if root != want:
        raise LedgerTampered(
            f"the stored index at size {proof.size} has root {root.hex()}, but the head "
            f"signed at that size commits to {want.hex()}",
            index=None,
        )
    return proof


def _valid(s: Session, view: _View, state: IndexState) -> bool:
    """Whether the view is the index at its size: an append of this process that was rolled
    back leaves a view no head signed."""
    size = view.tree.size
    if size >= state.size:
        return size == state.size and view.tree.root == state.root
    if size == 0:
        return True
    try:
        return signed_index_root(s, size) == view.tree.root
    except NotFound:
        return False


def _catch_up(s: Session, view: _View, state: IndexState, snap: IndexState) -> None:
    """Bring a valid view forward to ``state`` over other processes' appends (their change
    rows), and onto the snapshot ``snap`` if another process moved it."""
    size = view.tree.size
    if size == state.size and snap == view.snap:
        return
    if snap == view.snap:
        latest = changes_after(s, size, state.size)
        grouped = by_bucket(latest)
        current = view.records(s, grouped)
        fresh = {b: apply(current[b], values) for b, values in grouped.items()}
        view.delta.update(fresh)
    else:  # the table moved: what differs from it now is what changed after its size
        since_snap = by_bucket(changes_after(s, snap.size, state.size))
        touched = set(by_bucket(changes_after(s, size, state.size)))
        rows = stored(s, since_snap.keys() | touched)
        view.moved_to(
            snap,
            {b: apply(rows.get(b, (b"", b""))[0], values) for b, values in since_snap.items()},
        )
        # a bucket changed after the view's size but not after the snapshot's is as stored
        fresh = {
            b: view.delta[b] if b in view.delta else rows.get(b, (b"", b""))[0]
            for b in touched | view.delta.keys()
        }
    view.tree.set_buckets({b: bucket_hash(r) for b, r in fresh.items()})
    view.tree.size = state.size


def _load(s: Session, state: IndexState) -> _View:
    """The view at ``state`` from the bucket table and the change rows after its snapshot.

    The state itself is first held to the head signed at its size: rows rewritten to agree
    with each other (an emptied index, say) must still agree with the operator's signature."""
    if state.size:
        with contextlib.suppress(NotFound):  # no head at that size commits to an index
            signed = signed_index_root(s, state.size)
            if signed != state.root:
                raise LedgerTampered(
                    f"the index records root {state.root.hex()} at size {state.size}, but "
                    f"the head signed at that size commits to {signed.hex()}",
                    index=None,
                    advice="Run 'facegate ledger verify': it rebuilds the index from the log "
                    "and names\nthe first disagreement.",
                )
    snap, snap_stored = read_snapshot(s, state)
    tree = TopTree.from_buckets(all_hashes(s), size=snap.size)
    if tree.root != snap.root:
        raise LedgerTampered(
            f"the index buckets add up to root {tree.root.hex()}, but the index records "
            f"{snap.root.hex()} for them at size {snap.size}",
            index=None,
            advice="Run 'facegate ledger verify': it rebuilds the index from the log and names\n"
            "the first disagreement.",
        )
    view = _View(tree, snap, snap_stored)
    if state.size > snap.size:
        grouped = by_bucket(changes_after(s, snap.size, state.size))
        current = view.records(s, grouped)  # checks each row against its hash in the tree
        view.delta = {b: apply(current[b], values) for b, values in grouped.items()}
        tree.set_buckets({b: bucket_hash(r) for b, r in view.delta.items()})
        tree.size = state.size
    if tree.root != state.root or tree.size != state.size:
        raise LedgerTampered(
            f"the index snapshot with the changes after it adds up to root {tree.root.hex()}, "
            f"but the index records {state.root.hex()} at size {state.size}",
            index=None,
            advice="Run 'facegate ledger verify': it rebuilds the index from the log and names\n"
            "the first disagreement.",
        )
    return view


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


def _revert(s: Session, view: _View, size: int) -> dict[int, bytes]:
    """Take a view (a copy) back to ``size``; return the records of every bucket changed."""
    prior = by_bucket(changes_before(s, size, view.tree.size))
    current = view.records(s, prior)
    out = {b: apply(current[b], values) for b, values in prior.items()}
    view.tree.set_buckets({b: bucket_hash(r) for b, r in out.items()})
    view.tree.size = size
    return out
