"""The verifiable index, rebuilt by the regulator from the mirrored entries.

The operator commits the root of its verifiable index (subject pseudonyms and deployments to
the hash chain of their events, :mod:`facegate.ledger.index_hasher`) in each checkpoint's
``facegate/index/v1`` line. The regulator replays the same entries with the ledger's own
reference builder (:class:`facegate.ledger.index_tree.IndexBuilder`, which reads nothing but
the entries' bytes) and must arrive at the same root; otherwise the completeness proofs the
operator hands to courts would come from an index that is not the log's, and the checkpoint
is refused. :func:`check_index` is the one call the witness makes.

The builder of each log is kept in memory between checkpoints and trusted only while its size
and root are the ones last cosigned (``reg_logs.index_root``); otherwise it is rebuilt from
the mirror, so a refused or rolled-back checkpoint can never leave it ahead of the truth.
Once a log's heads carry an index line, a head without one is refused too.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from facegate.ledger.checkpoint import Checkpoint, NoteFormatError
from facegate.ledger.head_lines import INDEX_LINE, read_head_lines
from facegate.ledger.index_tree import IndexBuilder
from facegate.regulator.common import WitnessRefused
from facegate.regulator.tables import RegEntry, RegLog

__all__ = ["check_index", "forget"]

_REBUILD_BATCH = 5000
_builders: dict[str, IndexBuilder] = {}
_lock = threading.Lock()


def forget(log_id: str | None = None) -> None:
    """Drop cached builders (all, or one log's); the next check rebuilds from the mirror."""
    with _lock:
        if log_id is None:
            _builders.clear()
        else:
            _builders.pop(log_id, None)


def _refuse(message: str) -> WitnessRefused:
    return WitnessRefused(message, status=422, rule="index_mismatch")


def _rebuilt(s: Session, log_id: str, size: int) -> IndexBuilder:
    builder = IndexBuilder()
    last = -1
    while builder.size < size:
        rows = s.execute(
            select(RegEntry.idx, RegEntry.data)
            .where(RegEntry.log_id == log_id, RegEntry.idx > last, RegEntry.idx < size)
            .order_by(RegEntry.idx)
            .limit(_REBUILD_BATCH)
        ).all()
        if not rows:
            raise _refuse(f"the mirror lacks entry {builder.size}: the index cannot be rebuilt")
        for idx, data in rows:
            builder.add_leaf(idx, bytes(data))
        last = rows[-1][0]
    return builder


def _builder_at(s: Session, log: RegLog, start: int) -> IndexBuilder:
    """The log's index after its first ``start`` entries (cached if still right)."""
    cached = _builders.get(log.id)
    fresh = start == 0 and log.index_root is None
    if cached is not None and cached.size == start and (fresh or cached.root() == log.index_root):
        return cached
    builder = _rebuilt(s, log.id, start)
    if log.index_root is not None and builder.root() != log.index_root:
        raise _refuse("the mirror's index does not match the root last cosigned")
    return builder


def check_index(
    s: Session, log: RegLog, checkpoint: Checkpoint, start: int, leaves: Sequence[bytes]
) -> bytes | None:
    """Rebuild the index over entries ``[0, checkpoint.size)`` (``leaves`` are those from
    ``start``, already checked against the checkpoint's root) and compare it with the
    checkpoint's index line. Returns the root to record (None: the log keeps no index);
    raises :class:`WitnessRefused` (422) on any disagreement."""
    try:
        claimed = read_head_lines(checkpoint).index_root
    except NoteFormatError as err:
        raise _refuse(f"the checkpoint's facegate lines are malformed: {err.message}") from None
    if claimed is None:
        if log.index_root is not None:
            raise _refuse(f"the checkpoint drops the {INDEX_LINE} line its predecessors carry")
        return None
    with _lock:
        try:
            builder = _builder_at(s, log, start)
            for offset, data in enumerate(leaves):
                builder.add_leaf(start + offset, data)
            root = builder.root()
        except BaseException:
            _builders.pop(log.id, None)
            raise
        if root != claimed:
            _builders.pop(log.id, None)
            raise _refuse(
                f"the index rebuilt from the log has root {root.hex()} at size "
                f"{checkpoint.size}, but the checkpoint commits to {claimed.hex()}"
            )
        _builders[log.id] = builder
    return root
