"""The verifiable index's rows: the state, the bucket snapshot and one change row per append.

Stored (``facegate.storage.tables.ledger_index``):

* the index state, in the ``ledger_state`` row every append locks: how many log entries the
  index has taken in, and its root after them (null: none yet);
* ``ledger_index_state`` row 2: the size and root that the bucket table stands at (its
  *snapshot*); absent in a database written before snapshots, where every append rewrote its
  buckets (then the table stands at the index state);
* ``ledger_index_buckets``: the snapshot, one row per non-empty bucket (records and hash);
* ``ledger_index_undo``: per append, each key it changed with its history before (``records``,
  to prove at an earlier head) and after (``after``, to bring the snapshot forward).

So any bucket at the current size is its snapshot row with the later appends' ``after``
values laid over it. Row I/O goes through the driver's own cursor: an append reads and writes
a few rows, and SQLAlchemy's row objects would cost more than the queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from facegate.errors import LedgerTampered, NotFound
from facegate.ledger.checkpoint import Checkpoint, CheckpointError, parse_signed_note
from facegate.ledger.driver_sql import Writes, mark
from facegate.ledger.hasher import HASH_SIZE
from facegate.ledger.head_lines import read_head_lines
from facegate.ledger.index_hasher import DEFAULTS, DEPTH, RECORD_SIZE, _bucket, keys_of_leaf
from facegate.storage import tables as t

__all__ = [
    "Filed",
    "IndexState",
    "apply",
    "changes_after",
    "changes_before",
    "read_snapshot",
    "read_state",
    "read_states",
    "signed_index_root",
    "split",
    "stored",
    "write",
]

#: (entry index, leaf hash, index keys) of one appended entry
Filed = tuple[int, bytes, tuple[bytes, ...]]

SNAPSHOT = 2
_CHUNK = 500
NO_HISTORY = bytes(RECORD_SIZE - HASH_SIZE)  # count 0, all-zero chain


@dataclass(frozen=True, slots=True)
class IndexState:
    """How many log entries the index has taken in, and its root after them."""

    size: int
    root: bytes


_EMPTY = IndexState(0, DEFAULTS[DEPTH])


def _cursor_rows(s: Session, sql: str, params: tuple[Any, ...]) -> list[Any]:
    conn = s.connection()
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql.replace("?", mark(conn)), params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def read_state(s: Session) -> IndexState:
    """The index state (from the ``ledger_state`` row)."""
    rows = _cursor_rows(s, "SELECT index_size, index_root FROM ledger_state WHERE id = ?", (1,))
    if not rows or rows[0][0] is None:
        return _EMPTY
    return IndexState(rows[0][0], bytes(rows[0][1]))


def read_snapshot(s: Session, state: IndexState) -> tuple[IndexState, bool]:
    """The snapshot the bucket table stands at, and whether its row exists (absent: the
    table stands at ``state``, as every append rewrote its buckets before snapshots)."""
    rows = _cursor_rows(s, "SELECT size, root FROM ledger_index_state WHERE id = ?", (SNAPSHOT,))
    return (IndexState(rows[0][0], bytes(rows[0][1])), True) if rows else (state, False)


def read_states(s: Session) -> tuple[IndexState, IndexState, bool]:
    """The index state, the snapshot, and whether the snapshot's row exists."""
    state = read_state(s)
    return (state, *read_snapshot(s, state))


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


@lru_cache(maxsize=16)
def _in_sql(n: int) -> str:
    marks = ", ".join(["?"] * n)
    return f"SELECT bucket, records, hash FROM ledger_index_buckets WHERE bucket IN ({marks})"


def stored(s: Session, buckets: Iterable[int]) -> dict[int, tuple[bytes, bytes]]:
    """Snapshot (records, hash) of the given buckets (empty buckets are absent)."""
    wanted = sorted(set(buckets))
    out: dict[int, tuple[bytes, bytes]] = {}
    for lo in range(0, len(wanted), _CHUNK):
        chunk = tuple(wanted[lo : lo + _CHUNK])
        rows = _cursor_rows(s, _in_sql(len(chunk)), chunk)
        out.update((b, (bytes(r), bytes(h))) for b, r, h in rows)
    return out


