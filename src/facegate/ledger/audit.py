"""Verify the whole ledger in the database: every stored column, node, head and index row.

What is recomputed from the entries' exact bytes, and compared with what is stored:

* each entry's leaf hash, and its copied columns (``event_id``, ``kind``, ``deployment_id``,
  ``subject``) against the fields of the leaf they were copied from: a row re-tagged to hide
  an event from a person's bundle is named, with the value found and the value expected;
* every stored Merkle node, and every signed head (signature, size, root);
* the verifiable index, rebuilt from the log alone, against the root each head signed and
  against the stored index tables;
* the chain of heads: each head names its predecessor (``facegate/prev``), and the log's
  current size must have one, so a signed head deleted from the database is reported by size.

Nothing raises for tampering: the report says what is wrong, naming the first bad entry.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from facegate.errors import LedgerError, LedgerTampered
from facegate.ledger.checkpoint import Checkpoint, Verifier, open_checkpoint
from facegate.ledger.hasher import hash_leaf
from facegate.ledger.head_lines import read_head_lines
from facegate.ledger.index_hasher import bucket_hash, event_keys
from facegate.ledger.index_rows import apply, by_bucket, changes_after, read_states
from facegate.ledger.index_tree import IndexBuilder, TopTree
from facegate.ledger.tree import MemoryNodeStore, NodeId, root_at
from facegate.results import LedgerReport
from facegate.storage import tables as t
from facegate.storage.db import Database

__all__ = ["LedgerAudit", "audit"]

_BATCH = 5000
#: stored column -> the leaf field it copies
_COLUMNS = (
    ("event_id", "id"),
    ("kind", "kind"),
    ("deployment_id", "deployment"),
    ("subject", "subject"),
)


@dataclass(frozen=True)
class LedgerAudit(LedgerReport):
    """A :class:`~facegate.results.LedgerReport` with what the index and head checks found."""

    #: sizes at which a signed head is expected (a successor names it, or it is the log's
    #: current size) but none is stored
    missing_heads: tuple[int, ...] = ()
    #: root of the index rebuilt from the log at its current size (hex; "" if empty)
    index_root_hex: str = ""


class _Missing(LedgerTampered):
    def __init__(self, missing: Sequence[int], why: str) -> None:
        super().__init__(why, index=None)
        self.missing = tuple(missing)


def audit(db: Database, *, origin: str, public_key: bytes) -> LedgerAudit:
    """Recompute everything; report the first problem found (or that there is none)."""
    try:
        return _audit(db, Verifier(origin, public_key))
    except LedgerTampered as err:
        return LedgerAudit(
            ok=False,
            size=-1,
            root_hex="",
            heads_checked=0,
            first_bad_index=err.index,
            problem=err.message,
            missing_heads=getattr(err, "missing", ()),
        )


def _audit(db: Database, verifier: Verifier) -> LedgerAudit:
    tree, index = MemoryNodeStore(), IndexBuilder()
    with db.read() as s:
        expected = s.scalar(select(t.LedgerState.size).where(t.LedgerState.id == 1)) or 0
        head_sizes = list(s.scalars(select(t.LedgerHead.size).order_by(t.LedgerHead.size)))
        roots = _replay(s, tree, index, head_sizes)
        if tree.size != expected:
            raise LedgerTampered(
                f"the ledger says it holds {expected} entries but {tree.size} are present",
                index=min(tree.size, expected),
            )
        _check_nodes(s, tree)
        heads, prevs, indexed = _check_heads(s, tree, verifier, roots)
        _check_chain(tree.size, set(head_sizes), prevs)
        _check_index_tables(s, index, committed=indexed)
    root = tree.root(tree.size) if tree.size else b""
    return LedgerAudit(
        ok=True,
        size=tree.size,
        root_hex=root.hex(),
        heads_checked=heads,
        index_root_hex=index.root().hex() if tree.size else "",
    )


def _replay(
    s: Session, tree: MemoryNodeStore, index: IndexBuilder, head_sizes: list[int]
) -> dict[int, bytes]:
    """Read every entry in order, check it, and rebuild the tree and the index; return the
    index root at each head size."""
    roots: dict[int, bytes] = {}
    pending = iter(head_sizes)
    next_head = next(pending, None)
    last = -1
    while True:
        rows = s.execute(
            select(
                t.LedgerEntry.idx,
                t.LedgerEntry.data,
                t.LedgerEntry.leaf_hash,
                t.LedgerEntry.event_id,
                t.LedgerEntry.kind,
                t.LedgerEntry.deployment_id,
                t.LedgerEntry.subject,
            )
            .where(t.LedgerEntry.idx > last)
            .order_by(t.LedgerEntry.idx)
            .limit(_BATCH)
        ).all()
        if not rows:
            return roots
        leaves = []
        for row in rows:
            idx, data, stored = row[0], bytes(row[1]), bytes(row[2])
            if idx != index.size:
                raise LedgerTampered(f"entry {index.size} is missing", index=index.size)
            leaf = hash_leaf(data)
            if leaf != stored:
                raise LedgerTampered(
                    f"entry {idx} was altered: its content hashes to {leaf.hex()}, "
                    f"stored {stored.hex()}",
                    index=idx,
                )
            fields = _fields(idx, data)
            _check_columns(idx, fields, row[3:])
            index.add(idx, leaf, event_keys(fields.get("subject"), fields.get("deployment")))
            leaves.append(leaf)
            while next_head is not None and next_head <= index.size:
                if next_head == index.size:
                    roots[next_head] = index.root()
                next_head = next(pending, None)
        tree.append(leaves)
        last = rows[-1][0]


def _fields(idx: int, data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        value = None
    if not isinstance(value, dict):
        raise LedgerTampered(
            f"entry {idx} is not a facegate event, so its stored columns cannot be checked",
            index=idx,
        )
    return value


def _check_columns(idx: int, fields: dict[str, Any], stored: Sequence[object]) -> None:
    for (column, field), found in zip(_COLUMNS, stored, strict=True):
        want = fields.get(field)
        if found != want:
            raise LedgerTampered(
                f"entry {idx}: the {column} column holds {found!r}, but the authenticated "
                f"entry says {want!r}",
                index=idx,
            )


def _check_nodes(s: Session, tree: MemoryNodeStore) -> None:
    rows = s.execute(
        select(t.LedgerNode.level, t.LedgerNode.idx, t.LedgerNode.hash).order_by(
            t.LedgerNode.level, t.LedgerNode.idx
        )
    )
    count = 0
    for level, idx, stored in rows:
        node = NodeId(level, idx)
        if node.end > tree.size:
            raise LedgerTampered(
                f"a Merkle node {node} lies beyond the ledger's end", index=node.start
            )
        if tree.get_nodes([node])[node] != stored:
            raise LedgerTampered(
                f"Merkle node {node} does not match entries {node.start}..{node.end - 1}",
                index=node.start,
            )
        count += 1
    if count != tree.node_count:
        raise LedgerTampered(f"{tree.node_count - count} Merkle nodes are missing", index=None)


def _check_heads(
    s: Session, tree: MemoryNodeStore, verifier: Verifier, roots: dict[int, bytes]
) -> tuple[int, dict[int, int], bool]:
    """Check every signed head; return how many, each head's named predecessor, and whether
    any head commits to an index."""
    prev, n, indexed = 0, 0, False
    prevs: dict[int, int] = {}
    for size, root, note in s.execute(
        select(t.LedgerHead.size, t.LedgerHead.root, t.LedgerHead.note).order_by(t.LedgerHead.size)
    ):
        cp = _open(note, verifier, size, prev)
        if size > tree.size or cp.size != size or cp.root_hash != root:
            raise LedgerTampered(
                f"the head at size {size} disagrees with its signature", index=prev
            )
        computed = root_at(size, tree)
        if computed != cp.root_hash:
            raise LedgerTampered(
                f"entries {prev}..{size - 1} differ from what was signed at size {size} "
                f"(signed root {cp.root_hash.hex()}, computed {computed.hex()})",
                index=prev,
            )
        lines = read_head_lines(cp)
        indexed = indexed or lines.index_root is not None
        if lines.index_root is not None and lines.index_root != roots.get(size):
            raise LedgerTampered(
                f"the head at size {size} commits to index root {lines.index_root.hex()}, but "
                f"the index rebuilt from entries 0..{size - 1} has root "
                f"{roots[size].hex()}: some history is not what the log says",
                index=prev,
            )
        if lines.prev is not None:
            prevs[size] = lines.prev
        prev, n = size, n + 1
    return n, prevs, indexed


def _open(note: str, verifier: Verifier, size: int, prev: int) -> Checkpoint:
    try:
        return open_checkpoint(note, verifier)
    except LedgerError as err:
        raise LedgerTampered(
            f"the signed head at size {size} does not verify: {err.message}", index=prev
        ) from err


def _check_chain(size: int, heads: set[int], prevs: dict[int, int]) -> None:
    """Every size a head names as its predecessor, and the log's current size, has a head."""
    wanted = {p: f"the head at size {s} names it as its predecessor" for s, p in prevs.items()}
    if size:
        wanted.setdefault(size, "it is the ledger's current size")
    missing = sorted(p for p in wanted if p and p not in heads)
    if missing:
        why = "; ".join(f"no signed head at size {p} ({wanted[p]})" for p in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise _Missing(missing, f"signed heads are missing: {why}{more}")


def _check_index_tables(s: Session, index: IndexBuilder, *, committed: bool) -> None:
    """The stored index must be the one rebuilt from the log (unless it never started: no
    append since the index was added, so no head commits to one): its state, its bucket
    snapshot, and the snapshot with the later change rows laid over it."""
    state, snap, _ = read_states(s)
    stored = {
        b: (bytes(r), bytes(h))
        for b, r, h in s.execute(
            select(
                t.LedgerIndexBucket.bucket, t.LedgerIndexBucket.records, t.LedgerIndexBucket.hash
            )
        )
    }
    if state.size == 0 and not stored and not committed:
        return  # no append since the index was added: the next one builds it
    if state.size != index.size or state.root != index.root():
        raise LedgerTampered(
            f"the index records root {state.root.hex()} at size {state.size}, but the index "
            f"rebuilt from the log has root {index.root().hex()} at size {index.size}",
            index=None,
        )
    bad = [b for b, (records, h) in stored.items() if bucket_hash(records) != h]
    snapshot = TopTree.from_buckets(((b, h) for b, (_, h) in stored.items()), size=snap.size)
    if bad or snapshot.root != snap.root:
        where = f"bucket {bad[0]} does not hash to its hash column" if bad else "its root"
        raise LedgerTampered(
            f"the index snapshot at size {snap.size} is not what it records ({where})",
            index=None,
        )
    later = by_bucket(changes_after(s, snap.size, state.size))
    built = index.buckets()
    for bucket in sorted(set(built) | set(stored) | set(later)):
        records = stored.get(bucket, (b"", b""))[0]
        if bucket in later:
            records = apply(records, later[bucket])
        if records != built.get(bucket, b""):
            raise LedgerTampered(
                f"index bucket {bucket} is not the one rebuilt from the log", index=None
            )
