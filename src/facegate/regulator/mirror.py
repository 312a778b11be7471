"""The regulator's mirror of a log: entries fed by the operator, verified against the
checkpoint before anything is cosigned.

Entries at or above the cosigned size are *staged*: the operator's link posts them ahead of
its ``add-checkpoint``. At ``add-checkpoint`` the witness requires every staged entry up to
the new size (a missing one was withheld), recomputes the RFC 9162 root from the stored
frontier and those entries (a different root means the checkpoint commits to entries it did
not show), and has the verifiable index rebuilt and compared with the checkpoint's index
line (:mod:`facegate.regulator.index`). Entries below the cosigned size never change: a
different copy of one is a finding, since an honest log cannot have two.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from facegate._internal.clock import Entropy
from facegate.errors import Conflict, InvalidInput
from facegate.ledger.checkpoint import Checkpoint
from facegate.ledger.hasher import HASH_SIZE, hash_leaf
from facegate.ledger.tree import AppendResult, append_plan
from facegate.regulator.common import WitnessRefused
from facegate.regulator.findings import raise_finding
from facegate.regulator.tables import RegEntry, RegLog

__all__ = [
    "MAX_ENTRIES_PER_PUSH",
    "MAX_ENTRY_BYTES",
    "EntryConflict",
    "Staged",
    "frontier_bytes",
    "frontier_of",
    "pending_leaves",
    "plan_root",
    "record_conflict",
    "stage_entries",
]

MAX_ENTRIES_PER_PUSH = 10_000
#: a tlog-tiles entry bundle holds entries of at most 65,535 bytes; the mirror keeps to it
MAX_ENTRY_BYTES = 65_535


class EntryConflict(Conflict):
    """An entry below the cosigned size sent with other content than the mirrored copy."""

    def __init__(self, index: int, mirrored_sha256: str) -> None:
        super().__init__(
            f"entry {index} differs from the copy mirrored under a cosigned checkpoint",
            advice="Entries below the witnessed size never change; this is recorded as a finding.",
        )
        self.index = index
        self.mirrored_sha256 = mirrored_sha256


def record_conflict(
    s: Session, log_id: str, err: EntryConflict, *, now: datetime, entropy: Entropy
) -> None:
    """The finding for an :class:`EntryConflict` (after its transaction rolled back)."""
    raise_finding(
        s,
        log_id,
        rule="fork",
        key=f"entry-conflict:{err.index}",
        severity="alarm",
        message=f"the log sent entry {err.index} with content other than the one it showed "
        "before under a cosigned checkpoint",
        now=now,
        entropy=entropy,
        details={"index": err.index, "mirrored_sha256": err.mirrored_sha256},
        entry_index=err.index,
    )


@dataclass(frozen=True, slots=True)
class Staged:
    start: int
    staged: int
    already_verified: int


def frontier_of(log: RegLog) -> list[bytes]:
    raw = bytes(log.frontier or b"")
    return [raw[i : i + HASH_SIZE] for i in range(0, len(raw), HASH_SIZE)]


def frontier_bytes(frontier: Sequence[bytes]) -> bytes:
    return b"".join(frontier)


def stage_entries(
    s: Session,
    log: RegLog,
    start: int,
    entries: Sequence[bytes],
    *,
    now: datetime,
    entropy: Entropy,
) -> Staged:
    """Keep ``entries`` (leaf bytes, from index ``start``) for the next checkpoint."""
    if start < 0 or not entries or len(entries) > MAX_ENTRIES_PER_PUSH:
        raise InvalidInput(
            f"send 1 to {MAX_ENTRIES_PER_PUSH} entries from a start index of 0 or more"
        )
    if any(len(d) > MAX_ENTRY_BYTES or not d for d in entries):
        raise InvalidInput(f"every entry must be 1 to {MAX_ENTRY_BYTES} bytes")
    verified = min(max(log.size - start, 0), len(entries))
    if verified:
        _compare_verified(s, log, start, entries[:verified])
    fresh = entries[verified:]
    first = start + verified
    if fresh:
        s.execute(
            delete(RegEntry).where(
                RegEntry.log_id == log.id,
                RegEntry.idx >= first,
                RegEntry.idx < first + len(fresh),
            )
        )
        s.execute(
            insert(RegEntry),
            [{"log_id": log.id, "idx": first + i, "data": d} for i, d in enumerate(fresh)],
        )
    return Staged(start=start, staged=len(fresh), already_verified=verified)


def _compare_verified(s: Session, log: RegLog, start: int, entries: Sequence[bytes]) -> None:
    rows = s.execute(
        select(RegEntry.idx, RegEntry.data)
        .where(RegEntry.log_id == log.id, RegEntry.idx >= start)
        .where(RegEntry.idx < start + len(entries))
        .order_by(RegEntry.idx)
    ).all()
    held = {idx: bytes(data) for idx, data in rows}
    for i, data in enumerate(entries):
        idx = start + i
        if held.get(idx) != data:
            raise EntryConflict(idx, hash_leaf(held.get(idx, b"")).hex())


def pending_leaves(s: Session, log_id: str, start: int, new_size: int) -> list[bytes]:
    """The staged entries ``[start, new_size)``; :class:`WitnessRefused` (422) naming the
    first one withheld."""
    rows = s.execute(
        select(RegEntry.idx, RegEntry.data)
        .where(RegEntry.log_id == log_id, RegEntry.idx >= start, RegEntry.idx < new_size)
        .order_by(RegEntry.idx)
    ).all()
    expected = start
    out: list[bytes] = []
    for idx, data in rows:
        if idx != expected:
            break
        out.append(bytes(data))
        expected += 1
    if expected != new_size:
        raise WitnessRefused(
            f"entry {expected} was not given to the regulator's mirror (withheld): entries "
            f"{start}..{new_size - 1} must be mirrored before size {new_size} is cosigned",
            status=422,
            rule="withheld",
            advice="The operator's link sends entries before each checkpoint; check it runs.",
        )
    return out


def plan_root(
    frontier: Sequence[bytes], start: int, leaves: Sequence[bytes], checkpoint: Checkpoint
) -> AppendResult:
    """Extend the mirrored tree of ``start`` leaves with ``leaves``; :class:`WitnessRefused`
    (422) unless the root is the checkpoint's."""
    plan = append_plan(start, frontier, [hash_leaf(d) for d in leaves])
    if plan.root != checkpoint.root_hash:
        raise WitnessRefused(
            f"the mirrored entries {start}..{checkpoint.size - 1} do not hash to the "
            f"checkpoint's root (computed {plan.root.hex()}, signed "
            f"{checkpoint.root_hash.hex()}): an entry was withheld or substituted",
            status=422,
            rule="entries_mismatch",
        )
    return plan
