"""The ledger in the database: appends inside the caller's transaction, and full verification.

Each append locks the single ``ledger_state`` row (so appends serialise on SQLite and
PostgreSQL alike; the row also holds the index's state), stores the events as leaves,
persists every newly completed Merkle node, files the events in the verifiable index
(:mod:`.index_store`) and signs a checkpoint that commits to both roots, all in the
transaction of the state change being recorded.

The rows are written with one multi-row INSERT per table, not as ORM objects: a bulk
enrollment appends thousands of events per transaction, and object bookkeeping would cost
more than the hashing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Dialect, Table, select
from sqlalchemy.orm import Session

from facegate._internal.clock import Clock, Entropy
from facegate._internal.ids import new_id
from facegate.errors import LedgerError
from facegate.ledger.audit import LedgerAudit, audit
from facegate.ledger.checkpoint import Checkpoint, Signer, sign_checkpoint
from facegate.ledger.driver_sql import Writes, insert_rows, mark
from facegate.ledger.events import Event, Recorded
from facegate.ledger.hasher import hash_leaf
from facegate.ledger.head_lines import head_extensions
from facegate.ledger.index_hasher import DEFAULTS, DEPTH, event_keys
from facegate.ledger.index_store import Filed, IndexState, IndexStore
from facegate.ledger.tree import NodeId, append_plan
from facegate.storage import tables as t
from facegate.storage.db import Database

#: most (level, idx) pairs looked up by one query (an OR chain is an expression this deep)
_NODES_PER_QUERY = 128

_ENTRY_COLUMNS = ("idx", "event_id", "kind", "data", "leaf_hash", "deployment_id", "subject")
_NODE_COLUMNS = ("level", "idx", "hash")
_HEADS = cast(Table, t.LedgerHead.__table__)
# The append's own statements go to the driver (see driver_sql): SQLAlchemy's handling of a
# Core statement costs this process more CPU than the statement's round trip to PostgreSQL.
_LOCK_STATE = "SELECT size, index_size, index_root FROM ledger_state WHERE id = 1"
_SET_SIZE = "UPDATE ledger_state SET size = {m} WHERE id = 1"
_SET_STATE = "UPDATE ledger_state SET size = {m}, index_size = {m}, index_root = {m} WHERE id = 1"
_INSERT_HEAD = "INSERT INTO ledger_heads (size, root, note, created_at) VALUES ({m}, {m}, {m}, {m})"
_NO_INDEX = IndexState(0, DEFAULTS[DEPTH])


@lru_cache(maxsize=4)
def _time_binder(dialect: Dialect) -> Callable[[Any], Any] | None:
    """How the dialect stores a head's time (SQLite: SQLAlchemy's text form; psycopg: as is)."""
    return cast(
        Callable[[Any], Any] | None,
        _HEADS.c.created_at.type.dialect_impl(dialect).bind_processor(dialect),
    )


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
        m = mark(conn)
        for lo in range(0, len(wanted), _NODES_PER_QUERY):
            chunk = wanted[lo : lo + _NODES_PER_QUERY]
            flat = tuple(v for node in chunk for v in (node.level, node.index))
            for level, idx, h in conn.exec_driver_sql(_nodes_sql(len(chunk), m), flat):
                out[NodeId(level, idx)] = bytes(h)
        return out


@dataclass(frozen=True, slots=True)
class Prepared:
    """An event made ready to append: its id, leaf bytes, leaf hash and index keys, none of
    which depends on where it lands, so that a caller can make them before it waits for the
    append lock (the group commit's callers do, while its leader waits on the database)."""

    event: Event
    event_id: str
    data: bytes
    leaf: bytes
    keys: tuple[bytes, ...]


def prepare(event: Event, entropy: Entropy) -> Prepared:
    event_id = new_id("evt", entropy)
    data = event.leaf_bytes(event_id)
    return Prepared(
        event, event_id, data, hash_leaf(data), event_keys(event.subject, event.deployment)
    )


def _entry_rows(size: int, ready: Sequence[Prepared]) -> list[tuple[Any, ...]]:
    """``ledger_entries`` rows (see _ENTRY_COLUMNS) of events landing from ``size`` on."""
    return [
        (
            size + i,
            r.event_id,
            str(r.event.kind),
            r.data,
            r.leaf,
            r.event.deployment,
            r.event.subject,
        )
        for i, r in enumerate(ready)
    ]


class LedgerStore:
    def __init__(
        self,
        *,
        origin: str,
        signing_key: Ed25519PrivateKey,
        clock: Clock,
        index: bool | IndexStore = True,
    ) -> None:
        self.origin = origin
        self.signing_key = signing_key
        self._signer = Signer(origin, signing_key)
        self._clock = clock
        #: the verifiable index, filed in every append (off only to measure what it costs;
        #: an IndexStore of one's own sets how often it writes its snapshot)
        self.index: IndexStore | None = (
            index if isinstance(index, IndexStore) else IndexStore() if index else None
        )
        #: (size, index root, frontier) after this process's last append; see _frontier
        self._tip: tuple[int, bytes, tuple[bytes, ...]] | None = None

    def _frontier(
        self, size: int, index_root: bytes | None, s: Session
    ) -> tuple[bytes, ...] | DbNodeReader:
        """The tree's frontier at ``size``: kept from this process's last append when the
        locked state is the one it left (its size and index root: an append that rolled
        back, or another process's, leaves another root), else read from the nodes."""
        tip = self._tip
        if tip is not None and index_root is not None and tip[:2] == (size, bytes(index_root)):
            return tip[2]
        return DbNodeReader(s)

    @property
    def verifier_key(self) -> str:
        """The public key string a witness or court needs to check checkpoints."""
        return self._signer.verifier_key()

    def append(
        self, s: Session, events: Iterable[Event | Prepared], *, entropy: Entropy
    ) -> list[Recorded]:
        """Append ``events`` in the caller's transaction; return where each landed."""
        events = list(events)
        if not events:
            return []
        # The migration creates this row; locking it serialises appends on every backend
        # (SQLite: the transaction's BEGIN IMMEDIATE). The caller's rows are flushed first,
        # then the ledger's statements go to the connection: the session's ORM plumbing
        # would cost more than the SQL (group commit).
        s.flush()
        conn = s.connection()
        pg = conn.dialect.name == "postgresql"
        lock = _LOCK_STATE + (" FOR UPDATE" if pg else "")
        size, filed_size, filed_root = conn.exec_driver_sql(lock).one()
        ready = [e if isinstance(e, Prepared) else prepare(e, entropy) for e in events]
        leaves = [r.leaf for r in ready]
        plan = append_plan(size, self._frontier(size, filed_root, s), leaves)
        # alone, so that the engine's listeners see the entries as rows (api.metrics)
        insert_rows(conn, "ledger_entries", _ENTRY_COLUMNS, _entry_rows(size, ready))
        writes = Writes(conn)
        m = writes.mark
        writes.insert("ledger_nodes", _NODE_COLUMNS, [(n.level, n.index, h) for n, h in plan.nodes])
        # The index of every subject's and deployment's history, committed with the head;
        # its state is read and written with the ledger's, in the row this append locks.
        index_root = None
        if self.index is None:
            writes.execute(_SET_SIZE.format(m=m), (plan.new_size,))
        else:
            before = _NO_INDEX if filed_size is None else IndexState(filed_size, bytes(filed_root))
            filed: list[Filed] = [(size + i, r.leaf, r.keys) for i, r in enumerate(ready)]
            after = self.index.update(s, size, filed, before, writes=writes)
            index_root = after.root
            self._tip = (plan.new_size, after.root, plan.frontier)
            writes.execute(_SET_STATE.format(m=m), (plan.new_size, after.size, after.root))
        cp = Checkpoint(
            origin=self.origin,
            size=plan.new_size,
            root_hash=plan.root,
            extensions=head_extensions(index_root=index_root, prev=size),
        )
        at, bind = self._clock(), _time_binder(conn.dialect)
        writes.execute(
            _INSERT_HEAD.format(m=m),
            (plan.new_size, plan.root, sign_checkpoint(cp, self._signer), bind(at) if bind else at),
        )
        writes.send()
        return [Recorded(event_id=r.event_id, index=size + i) for i, r in enumerate(ready)]

    def size(self, s: Session) -> int:
        return s.scalar(select(t.LedgerState.size).where(t.LedgerState.id == 1)) or 0

    def latest_note(self, s: Session) -> str:
        note = s.scalar(select(t.LedgerHead.note).order_by(t.LedgerHead.size.desc()).limit(1))
        if note is None:
            raise LedgerError("the ledger is empty")
        return note

    def verify(self, db: Database, public_key: bytes) -> LedgerAudit:
        """Recompute every leaf, stored column, node, signed head and the index. Never raises
        for tampering: the report names the first entry that is missing, altered, re-tagged
        or out of place, and any signed head that is missing (see :mod:`.audit`)."""
        return audit(db, origin=self.origin, public_key=public_key)
