"""Altering, deleting or reordering any ledger row makes verification fail at that entry."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from cli_runner import fg
from lawful import consent, live
from sqlalchemy import delete, insert, select, update

from facegate._internal.canonical import canonical_json
from facegate.gate import Gate
from facegate.ledger.hasher import hash_leaf
from facegate.ledger.tree import MemoryNodeStore
from facegate.storage import tables as t


def _populated(gate: Gate) -> int:
    dep = live(gate, name="Lobby")
    for ref in ("a", "b", "c"):
        consent(gate, dep.id, ref)
    gate.withdraw_consent(dep.id, "b")
    report = gate.verify_ledger()
    assert report.ok, report
    return report.size


def _alter(gate: Gate, idx: int) -> None:
    with gate.db.transaction() as s:
        data = s.scalar(select(t.LedgerEntry.data).where(t.LedgerEntry.idx == idx))
        assert data is not None
        s.execute(
            update(t.LedgerEntry)
            .where(t.LedgerEntry.idx == idx)
            .values(data=data.replace(b'"kind":"', b'"kind":"x'))
        )


def _alter_with_hash(gate: Gate, idx: int) -> None:
    """A consistent rewrite, as someone with the database but not the signing key could do:
    the entry's content, its leaf hash and every Merkle node above it recomputed, its copied
    columns untouched (the rules it cites are not copied). Only the signed heads can tell."""
    with gate.db.transaction() as s:
        row = s.get(t.LedgerEntry, idx)
        assert row is not None
        leaf = json.loads(bytes(row.data))
        leaf["rules"] = [*leaf["rules"], "FORGED-1"]
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
                {"level": level, "idx": i // 32, "hash": at[i : i + 32]}
                for level, at in enumerate(tree._levels)
                for i in range(0, len(at), 32)
            ],
        )


def _delete(gate: Gate, idx: int) -> None:
    with gate.db.transaction() as s:
        s.execute(delete(t.LedgerEntry).where(t.LedgerEntry.idx == idx))


def _swap(gate: Gate, idx: int) -> None:
    with gate.db.transaction() as s:
        a = s.get(t.LedgerEntry, idx)
        b = s.get(t.LedgerEntry, idx + 1)
        assert a is not None and b is not None
        a_vals = (a.event_id, a.kind, a.data, a.leaf_hash)
        b_vals = (b.event_id, b.kind, b.data, b.leaf_hash)
        a.event_id = "tmp"
        s.flush()
        b.event_id, b.kind, b.data, b.leaf_hash = a_vals
        s.flush()
        a.event_id, a.kind, a.data, a.leaf_hash = b_vals


TAMPER: dict[str, Callable[[Gate, int], None]] = {
    "alter": _alter,
    "alter with hashes": _alter_with_hash,
    "delete": _delete,
    "swap": _swap,
}


@pytest.mark.parametrize("how", sorted(TAMPER))
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_tampering_is_named(gate: Gate, how: str, where: str) -> None:
    size = _populated(gate)
    idx = {"first": 0, "middle": size // 2, "last": size - 2}[where]
    with gate.db.read() as s:
        heads = list(s.scalars(select(t.LedgerHead.size)))
    TAMPER[how](gate, idx)
    report = gate.verify_ledger()
    assert not report.ok
    if how == "alter with hashes":
        # only the signed heads can tell: the first head past the entry fails, and the
        # report names where the last good head ends (not entry 0, unless that is where)
        assert report.first_bad_index == max((h for h in heads if h <= idx), default=0), report
        assert "signed" in report.problem, report
    else:
        assert report.first_bad_index == idx, report


def test_rewritten_signed_head_is_caught(gate: Gate) -> None:
    _populated(gate)
    with gate.db.transaction() as s:
        head = s.scalars(select(t.LedgerHead).order_by(t.LedgerHead.size)).first()
        assert head is not None
        head.note = head.note.replace("\n\n", "\n\nx", 1)
    assert not gate.verify_ledger().ok


# --- stored columns are bound to the entry they copy; signed heads form a chain ---------------


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("subject", "ffffffffffffffffffffffffffffffff"),
        ("subject", None),
        ("event_id", "evt_forged"),
        ("kind", "verify"),
        ("deployment_id", "dep_elsewhere"),
    ],
)
def test_a_retagged_column_is_named_with_expected_and_found(
    gate: Gate, column: str, value: str | None
) -> None:
    _populated(gate)
    with gate.db.read() as s:
        idx, before = s.execute(
            select(t.LedgerEntry.idx, getattr(t.LedgerEntry, column))
            .where(t.LedgerEntry.kind == "consent.given")
            .order_by(t.LedgerEntry.idx.desc())
        ).first()  # type: ignore[misc]
    with gate.db.transaction() as s:
        s.execute(update(t.LedgerEntry).where(t.LedgerEntry.idx == idx).values({column: value}))
    report = gate.verify_ledger()
    assert not report.ok and report.first_bad_index == idx
    assert report.problem == (
        f"entry {idx}: the {column} column holds {value!r}, but the authenticated entry says "
        f"{before!r}"
    )


def test_missing_signed_heads_are_named(gate: Gate) -> None:
    _populated(gate)
    with gate.db.read() as s:
        sizes = list(s.scalars(select(t.LedgerHead.size).order_by(t.LedgerHead.size)))
    middle, last = sizes[len(sizes) // 2], sizes[-1]
    with gate.db.transaction() as s:
        s.execute(delete(t.LedgerHead).where(t.LedgerHead.size.in_([middle, last])))
    report = gate.verify_ledger()
    assert not report.ok and report.missing_heads == (middle, last)  # type: ignore[attr-defined]
    assert f"no signed head at size {middle} (the head at size" in report.problem
    assert f"no signed head at size {last} (it is the ledger's current size)" in report.problem


def test_an_altered_index_is_caught(gate: Gate) -> None:
    _populated(gate)
    with gate.db.transaction() as s:  # the buckets since the snapshot are in change rows
        row = s.scalars(select(t.LedgerIndexUndo).order_by(t.LedgerIndexUndo.size.desc())).first()
        assert row is not None and row.after
        row.after = row.after[:-72]  # a key's history dropped from the index
    report = gate.verify_ledger()
    assert not report.ok and "index bucket" in report.problem


def test_the_cli_names_the_retagged_entry_and_the_missing_head(sqlite_gate: Gate) -> None:
    gate, home = sqlite_gate, sqlite_gate.settings.home
    _populated(gate)
    with gate.db.transaction() as s:
        last = s.scalar(select(t.LedgerHead.size).order_by(t.LedgerHead.size.desc()))
        s.execute(delete(t.LedgerHead).where(t.LedgerHead.size == last))
    proc = fg(home, "ledger", "verify", ok=False)
    assert proc.returncode == 7
    assert f"no signed head at size {last} (it is the ledger's current size)" in proc.stderr
    with gate.db.transaction() as s:
        s.execute(update(t.LedgerEntry).where(t.LedgerEntry.idx == 3).values(subject="x"))
    proc = fg(home, "ledger", "verify", "--json", ok=False)
    assert proc.returncode == 7
    assert "at entry 3: entry 3: the subject column holds 'x'" in json.loads(proc.stdout)["message"]
