"""Complete histories and authenticated facts, on bundles exported from a real Gate."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lawful import CN_SPEC, NECESSITY, OPERATOR, consent, live
from sqlalchemy import select, update

from facegate.gate import Gate
from facegate.ledger.documents import documents_named
from facegate.ledger.evidence_verify import BundleInvalid, verify_bundle
from facegate.storage import tables as t

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "ledger"))
from evidence_forge import authenticated_view, edited, scalar_paths

Photo = Callable[[str], bytes]


def _deployment(gate: Gate) -> str:
    return live(gate, name="Lobby").id


def _person(gate: Gate, photo: Photo) -> tuple[str, str]:
    """A deployment with two people; alice consents, enrolls and verifies. Returns the
    deployment and alice's pseudonym."""
    dep = _deployment(gate)
    receipt = consent(gate, dep, "alice")
    consent(gate, dep, "bob")
    gate.enroll(dep, "alice", photo("fixtures/obama.jpg"))
    gate.verify(dep, "alice", photo("fixtures/obama2.jpg"))
    gate.enroll(dep, "bob", photo("fixtures/biden.jpg"))
    return dep, str(receipt.receipt["receipt"]["piiPrincipalId"])  # type: ignore[index]


def test_a_person_bundle_is_complete_and_says_so(gate: Gate, photo: Photo) -> None:
    _, alice = _person(gate, photo)
    verdict = verify_bundle(gate.export_evidence(pseudonym=alice), log_key=gate.ledger_key())
    assert verdict.completeness.proven and verdict.completeness.count == 3
    assert f"these are all 3 events about this person (subject {alice})" in verdict.summary()
    assert {e.subject for e in verdict.events} == {None, alice}


def test_a_bundle_with_one_event_removed_fails(gate: Gate, photo: Photo) -> None:
    _, alice = _person(gate, photo)
    bundle = gate.export_evidence(pseudonym=alice)
    kinds = [e.kind for e in verify_bundle(bundle, log_key=gate.ledger_key()).events]
    bundle["entries"].pop(kinds.index("enroll"))
    with pytest.raises(BundleInvalid, match="the log holds 3 events about this subject"):
        verify_bundle(bundle, log_key=gate.ledger_key())


def _enroll_row(gate: Gate, pseudonym: str) -> int:
    with gate.db.read() as s:
        idx = s.scalar(
            select(t.LedgerEntry.idx).where(
                t.LedgerEntry.kind == "enroll", t.LedgerEntry.subject == pseudonym
            )
        )
    assert idx is not None
    return idx


@pytest.mark.parametrize(
    ("column", "value"), [("subject", "00000000000000000000000000000000"), ("event_id", "evt_x")]
)
def test_an_event_retagged_in_the_database_is_caught(
    gate: Gate, photo: Photo, column: str, value: str
) -> None:
    _, alice = _person(gate, photo)
    idx = _enroll_row(gate, alice)
    with gate.db.transaction() as s:
        s.execute(update(t.LedgerEntry).where(t.LedgerEntry.idx == idx).values({column: value}))
    report = gate.verify_ledger()
    assert not report.ok and report.first_bad_index == idx
    assert f"the {column} column holds {value!r}" in report.problem
    bundle = gate.export_evidence(pseudonym=alice)
    if column == "subject":  # the enrollment no longer shows up under alice ...
        with pytest.raises(BundleInvalid, match="the log holds 3 events about this subject"):
            verify_bundle(bundle, log_key=gate.ledger_key())  # ... and the index says so
    else:  # the bundle carries the leaf, not the column: the court sees the true event id
        verdict = verify_bundle(bundle, log_key=gate.ledger_key())
        assert value not in {e.event_id for e in verdict.events}


def _every_edit_is_caught_or_unauthenticated(gate: Gate, bundle: dict[str, Any]) -> int:
    key = gate.ledger_key()
    reference = authenticated_view(verify_bundle(bundle, log_key=key))
    paths = scalar_paths(bundle)
    undetected = []
    for path in paths:
        try:
            verdict = verify_bundle(edited(bundle, path), log_key=key)
        except BundleInvalid:
            continue
        assert authenticated_view(verdict) == reference, path
        undetected.append(path)
    return len(paths) - len(undetected)


