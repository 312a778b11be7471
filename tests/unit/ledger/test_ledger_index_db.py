"""The verifiable index in the database: always the index rebuilt from the log, at every head."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, func, select, update

from facegate.errors import InvalidInput, LedgerTampered, NotFound
from facegate.ledger import records
from facegate.ledger.checkpoint import Checkpoint, parse_signed_note
from facegate.ledger.events import Event, Kind
from facegate.ledger.head_lines import read_head_lines
from facegate.ledger.index_hasher import key_hash, keys_of_leaf
from facegate.ledger.index_proofs import (
    HistoryMismatchError,
    history_in,
    verify_history,
    verify_index_proof,
)
from facegate.ledger.index_store import IndexStore, read_state, signed_index_root
from facegate.ledger.index_tree import IndexBuilder
from facegate.ledger.store import LedgerStore
from facegate.storage import tables as t
from facegate.storage.db import Database, make_engine, migrate

T0 = datetime(2026, 1, 1, tzinfo=UTC)
KEY = Ed25519PrivateKey.from_private_bytes(b"\x04" * 32)


#: how often a store writes its bucket snapshot in this test (None: the default)
_COMPACT: list[int | None] = [None]


def _store(*, index: bool = True, compact: int | None = None) -> LedgerStore:
    every = compact or _COMPACT[0]
    return LedgerStore(
        origin="test/ledger",
        signing_key=KEY,
        clock=lambda: T0,
        index=IndexStore(compact_buckets=every) if index and every else index,
    )


@pytest.fixture(
    params=[None, 1, 4], ids=["snapshot-rarely", "snapshot-every-append", "snapshot-often"]
)
def db(tmp_path: Any, request: pytest.FixtureRequest) -> Iterator[Database]:
    """A database, with every store of the test writing its bucket snapshot at the default
    pace (so the buckets live in memory and change rows), after every append, or every few
    buckets (so processes taking turns find the snapshot moved by the other)."""
    _COMPACT[0] = request.param
    database = Database(make_engine(f"sqlite:///{tmp_path / 'f.db'}"))
    migrate(database.engine)
    yield database
    database.dispose()


def _events(rng: random.Random, n: int) -> list[Event]:
    out = []
    for _ in range(n):
        subject = f"{rng.randrange(12):032x}" if rng.random() < 0.8 else None
        deployment = rng.choice(["dep_a", "dep_b", None])
        out.append(Event(Kind.VERIFIED, T0, deployment=deployment, subject=subject))
    return out


def _append(db: Database, store: LedgerStore, events: list[Event], rng: random.Random) -> int:
    with db.transaction() as s:
        store.append(s, events, entropy=rng.randbytes)
        return records.ledger_size(s)


def _rebuilt(db: Database, size: int) -> IndexBuilder:
    builder = IndexBuilder()
    with db.read() as s:
        for i in range(size):
            builder.add_leaf(i, records.entry(s, i).data)
    return builder


def _head_root(db: Database, size: int) -> bytes | None:
    with db.read() as s:
        note = records.head_at(s, size).note
    return read_head_lines(Checkpoint.from_body(parse_signed_note(note).text)).index_root


def _history(db: Database, key: bytes, size: int) -> list[tuple[int, bytes]]:
    with db.read() as s:
        entries = [records.entry(s, i) for i in range(size)]
    return [(e.index, e.leaf_hash) for e in entries if key in keys_of_leaf(e.data)]


def test_every_head_commits_to_the_index_rebuilt_from_the_log(db: Database) -> None:
    rng, store = random.Random(3), _store()
    sizes = [_append(db, store, _events(rng, n), rng) for n in (1, 2, 7, 40, 1, 90, 3)]
    prev = 0
    for size in sizes:
        assert _head_root(db, size) == _rebuilt(db, size).root()
        with db.read() as s:
            note = records.head_at(s, size).note
        assert read_head_lines(Checkpoint.from_body(parse_signed_note(note).text)).prev == prev
        prev = size
    with db.read() as s:
        assert read_state(s).size == sizes[-1]


def test_proofs_at_the_latest_and_at_earlier_heads(db: Database) -> None:
    rng, store = random.Random(4), _store()
    sizes = [_append(db, store, _events(rng, n), rng) for n in (5, 30, 2, 60, 9)]
    keys = [key_hash("subject", f"{i:032x}") for i in range(14)]  # 12 used, 2 absent
    keys += [key_hash("deployment", d) for d in ("dep_a", "dep_b", "dep_never")]
    for size in sizes:
        root = _head_root(db, size)
        assert root is not None
        for key in keys:
            with db.read() as s:
                proof = store.index.prove(s, key, size)  # type: ignore[union-attr]
            verify_index_proof(proof, root)
            history = _history(db, key, size)
            verify_history(proof, history)
            assert history_in(proof).count == len(history)
            if history:  # one left out is caught
                with pytest.raises(HistoryMismatchError):
                    verify_history(proof, history[:-1])


def test_two_processes_appending_in_turn_stay_in_step(db: Database) -> None:
    rng = random.Random(5)
    one, two = _store(), _store()
    for n in range(1, 12):
        _append(db, one if n % 3 else two, _events(rng, n), rng)
    size = _append(db, two, _events(rng, 4), rng)
    assert _head_root(db, size) == _rebuilt(db, size).root()
    key = key_hash("subject", f"{3:032x}")
    with db.read() as s:
        proof = one.index.prove(s, key, size)  # type: ignore[union-attr]
    verify_history(proof, _history(db, key, size))


def test_a_rolled_back_append_leaves_no_trace(db: Database) -> None:
    rng, store = random.Random(6), _store()
    _append(db, store, _events(rng, 10), rng)
    with pytest.raises(RuntimeError), db.transaction() as s:
        store.append(s, _events(rng, 5), entropy=rng.randbytes)
        raise RuntimeError("the state change failed after the append")
    size = _append(db, store, _events(rng, 3), rng)
    assert size == 13
    assert _head_root(db, size) == _rebuilt(db, size).root()


def test_a_log_older_than_the_index_is_filed_by_the_next_append(db: Database) -> None:
    rng = random.Random(7)
    old = _append(db, _store(index=False), _events(rng, 25), rng)
    assert _head_root(db, old) is None
    store = _store()
    size = _append(db, store, _events(rng, 5), rng)
    assert _head_root(db, size) == _rebuilt(db, size).root()
    with db.read() as s, pytest.raises(NotFound, match="before the index existed"):
        signed_index_root(s, old)
    with db.read() as s, pytest.raises(NotFound, match="taken in"):
        store.index.prove(s, key_hash("deployment", "dep_a"), size + 1)  # type: ignore[union-attr]
    with db.read() as s, pytest.raises(InvalidInput):
        store.index.prove(s, key_hash("deployment", "dep_a"), 0)  # type: ignore[union-attr]


def test_an_altered_bucket_is_refused_before_anything_is_signed(db: Database) -> None:
    rng, store = random.Random(8), _store(compact=1)
    _append(db, store, _events(rng, 20), rng)
    with db.transaction() as s:
        bucket = s.scalars(select(t.LedgerIndexBucket)).first()
        assert bucket is not None
        bucket.records = bucket.records[:-1] + bytes([bucket.records[-1] ^ 1])
    with pytest.raises(LedgerTampered):
        _append(db, _store(), _events(rng, 400), rng)  # a fresh process rebuilds
    with db.transaction() as s:
        s.execute(delete(t.LedgerIndexBucket))
    with pytest.raises(LedgerTampered, match="add up to root"):
        _append(db, _store(), _events(rng, 1), rng)


def test_an_index_emptied_consistently_is_refused_by_the_signed_head(db: Database) -> None:
    """Rows rewritten to agree with each other (the index emptied, its snapshot and state
    set to the empty root) still disagree with the head the operator signed."""
    rng = random.Random(21)
    _append(db, _store(compact=1), _events(rng, 12), rng)
    empty = IndexBuilder().root()
    with db.transaction() as s:
        s.execute(delete(t.LedgerIndexBucket))
        s.execute(update(t.LedgerIndexState).values(root=empty))
        s.execute(update(t.LedgerState).values(index_root=empty))
    with pytest.raises(LedgerTampered, match="the head signed at that size commits to"):
        _append(db, _store(), _events(rng, 1), rng)


def _flip_after(db: Database) -> None:
    """Alter one history that the newest change row says its append wrote."""
    with db.transaction() as s:
        row = s.scalars(select(t.LedgerIndexUndo).order_by(t.LedgerIndexUndo.size.desc())).first()
        assert row is not None and row.after
        row.after = row.after[:-1] + bytes([row.after[-1] ^ 1])


def test_an_altered_change_row_is_refused_and_named_by_the_audit(db: Database) -> None:
    rng = random.Random(18)
    store = _store(compact=10_000)  # the buckets stay in memory and change rows
    for n in (6, 9):
        _append(db, store, _events(rng, n), rng)
    _flip_after(db)
    with pytest.raises(LedgerTampered, match="adds up to root"):
        _append(db, _store(compact=10_000), _events(rng, 3), rng)  # a fresh process
    report = store.verify(db, KEY.public_key().public_bytes_raw())
    assert not report.ok and "is not the one rebuilt from the log" in report.problem


def test_a_process_behind_refuses_an_altered_change_row(db: Database) -> None:
    rng = random.Random(19)
    one, two = _store(compact=10_000), _store(compact=10_000)
    _append(db, one, _events(rng, 5), rng)
    _append(db, two, _events(rng, 5), rng)
    _flip_after(db)
    with pytest.raises(LedgerTampered):
        _append(db, one, _events(rng, 2), rng)  # catches up over the altered row


def test_the_snapshot_is_written_as_buckets_accumulate(db: Database) -> None:
    rng, store = random.Random(20), _store(compact=3)
    sizes = [_append(db, store, _events(rng, n), rng) for n in (1, 1, 30, 1)]
    with db.read() as s:
        rows = s.execute(select(t.LedgerIndexState.id, t.LedgerIndexState.size)).all()
        snapshot = dict(rows)[2]
        buckets = s.scalar(select(func.count()).select_from(t.LedgerIndexBucket))
    assert snapshot in sizes and snapshot >= sizes[2]  # the 30-event append went past 3
    assert buckets
    fresh = _store()
    size = _append(db, fresh, _events(rng, 2), rng)
    assert _head_root(db, size) == _rebuilt(db, size).root()


def test_the_audit_rebuilds_the_index(db: Database) -> None:
    rng, store = random.Random(9), _store()
    for n in (4, 8, 16):
        size = _append(db, store, _events(rng, n), rng)
    report = store.verify(db, KEY.public_key().public_bytes_raw())
    assert report.ok, report
    assert report.index_root_hex == _rebuilt(db, size).root().hex()
    with db.transaction() as s:
        s.execute(update(t.LedgerState).values(index_root=b"\x00" * 32))
    report = store.verify(db, KEY.public_key().public_bytes_raw())
    assert not report.ok and "rebuilt from the log" in report.problem
