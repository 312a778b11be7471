"""The witness against a real Gate, in process and over HTTP, and tampering it must notice."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lawful import consent, live
from sqlalchemy import delete, func, select, update

from facegate.api.app import create_app
from facegate.errors import LedgerError
from facegate.gate import Gate
from facegate.ledger.checkpoint import Checkpoint, Signer, sign_checkpoint, verify_cosignatures
from facegate.ledger.evidence_verify import BundleInvalid, verify_bundle
from facegate.ledger.hasher import hash_leaf
from facegate.ledger.tree import append_plan
from facegate.ledger.witness import ForkDetected, RollbackDetected, Witness
from facegate.ledger.witness_http import HttpLog
from facegate.storage import tables as t

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def _deployment(gate: Gate) -> str:
    return live(gate, name="Lobby").id


def _witness(gate: Gate, tmp_path: Path) -> Witness:
    return Witness.create(
        tmp_path / "witness", name="regulator", log_key=gate.ledger_key(), clock=lambda: NOW
    )


def test_witness_in_process_cosigns_and_the_operator_keeps_it(gate: Gate, tmp_path: Path) -> None:
    dep = _deployment(gate)
    consent(gate, dep, "a")
    witness = _witness(gate, tmp_path)
    first = witness.observe(gate)
    assert not first.submitted and "no cosignature from a witness" in first.submit_error
    assert gate.add_witness(witness.verifier_key) == "regulator"
    consent(gate, dep, "b")
    second = witness.observe(gate)
    assert second.submitted and second.old_size == first.size
    stored = gate.checkpoint_at(second.size)
    (cosig,) = verify_cosignatures(stored, [_cv(witness)])
    assert cosig.timestamp == int(NOW.timestamp())
    bundle = gate.export_evidence(deployment_id=dep)
    verdict = verify_bundle(bundle, log_key=gate.ledger_key(), witness_keys=[witness.verifier_key])
    assert [c.name for c in verdict.cosigned] == ["regulator"] and verdict.cosigned[0].trusted


def _cv(witness: Witness):  # type: ignore[no-untyped-def]
    from facegate.ledger.checkpoint import CosignatureVerifier

    return CosignatureVerifier.from_key(witness.verifier_key)


@pytest.fixture
def http(gate: Gate) -> Iterator[tuple[TestClient, HttpLog]]:
    with TestClient(create_app(gate)) as client:
        yield client, HttpLog("http://testserver", client=client)


def test_witness_over_http(gate: Gate, tmp_path: Path, http: tuple[TestClient, HttpLog]) -> None:
    client, log = http
    dep = _deployment(gate)
    consent(gate, dep, "a")
    assert log.key() == gate.ledger_key()
    witness = _witness(gate, tmp_path)
    refused = witness.observe(log)
    assert not refused.submitted and "403" in refused.submit_error
    gate.add_witness(witness.verifier_key)
    consent(gate, dep, "b")
    seen = witness.observe(log)
    assert seen.submitted and seen.old_size == refused.size
    assert verify_cosignatures(gate.checkpoint_at(seen.size), [_cv(witness)])
    # The public proof routes answer what the Gate answers.
    body = client.get("/v1/ledger/consistency", params={"old": 2, "new": seen.size}).json()
    assert body["hashes"] == [h.hex() for h in gate.consistency_proof(2, seen.size).hashes]
    body = client.get("/v1/ledger/inclusion", params={"index": 3}).json()
    assert body == {
        "index": 3,
        "size": seen.size,
        "hashes": [h.hex() for h in gate.inclusion_proof(3).hashes],
    }
    assert client.get(f"/v1/ledger/checkpoint/{seen.size}").text == gate.checkpoint_at(seen.size)
    # Entries and bundles need the operator's key; bad input is a 4xx, never a 500.
    assert client.get("/v1/ledger/entries/0").status_code == 401
    assert client.get("/v1/ledger/evidence", params={"deployment": dep}).status_code == 401
    assert client.get("/v1/ledger/inclusion", params={"index": 99}).status_code == 400
    assert client.get("/v1/ledger/checkpoint/999").status_code == 404
    assert client.post("/v1/ledger/cosignatures", content=b"nonsense").status_code == 400
    key = gate.issue_api_key().key
    auth = {"Authorization": f"Bearer {key}"}
    entry = client.get("/v1/ledger/entries/0", headers=auth).json()
    assert entry["leaf_hash"] == gate.ledger_entry(0).leaf_hash.hex()
    bundle = client.get("/v1/ledger/evidence", params={"deployment": dep}, headers=auth).json()
    assert verify_bundle(bundle, log_key=gate.ledger_key()).lawful


# --- tampering: the witness or the verifier notices ------------------------------------------


def _populate(gate: Gate, tmp_path: Path) -> Witness:
    dep = _deployment(gate)
    for ref in ("a", "b", "c"):
        consent(gate, dep, ref)
    gate.withdraw_consent(dep, "b")
    witness = _witness(gate, tmp_path)
    gate.add_witness(witness.verifier_key)
    assert witness.observe(gate).submitted
    return witness


def _signer(gate: Gate) -> Signer:
    # White box: an operator rewriting its own history holds the signing key.
    ledger = gate._core.ledger
    return Signer(ledger.origin, ledger.signing_key)


def _rewrite_history(gate: Gate, index: int) -> None:
    """Change one event and recompute every hash and signed head, as the key holder could."""
    signer = _signer(gate)
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
                    .values(data=data, leaf_hash=hash_leaf(data), kind=json.loads(data)["kind"])
                )
            leaves.append(hash_leaf(data))
        s.execute(delete(t.LedgerNode))
        plan = append_plan(0, [], leaves)
        s.add_all(t.LedgerNode(level=n.level, idx=n.index, hash=h) for n, h in plan.nodes)
        for head in s.scalars(select(t.LedgerHead)):
            root = append_plan(0, [], leaves[: head.size]).root
            head.root = root
            head.note = sign_checkpoint(Checkpoint(signer.name, head.size, root), signer)
        # Heads re-signed without their index lines, and the index dropped, pass for a log
        # older than the index: the simplest rewrite that keeps the operator's own check quiet.
        for table in (t.LedgerIndexBucket, t.LedgerIndexUndo, t.LedgerIndexState):
            s.execute(delete(table))
        s.execute(update(t.LedgerState).values(index_size=None, index_root=None))


def _rewrite_node(gate: Gate, _index: int) -> None:
    """Replace a stored node that the witness's next consistency proof is built from."""
    size = gate.inclusion_proof(0).size
    consent(gate, gate.list_deployments()[0].id, "late")
    wanted = set(gate.consistency_proof(size).hashes)
    with gate.db.transaction() as s:
        node = next(n for n in s.scalars(select(t.LedgerNode)) if n.hash in wanted)
        node.hash = bytes(32)


