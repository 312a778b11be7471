"""The ledger in the database: appends inside the caller's transaction, and full verification.

Each append locks the single ``ledger_state`` row (so appends serialise on SQLite and
PostgreSQL alike), stores the events as leaves, persists every newly completed Merkle node
and a freshly signed checkpoint, all in the transaction of the state change being recorded.
The rows are written with one multi-row INSERT per table, not as ORM objects: a bulk
enrollment appends thousands of events per transaction, and object bookkeeping would cost
more than the hashing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any, cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Table, insert, select, update
from sqlalchemy.orm import Session

from facegate._internal.clock import Clock, Entropy
from facegate._internal.ids import new_id
from facegate.errors import ConfigError, LedgerError, LedgerTampered
from facegate.ledger.checkpoint import (
    Checkpoint,
    Signer,
    Verifier,
    open_checkpoint,
    sign_checkpoint,
)
from facegate.ledger.events import Event, Recorded
from facegate.ledger.hasher import hash_leaf
from facegate.ledger.tree import MemoryNodeStore, NodeId, append_plan, root_at
from facegate.results import LedgerReport
from facegate.storage import tables as t
from facegate.storage.db import Database

_VERIFY_BATCH = 5000
#: most (level, idx) pairs looked up by one query (an OR chain is an expression this deep)
_NODES_PER_QUERY = 128

_ENTRY_COLUMNS = ("idx", "event_id", "kind", "data", "leaf_hash", "deployment_id", "subject")
_NODE_COLUMNS = ("level", "idx", "hash")
_HEADS = cast(Table, t.LedgerHead.__table__)
#: placeholder of each DB-API paramstyle that takes positional parameters
_MARKS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def _mark(conn: Connection) -> str:
    """The driver's positional placeholder (SQL sent straight to the driver uses it)."""
    mark = _MARKS.get(conn.dialect.paramstyle)
    if mark is None:  # pragma: no cover - sqlite3 and psycopg are both positional
        raise ConfigError(f"unsupported database driver paramstyle {conn.dialect.paramstyle!r}")
    return mark