def all_hashes(s: Session) -> Iterator[tuple[int, bytes]]:
    for bucket, h in s.execute(select(t.LedgerIndexBucket.bucket, t.LedgerIndexBucket.hash)):
        yield bucket, bytes(h)


def _change_rows(s: Session, after: int, upto: int, column: str) -> list[bytes]:
    rows = _cursor_rows(
        s,
        f"SELECT size, {column} FROM ledger_index_undo WHERE size > ? AND size <= ? ORDER BY size",
        (after, upto),
    )
    out = []
    for size, data in rows:
        if data is None:
            raise LedgerTampered(
                f"the index change row at size {size} has no '{column}' histories; it was "
                "written by an older facegate, after the snapshot it would bring forward",
                index=None,
            )
        out.append(bytes(data))
    return out


def changes_before(s: Session, after: int, upto: int) -> dict[bytes, bytes]:
    """Each key changed by the appends ending in (after, upto], with its history at ``after``
    (the value the earliest of those appends replaced)."""
    prior: dict[bytes, bytes] = {}
    for data in _change_rows(s, after, upto, "records"):
        for key, value in split(data).items():
            prior.setdefault(key, value)
    return prior


def changes_after(s: Session, after: int, upto: int) -> dict[bytes, bytes]:
    """Each key changed by the appends ending in (after, upto], with its history at ``upto``."""
    latest: dict[bytes, bytes] = {}
    for data in _change_rows(s, after, upto, "after"):
        latest.update(split(data))
    return latest


def write(
    s: Session,
    *,
    size: int,
    before: bytes,
    after: bytes,
    snapshot: IndexState | None,
    buckets: Mapping[int, tuple[bytes, bytes]],
    writes: Writes | None = None,
) -> None:
    """One append's change row (ending at ``size``); with ``snapshot``, the snapshot row and
    the buckets changed since the last one. The index state is the caller's to write. With
    ``writes`` the rows join the append's other writes (sent by the caller), else they go now."""
    out = Writes(s.connection()) if writes is None else writes
    m = out.mark
    if before:
        out.execute(
            f"INSERT INTO ledger_index_undo (size, records, after) VALUES ({m}, {m}, {m})",
            (size, before, after),
        )
    if snapshot is not None:
        out.execute(
            f"INSERT INTO ledger_index_state (id, size, root) VALUES ({m}, {m}, {m}) "
            "ON CONFLICT (id) DO UPDATE SET size = excluded.size, root = excluded.root",
            (SNAPSHOT, snapshot.size, snapshot.root),
        )
    if buckets:  # one key per bucket in a dict: the upserted rows never conflict
        out.insert(
            "ledger_index_buckets",
            ("bucket", "records", "hash"),
            [(b, r, h) for b, (r, h) in buckets.items()],
            suffix=" ON CONFLICT (bucket) DO UPDATE SET records = excluded.records,"
            " hash = excluded.hash",
        )
    if writes is None:
        out.send()


def unfiled(s: Session, start: int, end: int) -> list[Filed]:
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


def split(records: bytes) -> dict[bytes, bytes]:
    return {
        records[i : i + HASH_SIZE]: records[i + HASH_SIZE : i + RECORD_SIZE]
        for i in range(0, len(records), RECORD_SIZE)
    }


def join(values: Mapping[bytes, bytes]) -> bytes:
    return b"".join(k + values[k] for k in sorted(values) if values[k] != NO_HISTORY)


def by_bucket(values: Mapping[bytes, bytes]) -> dict[int, dict[bytes, bytes]]:
    out: dict[int, dict[bytes, bytes]] = {}
    for key, value in values.items():
        out.setdefault(_bucket(key), {})[key] = value
    return out


def apply(records: bytes, values: Mapping[bytes, bytes]) -> bytes:
    """``records`` with the histories of some keys replaced (count 0: the key removed)."""
    merged = split(records)
    merged.update(values)
    return join(merged)