def _rewrite_checkpoint(gate: Gate, _index: int) -> None:
    """Re-sign the latest head over another root."""
    signer = _signer(gate)
    with gate.db.transaction() as s:
        head = s.scalars(select(t.LedgerHead).order_by(t.LedgerHead.size.desc())).first()
        assert head is not None
        head.root = hash_leaf(b"another history")
        head.note = sign_checkpoint(Checkpoint(signer.name, head.size, head.root), signer)


def _roll_back(gate: Gate, _index: int) -> None:
    """Drop the last two entries and everything built on them: a consistent, shorter log."""
    with gate.db.transaction() as s:
        size = s.scalar(select(func.max(t.LedgerEntry.idx))) + 1
        keep = size - 2
        s.execute(delete(t.LedgerEntry).where(t.LedgerEntry.idx >= keep))
        for level in range(64):  # a node survives only if all its leaves do
            s.execute(
                delete(t.LedgerNode).where(
                    t.LedgerNode.level == level, t.LedgerNode.idx >= keep >> level
                )
            )
        s.execute(delete(t.LedgerHead).where(t.LedgerHead.size > keep))
        s.execute(update(t.LedgerState).values(size=keep))


TAMPER: dict[str, tuple[Callable[[Gate, int], None], type[LedgerError]]] = {
    "event, with hashes and heads re-signed": (_rewrite_history, ForkDetected),
    "node": (_rewrite_node, ForkDetected),
    "checkpoint, re-signed": (_rewrite_checkpoint, ForkDetected),
    "rollback to a shorter log": (_roll_back, RollbackDetected),
}


@pytest.mark.parametrize("how", sorted(TAMPER))
def test_the_witness_notices_a_rewritten_log(gate: Gate, tmp_path: Path, how: str) -> None:
    witness = _populate(gate, tmp_path)
    tamper, alarm = TAMPER[how]
    tamper(gate, 2)
    with pytest.raises(alarm) as caught:
        witness.observe(gate)
    assert caught.value.evidence.is_file()


def test_a_rewritten_event_fails_the_verifier_and_the_bundle(gate: Gate, tmp_path: Path) -> None:
    _populate(gate, tmp_path)
    bundle = gate.export_evidence(deployment_id=gate.list_deployments()[0].id)
    index = bundle["entries"][2]["index"]
    with gate.db.transaction() as s:
        data = s.scalar(select(t.LedgerEntry.data).where(t.LedgerEntry.idx == index))
        assert data is not None
        s.execute(
            update(t.LedgerEntry)
            .where(t.LedgerEntry.idx == index)
            .values(data=data.replace(b'"v":1', b'"v":2'))
        )
    report = gate.verify_ledger()
    assert not report.ok and report.first_bad_index == index
    with pytest.raises(BundleInvalid, match=f"entry {index}"):
        verify_bundle(gate.export_evidence(deployment_id=gate.list_deployments()[0].id))


def test_a_history_rewrite_breaks_the_witness_cosignature_in_bundles(
    gate: Gate, tmp_path: Path
) -> None:
    witness = _populate(gate, tmp_path)
    _rewrite_history(gate, 3)
    assert gate.verify_ledger().ok  # the key holder's rewrite fools its own check...
    bundle = gate.export_evidence(deployment_id=gate.list_deployments()[0].id)
    with pytest.raises(BundleInvalid, match="cosignature of witness regulator"):
        verify_bundle(bundle, witness_keys=[witness.verifier_key])  # ...not the witness's
