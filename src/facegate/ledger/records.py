"""Reading the ledger back from the database: entries, signed heads and proofs.

Proofs are built from the stored complete nodes (``ledger_nodes``) with
:mod:`facegate.ledger.proofs`: one indexed query of at most about 2·log2(n) nodes, whatever
the size of the log. Everything here reads inside the caller's session, so a bundle or a
witness answer is computed from one consistent snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from facegate.errors import InvalidInput, LedgerError, NotFound
from facegate.ledger.proofs import (
    ConsistencyProof,
    InclusionProof,
    consistency_proof,
    inclusion_proof,
)
from facegate.ledger.store import DbNodeReader
from facegate.storage import tables as t

__all__ = [
    "SignedHead",
    "StoredEntry",
    "consistency",
    "entries_about",
    "entries_of_kinds",
    "entry",
    "head_at",
    "inclusion",
    "latest_head",
    "ledger_size",
]


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """One leaf: its position, event id and kind, the exact bytes hashed, and their hash."""

    index: int
    event_id: str
    kind: str
    data: bytes
    leaf_hash: bytes


@dataclass(frozen=True, slots=True)
class SignedHead:
    """The signed checkpoint (C2SP note) of the tree at ``size`` leaves."""

    size: int
    root: bytes
    note: str


def ledger_size(s: Session) -> int:
    return s.scalar(select(t.LedgerState.size).where(t.LedgerState.id == 1)) or 0


def latest_head(s: Session) -> SignedHead:
    row = s.execute(
        select(t.LedgerHead.size, t.LedgerHead.root, t.LedgerHead.note)
        .order_by(t.LedgerHead.size.desc())
        .limit(1)
    ).first()
    if row is None:
        raise LedgerError("the ledger is empty: nothing has been signed yet")
    return SignedHead(row[0], bytes(row[1]), row[2])


def head_at(s: Session, size: int) -> SignedHead:
    """The head signed when the log reached exactly ``size`` leaves."""
    row = s.execute(
        select(t.LedgerHead.root, t.LedgerHead.note).where(t.LedgerHead.size == size)
    ).first()
    if row is None:
        raise NotFound(
            f"no checkpoint was signed at size {size}",
            advice="Heads are signed at the end of each append; ask for the latest one.",
        )
    return SignedHead(size, bytes(row[0]), row[1])


_COLUMNS = (
    t.LedgerEntry.idx,
    t.LedgerEntry.event_id,
    t.LedgerEntry.kind,
    t.LedgerEntry.data,
    t.LedgerEntry.leaf_hash,
)


def entry(s: Session, index: int) -> StoredEntry:
    """Leaf ``index`` as stored."""
    row = s.execute(select(*_COLUMNS).where(t.LedgerEntry.idx == index)).first()
    if row is None:
        raise NotFound(
            f"the ledger has no entry {index}; it holds {ledger_size(s)} (numbered from 0)"
        )
    idx, event_id, kind, data, leaf = row
    return StoredEntry(idx, event_id, kind, bytes(data), bytes(leaf))


def entries_about(
    s: Session,
    *,
    subject: str | None = None,
    deployment: str | None = None,
    kinds: Sequence[str] | None = None,
    below: int,
) -> list[StoredEntry]:
    """The entries naming ``subject`` (a pseudonym) and/or ``deployment`` (of ``kinds`` if
    given), below a size, in log order."""
    if subject is None and deployment is None:
        raise ValueError("name a subject or a deployment")
    q = select(*_COLUMNS).where(t.LedgerEntry.idx < below).order_by(t.LedgerEntry.idx)
    if subject is not None:
        q = q.where(t.LedgerEntry.subject == subject)
    if deployment is not None:
        q = q.where(t.LedgerEntry.deployment_id == deployment)
    if kinds is not None:
        q = q.where(t.LedgerEntry.kind.in_(list(kinds)))
    return [
        StoredEntry(idx, event_id, kind, bytes(data), bytes(leaf))
        for idx, event_id, kind, data, leaf in s.execute(q)
    ]


def entries_of_kinds(s: Session, kinds: Sequence[str], *, below: int) -> list[StoredEntry]:
    """Every entry of these kinds below a size, in log order (for the few kinds of event
    that describe the log's parties, such as an operator's creation)."""
    q = (
        select(*_COLUMNS)
        .where(t.LedgerEntry.idx < below, t.LedgerEntry.kind.in_(list(kinds)))
        .order_by(t.LedgerEntry.idx)
    )
    return [
        StoredEntry(idx, event_id, kind, bytes(data), bytes(leaf))
        for idx, event_id, kind, data, leaf in s.execute(q)
    ]


def _signed_size(s: Session, size: int | None) -> int:
    """``size`` checked against the log, or the latest signed size."""
    latest = latest_head(s).size
    if size is None:
        return latest
    if not 1 <= size <= latest:
        raise InvalidInput(
            f"tree size {size} is not one this log has reached (1 to {latest})",
            advice="Sizes come from signed checkpoints; run 'facegate ledger checkpoint'.",
        )
    return size


def inclusion(s: Session, index: int, size: int | None = None) -> InclusionProof:
    """RFC 9162 inclusion proof of leaf ``index`` in the tree of ``size`` (default: latest)."""
    size = _signed_size(s, size)
    if not 0 <= index < size:
        raise InvalidInput(f"leaf {index} is not in a tree of size {size} (0 to {size - 1})")
    return inclusion_proof(index, size, DbNodeReader(s))


def consistency(s: Session, old_size: int, new_size: int | None = None) -> ConsistencyProof:
    """RFC 9162 consistency proof from ``old_size`` to ``new_size`` (default: latest)."""
    new_size = _signed_size(s, new_size)
    if not 0 <= old_size <= new_size:
        raise InvalidInput(
            f"cannot prove size {old_size} consistent with size {new_size}",
            advice="The old size must be between 0 and the new size.",
        )
    return consistency_proof(old_size, new_size, DbNodeReader(s))