def test_every_single_value_edit_of_a_real_bundle(gate: Gate, photo: Photo) -> None:
    _dep, alice = _person(gate, photo)
    bundle = gate.export_evidence(pseudonym=alice)
    assert len(scalar_paths(bundle)) >= 40
    verdict = verify_bundle(bundle, log_key=gate.ledger_key())
    # The flows commit the operator's identity and the registration record by hash: the
    # exporter's own clock is all that is left on its word.
    assert [u.split(":")[0] for u in verdict.unauthenticated] == ["created_at"]
    caught = _every_edit_is_caught_or_unauthenticated(gate, bundle)
    assert caught >= len(scalar_paths(bundle)) - 3  # created_at and the exporter's notes


def test_the_flows_commit_the_registration_and_the_operator(gate: Gate, photo: Photo) -> None:
    dep, alice = _person(gate, photo)
    bundle = gate.export_evidence(pseudonym=alice)
    assert {d["kind"] for d in bundle["documents"]} == {"deployment", "operator"}
    facts = verify_bundle(bundle, log_key=gate.ledger_key()).deployments[dep]
    assert (facts["legal_basis"], facts["location_type"]) == ("consent", CN_SPEC["location"])
    assert (facts["operator.name"], facts["operator.contact"], facts["operator.dpo"]) == (
        OPERATOR["name"],
        OPERATOR["contact"],
        OPERATOR["dpo"],
    )
    # The deployment's bundle carries the DPO's sign-off: the record it made live.
    whole = verify_bundle(gate.export_evidence(deployment_id=dep), log_key=gate.ledger_key())
    assert whole.completeness.proven and "pia.signed" in {e.kind for e in whole.events}
    assert (whole.deployments[dep]["status"], whole.deployments[dep]["necessity"]) == (
        "live",
        NECESSITY,
    )


def test_a_person_bundle_shows_the_deployment_as_signed_off(gate: Gate, photo: Photo) -> None:
    dep, alice = _person(gate, photo)
    verdict = verify_bundle(gate.export_evidence(pseudonym=alice), log_key=gate.ledger_key())
    assert "pia.signed" in {e.kind for e in verdict.events}
    assert (verdict.deployments[dep]["status"], verdict.deployments[dep]["necessity"]) == (
        "live",
        NECESSITY,
    )


def test_a_bundle_proves_at_the_cosigned_head(gate: Gate, photo: Photo, tmp_path: Path) -> None:
    from facegate.ledger.witness import Witness

    dep, alice = _person(gate, photo)
    witness = Witness.create(tmp_path / "w", name="regulator", log_key=gate.ledger_key())
    gate.add_witness(witness.verifier_key)
    seen = witness.observe(gate)
    consent(gate, dep, "carol")  # the log moves on (the deployment's history with it) ...
    gate.enroll(dep, "carol", photo("fixtures/obama.jpg"))
    latest = gate.verify_ledger().size
    bundle = gate.export_evidence(pseudonym=alice)
    verdict = verify_bundle(bundle, log_key=gate.ledger_key(), witness_keys=[witness.verifier_key])
    # ... and the bundle is proven, complete, at the head the witness cosigned.
    assert verdict.size == seen.size < latest and verdict.cosigned[0].trusted
    assert verdict.completeness.count == 3 and verdict.completeness.size == seen.size
    deployment_bundle = gate.export_evidence(deployment_id=dep)  # carol's events: the newest
    assert verify_bundle(deployment_bundle, log_key=gate.ledger_key()).size == latest


def test_a_new_operator_is_committed_from_its_first_event(gate: Gate) -> None:
    gate.create_operator("Acme Lobby Services", contact="privacy@acme.example")
    with gate.db.read() as s:
        op = s.scalar(select(t.Operator).where(t.Operator.name == "Acme Lobby Services"))
        assert op is not None
        rows = s.scalars(select(t.LedgerEntry).order_by(t.LedgerEntry.idx)).all()
        created = [
            json.loads(r.data)
            for r in rows
            if json.loads(r.data)["kind"] == "operator.created"
            and json.loads(r.data).get("operator") == op.id
        ]
        assert len(created) == 1
        docs = documents_named(s, [created[0]["details"]["record_sha256"]])
    assert [d["kind"] for d in docs] == ["operator"]
    assert json.dumps(docs).count("privacy@acme.example") == 1