def _insert_many(
    s: Session, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """One executemany straight to the driver. Appends write ~3 rows per event; SQLAlchemy's
    per-row parameter processing would cost more than the SQL itself."""
    conn = s.connection()
    marks = ", ".join([_mark(conn)] * len(columns))
    conn.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


@lru_cache(maxsize=2 * _NODES_PER_QUERY)
def _nodes_sql(n: int, mark: str) -> str:
    # An OR of (level, idx) equalities, because SQLite answers a row-value IN list with a
    # scan of the whole table, whereas each OR term here is one primary-key index search
    # (and PostgreSQL turns it into a bitmap OR of index scans).
    terms = " OR ".join(f"(level = {mark} AND idx = {mark})" for _ in range(n))
    return f"SELECT level, idx, hash FROM ledger_nodes WHERE {terms}"


class DbNodeReader:
    """Reads complete Merkle nodes from ``ledger_nodes``: one indexed query per batch.

    The query goes straight to the driver: a proof needs one lookup of about 2·log2(n)
    rows, and SQLAlchemy's statement handling would cost more than SQLite's index search.
    """

    def __init__(self, session: Session) -> None:
        self._s = session

    def get_nodes(self, ids: Sequence[NodeId]) -> Mapping[NodeId, bytes]:
        out: dict[NodeId, bytes] = {}
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return out
        conn = self._s.connection()
        mark = _mark(conn)
        for lo in range(0, len(wanted), _NODES_PER_QUERY):
            chunk = wanted[lo : lo + _NODES_PER_QUERY]
            flat = tuple(v for node in chunk for v in (node.level, node.index))
            for level, idx, h in conn.exec_driver_sql(_nodes_sql(len(chunk), mark), flat):
                out[NodeId(level, idx)] = bytes(h)
        return out


class LedgerStore:
    def __init__(self, *, origin: str, signing_key: Ed25519PrivateKey, clock: Clock) -> None:
        self.origin = origin
        self.signing_key = signing_key
        self._signer = Signer(origin, signing_key)
        self._clock = clock

    @property
    def verifier_key(self) -> str:
        """The public key string a witness or court needs to check checkpoints."""
        return self._signer.verifier_key()

    def append(self, s: Session, events: Iterable[Event], *, entropy: Entropy) -> list[Recorded]:
        """Append ``events`` in the caller's transaction; return where each landed."""
        events = list(events)
        if not events:
            return []
        # The migration creates this row; locking it serialises appends on every backend.
        size = s.execute(
            select(t.LedgerState.size).where(t.LedgerState.id == 1).with_for_update()
        ).scalar_one()
        recorded: list[Recorded] = []
        leaves: list[bytes] = []
        rows: list[tuple[Any, ...]] = []
        for offset, event in enumerate(events):
            event_id = new_id("evt", entropy)
            data = event.leaf_bytes(event_id)
            leaf = hash_leaf(data)
            leaves.append(leaf)
            rows.append(
                (
                    size + offset,
                    event_id,
                    str(event.kind),
                    data,
                    leaf,
                    event.deployment,
                    event.subject,
                )
            )
            recorded.append(Recorded(event_id=event_id, index=size + offset))
        plan = append_plan(size, DbNodeReader(s), leaves)
        _insert_many(s, "ledger_entries", _ENTRY_COLUMNS, rows)
        _insert_many(
            s, "ledger_nodes", _NODE_COLUMNS, [(n.level, n.index, h) for n, h in plan.nodes]
        )
        s.execute(update(t.LedgerState).where(t.LedgerState.id == 1).values(size=plan.new_size))
        cp = Checkpoint(origin=self.origin, size=plan.new_size, root_hash=plan.root)
        s.execute(
            insert(_HEADS),
            {
                "size": plan.new_size,
                "root": plan.root,
                "note": sign_checkpoint(cp, self._signer),
                "created_at": self._clock(),
            },
        )
        return recorded

    def size(self, s: Session) -> int:
        return s.scalar(select(t.LedgerState.size).where(t.LedgerState.id == 1)) or 0

    def latest_note(self, s: Session) -> str:
        note = s.scalar(select(t.LedgerHead.note).order_by(t.LedgerHead.size.desc()).limit(1))
        if note is None:
            raise LedgerError("the ledger is empty")
        return note

    def verify(self, db: Database, public_key: bytes) -> LedgerReport:
        """Recompute every leaf, node and signed head. Never raises for tampering: reports it.

        The report names the first entry that is missing, altered or out of place. Stored
        nodes are checked against the recomputed tree, and every signed head against the
        recomputed root at its size, so rewriting an entry together with its hashes is
        caught by the signatures.
        """
        try:
            return self._verify(db, public_key)
        except LedgerTampered as err:
            return LedgerReport(
                ok=False,
                size=-1,
                root_hex="",
                heads_checked=0,
                first_bad_index=err.index,
                problem=err.message,
            )

    def _verify(self, db: Database, public_key: bytes) -> LedgerReport:
        tree = MemoryNodeStore()
        with db.read() as s:
            expected_size = self.size(s)
            next_idx = 0
            last = -1
            while True:
                rows = s.execute(
                    select(t.LedgerEntry.idx, t.LedgerEntry.data, t.LedgerEntry.leaf_hash)
                    .where(t.LedgerEntry.idx > last)
                    .order_by(t.LedgerEntry.idx)
                    .limit(_VERIFY_BATCH)
                ).all()
                if not rows:
                    break
                leaves = []
                for idx, data, stored in rows:
                    if idx != next_idx:
                        raise LedgerTampered(f"entry {next_idx} is missing", index=next_idx)
                    leaf = hash_leaf(data)
                    if leaf != stored:
                        raise LedgerTampered(
                            f"entry {idx} was altered: its content hashes to {leaf.hex()}, "
                            f"stored {stored.hex()}",
                            index=idx,
                        )
                    leaves.append(leaf)
                    next_idx += 1
                tree.append(leaves)
                last = rows[-1][0]
            if next_idx != expected_size:
                raise LedgerTampered(
                    f"the ledger says it holds {expected_size} entries but {next_idx} are present",
                    index=min(next_idx, expected_size),
                )
            self._check_nodes(s, tree)
            heads = self._check_heads(s, tree, public_key)
        root = tree.root(next_idx) if next_idx else b""
        return LedgerReport(ok=True, size=next_idx, root_hex=root.hex(), heads_checked=heads)

    def _check_nodes(self, s: Session, tree: MemoryNodeStore) -> None:
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
            computed = tree.get_nodes([node])[node]
            if computed != stored:
                raise LedgerTampered(
                    f"Merkle node {node} does not match entries {node.start}..{node.end - 1}",
                    index=node.start,
                )
            count += 1
        if count != tree.node_count:
            raise LedgerTampered(f"{tree.node_count - count} Merkle nodes are missing", index=None)

    def _check_heads(self, s: Session, tree: MemoryNodeStore, public_key: bytes) -> int:
        verifier = Verifier(self.origin, public_key)
        prev = 0
        n = 0
        for size, root, note in s.execute(
            select(t.LedgerHead.size, t.LedgerHead.root, t.LedgerHead.note).order_by(
                t.LedgerHead.size
            )
        ):
            try:
                cp = open_checkpoint(note, verifier)
            except LedgerError as err:
                raise LedgerTampered(
                    f"the signed head at size {size} does not verify: {err.message}", index=prev
                ) from err
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
            prev = size
            n += 1
        return n
