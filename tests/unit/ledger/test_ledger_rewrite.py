"""A history rewritten consistently (entries, leaf hashes and every Merkle node recomputed, as
someone with a copy of the database but not the signing key could) is caught by the signed
heads alone: their roots no longer match. The log is written without the verifiable index
here, so that nothing else (the index root each head also signs) can catch it first."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, insert, select

from facegate._internal.canonical import canonical_json
from facegate.ledger.events import Event, Kind
from facegate.ledger.hasher import hash_leaf
from facegate.ledger.store import LedgerStore
from facegate.ledger.tree import MemoryNodeStore
from facegate.storage import tables as t
from facegate.storage.db import Database, make_engine, migrate

KEY = Ed25519PrivateKey.from_private_bytes(b"\x07" * 32)


def _ledger(tmp_path: object, n: int = 12) -> tuple[Database, LedgerStore]:
    db = Database(make_engine(f"sqlite:///{tmp_path}/f.db"))  # type: ignore[str-bytes-safe]
    migrate(db.engine)
    store = LedgerStore(
        origin="test/ledger",
        signing_key=KEY,
        clock=lambda: datetime(2026, 1, 1, tzinfo=UTC),
        index=False,
    )
    rng = random.Random(3)
    for i in range(n):
        with db.transaction() as s:
            store.append(
                s,
                [
                    Event(
                        Kind.VERIFIED,
                        datetime(2026, 1, 1, tzinfo=UTC),
                        deployment="dep_x",
                        details={"decision": "no_match", "n": i},
                    )
                ],
                entropy=rng.randbytes,
            )
    return db, store


def _rewrite(db: Database, index: int) -> None:
    """Change one entry's decision and recompute its leaf hash and every node above it."""
    with db.transaction() as s:
        row = s.get(t.LedgerEntry, index)
        assert row is not None
        leaf = json.loads(bytes(row.data))
        leaf["details"]["decision"] = "match"
        row.data = canonical_json(leaf)
        row.leaf_hash = hash_leaf(row.data)
        s.flush()
        hashes = [
            bytes(h)
            for (h,) in s.execute(select(t.LedgerEntry.leaf_hash).order_by(t.LedgerEntry.idx))
        ]
        tree = MemoryNodeStore.from_leaf_hashes(hashes)
        s.execute(delete(t.LedgerNode))
        s.execute(
            insert(t.LedgerNode),
            [
                {"level": level, "idx": i // 32, "hash": hashes_at[i : i + 32]}
                for level, hashes_at in enumerate(tree._levels)  # every complete subtree
                for i in range(0, len(hashes_at), 32)
            ],
        )


def test_a_consistently_rewritten_history_fails_on_the_signed_heads(tmp_path: object) -> None:
    db, store = _ledger(tmp_path)
    public = KEY.public_key().public_bytes_raw()
    assert store.verify(db, public).ok
    _rewrite(db, 5)
    report = store.verify(db, public)
    assert not report.ok
    assert "signed" in report.problem and report.first_bad_index is not None
    assert report.first_bad_index <= 5
