"""Helpers for the regulator tests: a regulator home, a synthetic log, pushing checkpoints."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lawful import live
from sqlalchemy import select

from facegate._internal.canonical import canonical_json
from facegate.gate import Gate
from facegate.ledger.checkpoint import Checkpoint, Signer, sign_checkpoint
from facegate.ledger.hasher import hash_leaf
from facegate.ledger.head_lines import head_extensions
from facegate.ledger.index_tree import IndexBuilder
from facegate.ledger.proofs import consistency_proof
from facegate.ledger.tree import MemoryNodeStore
from facegate.regulator.home import init_home
from facegate.regulator.node import Regulator
from facegate.regulator.protocol import render_add_checkpoint
from facegate.storage import tables as t

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def new_regulator(
    path: Path, *, clock: Clock, database_url: str | None = None, name: str = "reg.test/w"
) -> tuple[Regulator, str]:
    """A fresh regulator home at ``path``; returns it open and its admin token."""
    created = init_home(path, name=name, database_url=database_url)
    return Regulator.open(path, clock=clock), created.admin_token


@dataclass
class FakeLog:
    """A log whose events the test writes by hand, signed with its own key."""

    origin: str = "log.test/ledger"
    signer: Signer = field(init=False)
    leaves: list[bytes] = field(default_factory=list)
    store: MemoryNodeStore = field(default_factory=MemoryNodeStore)

    def __post_init__(self) -> None:
        self.signer = Signer.from_seed(self.origin, bytes(range(32)))

    @property
    def vkey(self) -> str:
        return self.signer.verifier().verifier_key()

    def add(self, kind: str, at: datetime = T0, **fields: Any) -> int:
        doc = {
            "v": 1,
            "id": f"evt_{len(self.leaves):04d}",
            "kind": kind,
            "at": at.isoformat(timespec="microseconds"),
            "operator": "op",
            "deployment": fields.pop("deployment", None),
            "subject": fields.pop("subject", None),
            "rules": [],
            "details": fields,
        }
        data = canonical_json(doc)
        self.leaves.append(data)
        self.store.append([hash_leaf(data)])
        return len(self.leaves) - 1

    def index_root(self, size: int) -> bytes:
        builder = IndexBuilder()
        for i, data in enumerate(self.leaves[:size]):
            builder.add_leaf(i, data)
        return builder.root()

    def note(
        self, size: int | None = None, *, extensions: Sequence[str] = (), index: bool = True
    ) -> str:
        """The signed head at ``size``, with the index line facegate's ledger writes (and its
        previous-size line), unless ``index`` is False; ``extensions`` replace both."""
        size = len(self.leaves) if size is None else size
        if not extensions and index:
            extensions = head_extensions(index_root=self.index_root(size), prev=0)
        cp = Checkpoint(self.origin, size, self.store.root(size), tuple(extensions))
        return sign_checkpoint(cp, self.signer)

    def proof(self, old: int, new: int | None = None) -> list[bytes]:
        new = len(self.leaves) if new is None else new
        return list(consistency_proof(old, new, self.store).hashes) if old else []

    def body(self, old: int, new: int | None = None, **kw: Any) -> bytes:
        return render_add_checkpoint(old, self.proof(old, new), self.note(new, **kw))


def push_fake(reg: Regulator, log: FakeLog, old: int) -> Any:
    """Stage the entries the witness lacks, then add-checkpoint from ``old``."""
    if len(log.leaves) > old:
        reg.stage_entries(log.origin, old, log.leaves[old:])
    return reg.add_checkpoint(log.body(old))


def gate_entries(gate: Gate, start: int = 0) -> list[bytes]:
    with gate.db.read() as s:
        return [
            bytes(d)
            for d in s.scalars(
                select(t.LedgerEntry.data)
                .where(t.LedgerEntry.idx >= start)
                .order_by(t.LedgerEntry.idx)
            )
        ]


def push_gate(reg: Regulator, gate: Gate, old: int) -> Any:
    """Push a Gate's latest checkpoint to an in-process regulator (entries first)."""
    entries = gate_entries(gate, old)
    if entries:
        reg.stage_entries(gate.core.ledger.origin, old, entries)
    size = old + len(entries)
    proof = list(gate.consistency_proof(old, size).hashes) if old else []
    return reg.add_checkpoint(render_add_checkpoint(old, proof, gate.checkpoint()))


def kinds(gate: Gate) -> list[str]:
    with gate.db.read() as s:
        return list(s.scalars(select(t.LedgerEntry.kind).order_by(t.LedgerEntry.idx)))


def details_of(gate: Gate, kind: str) -> list[dict[str, Any]]:
    with gate.db.read() as s:
        rows = s.scalars(select(t.LedgerEntry.data).where(t.LedgerEntry.kind == kind))
        return [json.loads(d)["details"] for d in rows]


def deployment(gate: Gate) -> str:
    """A live deployment (every legal fact given, its assessment signed by a DPO)."""
    return live(gate, name="Lobby").id


def rewrite_history(gate: Gate, index: int) -> None:
    """Change one event and re-sign every head, as the holder of the log key could."""
    from sqlalchemy import delete, update

    from facegate.ledger.tree import append_plan

    ledger = gate.core.ledger
    signer = Signer(ledger.origin, ledger.signing_key)
    with gate.db.transaction() as s:
        rows = s.execute(
            select(t.LedgerEntry.idx, t.LedgerEntry.data).order_by(t.LedgerEntry.idx)
        ).all()
        leaves = []
        for idx, stored in rows:
            data = stored.replace(b'"kind":"', b'"kind":"x') if idx == index else stored
            if idx == index:
                s.execute(
                    update(t.LedgerEntry)
                    .where(t.LedgerEntry.idx == idx)
                    .values(data=data, leaf_hash=hash_leaf(data))
                )
            leaves.append(hash_leaf(data))
        s.execute(delete(t.LedgerNode))
        plan = append_plan(0, [], leaves)
        s.add_all(t.LedgerNode(level=n.level, idx=n.index, hash=h) for n, h in plan.nodes)
        for head in s.scalars(select(t.LedgerHead)):
            root = append_plan(0, [], leaves[: head.size]).root
            head.root = root
            head.note = sign_checkpoint(Checkpoint(signer.name, head.size, root), signer)


def backup(gate: Gate, path: Path) -> Path:
    """A copy of the operator's SQLite database, as a nightly backup would take."""
    import sqlite3

    live = sqlite3.connect(gate.settings.resolved_database_url().removeprefix("sqlite:///"))
    copy = sqlite3.connect(path)
    with copy:
        live.backup(copy)
    live.close()
    copy.close()
    return path


def restore(gate: Gate, path: Path) -> None:
    """Put a backup back under the running installation: every table rolls back together."""
    import sqlite3

    copy = sqlite3.connect(path)
    live = sqlite3.connect(
        gate.settings.resolved_database_url().removeprefix("sqlite:///"), timeout=30
    )
    with live:
        copy.backup(live)
    live.close()
    copy.close()
