"""Proofs from the database: the same as from memory, from O(log n) indexed reads."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import event

from facegate.errors import InvalidInput, NotFound
from facegate.ledger import records
from facegate.ledger.events import Event, Kind
from facegate.ledger.proofs import consistency_proof, inclusion_proof, verify_inclusion
from facegate.ledger.store import DbNodeReader, LedgerStore, _nodes_sql
from facegate.ledger.tree import MemoryNodeStore, NodeId
from facegate.storage.db import Database, make_engine, migrate

T0 = datetime(2026, 1, 1, tzinfo=UTC)
N = 777


def _entropy() -> Any:
    rng = random.Random(5)
    return rng.randbytes


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, MemoryNodeStore]]:
    db = Database(make_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'f.db'}"))
    migrate(db.engine)
    store = LedgerStore(
        origin="test/ledger",
        signing_key=Ed25519PrivateKey.from_private_bytes(b"\x04" * 32),
        clock=lambda: T0,
    )
    entropy = _entropy()
    mirror = MemoryNodeStore()
    done = 0
    for batch in (1, 2, 3, 100, 1, 170, 500):
        events = [
            Event(Kind.VERIFIED, T0, deployment="dep_a", subject=f"{(done + i) % 7:032x}")
            for i in range(batch)
        ]
        with db.transaction() as s:
            store.append(s, events, entropy=entropy)
        done += batch
    with db.read() as s:
        mirror.append(records.entry(s, i).leaf_hash for i in range(N))
    yield db, mirror
    db.dispose()


def test_db_proofs_equal_the_memory_ones(ledger: tuple[Database, MemoryNodeStore]) -> None:
    db, mirror = ledger
    rng = random.Random(1)
    with db.read() as s:
        assert records.ledger_size(s) == N
        for size in (1, 3, 6, 106, 107, 277, N):  # sizes signed at append boundaries
            head = records.head_at(s, size)
            assert head.root == mirror.root(size)
            for _ in range(20):
                index = rng.randrange(size)
                proof = records.inclusion(s, index, size)
                assert proof == inclusion_proof(index, size, mirror)
                assert len(proof.hashes) <= (size - 1).bit_length()
                verify_inclusion(records.entry(s, index).leaf_hash, proof, head.root)
                old = rng.randrange(size + 1)
                assert records.consistency(s, old, size) == consistency_proof(old, size, mirror)


def test_a_proof_is_two_indexed_queries(ledger: tuple[Database, MemoryNodeStore]) -> None:
    db, _ = ledger
    statements: list[str] = []

    def count(*args: Any) -> None:
        if args[2].startswith("SELECT"):
            statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with db.read() as s:
            statements.clear()
            records.inclusion(s, 300, N)
            assert len(statements) == 2  # the latest head's size, then the nodes in one query
            plan = (
                s.connection()
                .exec_driver_sql("EXPLAIN QUERY PLAN " + _nodes_sql(3, "?"), (0, 1, 1, 1, 3, 0))
                .all()
            )
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    details = " ".join(str(row[-1]) for row in plan)
    assert "SEARCH ledger_nodes USING" in details and "SCAN ledger_nodes" not in details


def test_reader_returns_only_stored_nodes(ledger: tuple[Database, MemoryNodeStore]) -> None:
    db, mirror = ledger
    wanted = [NodeId(0, 5), NodeId(8, 1), NodeId(3, 7), NodeId(0, 5), NodeId(40, 0)]
    with db.read() as s:
        got = DbNodeReader(s).get_nodes(wanted)
    assert set(got) == {NodeId(0, 5), NodeId(8, 1), NodeId(3, 7)}
    assert got == mirror.get_nodes(list(got))


def test_entries_are_found_by_subject_and_deployment(
    ledger: tuple[Database, MemoryNodeStore],
) -> None:
    db, _ = ledger
    with db.read() as s:
        mine = records.entries_about(s, subject=f"{3:032x}", below=N)
        assert [e.index for e in mine] == [i for i in range(N) if i % 7 == 3]
        assert len(records.entries_about(s, deployment="dep_a", below=100)) == 100
        assert records.entries_about(s, deployment="dep_b", below=N) == []


def test_bad_requests_say_what_is_wrong(ledger: tuple[Database, MemoryNodeStore]) -> None:
    db, _ = ledger
    with db.read() as s:
        with pytest.raises(InvalidInput, match="leaf 10 is not in a tree of size 6"):
            records.inclusion(s, 10, 6)
        with pytest.raises(InvalidInput, match="not one this log has reached"):
            records.inclusion(s, 0, N + 1)
        with pytest.raises(InvalidInput, match="cannot prove size 9"):
            records.consistency(s, 9, 6)
        with pytest.raises(NotFound, match="no checkpoint was signed at size 5"):
            records.head_at(s, 5)
        with pytest.raises(NotFound, match="holds 777"):
            records.entry(s, N)
