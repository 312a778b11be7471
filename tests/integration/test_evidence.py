"""Evidence bundles from a real Gate: export, offline verification, erasure, and the CLI."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_runner import fg as run_cli
from lawful import consent, live
from sqlalchemy import select

from facegate.errors import InvalidInput, NotFound, PolicyDenied
from facegate.gate import Gate
from facegate.ledger.evidence import bundle_json
from facegate.ledger.evidence_verify import verify_bundle
from facegate.ledger.proofs import verify_inclusion
from facegate.storage import tables as t

Photo = Callable[[str], bytes]
ROOT = Path(__file__).resolve().parents[2]


def _deployment(gate: Gate) -> str:
    return live(gate).id


def test_a_person_bundle_proves_use_under_consent(gate: Gate, photo: Photo) -> None:
    dep = _deployment(gate)
    receipt = consent(gate, dep, "alice-from-accounts")
    consent(gate, dep, "bob")
    gate.enroll(dep, "alice-from-accounts", photo("fixtures/obama.jpg"))
    gate.verify(dep, "alice-from-accounts", photo("fixtures/obama2.jpg"))
    bundle = gate.export_evidence(access_code=receipt.access_code)
    text = bundle_json(bundle)
    verdict = verify_bundle(text, log_key=gate.ledger_key())
    assert verdict.lawful
    assert [e.kind for e in verdict.events] == [
        "operator.created",
        "operator.updated",  # the operator's contact and DPO, set before go-live
        "deployment.created",
        "pia.signed",  # the DPO's sign-off that took the deployment live
        "notice.published",
        "consent.given",
        "enroll",
        "verify",
    ]
    assert verdict.completeness.proven and verdict.completeness.count == 3
    pseudonym = receipt.receipt["receipt"]["piiPrincipalId"]  # type: ignore[index]
    assert {e.subject for e in verdict.events} == {None, pseudonym}  # nothing about bob
    assert bundle["receipts"] == [receipt.receipt]  # the very receipt the person holds
    assert "alice-from-accounts" not in text  # the operator's reference never leaves
    assert verdict.consents[0].receipt and verdict.notices == 1


def test_erasure_is_dated_and_the_log_still_verifies(gate: Gate) -> None:
    dep = _deployment(gate)
    receipt = consent(gate, dep, "carol")
    consent(gate, dep, "dave")
    pseudonym = str(receipt.receipt["receipt"]["piiPrincipalId"])  # type: ignore[index]
    with gate.db.read() as s:
        carol = s.scalar(select(t.Subject.id).where(t.Subject.pseudonym == pseudonym))
    assert carol in gate.core.keyring.keystore.all_ids()
    erased = gate.erase(dep, "carol")
    # the leaf's key_destroyed is written as True by the flow itself: the key store must agree
    assert erased.key_destroyed and carol not in gate.core.keyring.keystore.all_ids()
    report = gate.verify_ledger()
    assert report.ok, report
    with gate.db.read() as s:
        assert s.scalar(select(t.Subject).where(t.Subject.pseudonym == pseudonym)) is None
        leaves = list(s.scalars(select(t.LedgerEntry.data)))
    assert not any(b"carol" in leaf for leaf in leaves)
    # The access code led to the person through rows that are gone ...
    with pytest.raises(NotFound) as gone:
        gate.export_evidence(access_code=receipt.access_code)
    assert "piiPrincipalId" in gone.value.advice
    # ... but the receipt's pseudonym still finds the events, the erasure receipt included.
    bundle = gate.export_evidence(pseudonym=pseudonym, receipts=[receipt.receipt])
    verdict = verify_bundle(bundle, log_key=gate.ledger_key())
    last = verdict.events[-1]
    assert (last.kind, last.event_id, last.at) == ("erase", erased.event_id, erased.erased_at)
    assert last.details["key_destroyed"] is True
    assert verdict.consents[0].ended is not None and verdict.consents[0].receipt
    entry = gate.ledger_entry(bundle["entries"][-1]["index"])
    proof = gate.inclusion_proof(entry.index, report.size)
    verify_inclusion(entry.leaf_hash, proof, bytes.fromhex(report.root_hex))


def test_a_deployment_bundle_holds_refusals_too(gate: Gate, photo: Photo) -> None:
    dep = _deployment(gate)
    with pytest.raises(PolicyDenied):
        gate.enroll(dep, "mallory", photo("fixtures/obama.jpg"))
    consent(gate, dep, "erin")
    bundle = gate.export_evidence(deployment_id=dep)
    verdict = verify_bundle(bundle, log_key=gate.ledger_key())
    assert verdict.lawful
    kinds = [e.kind for e in verdict.events]
    assert "policy.denied" in kinds and "consent.given" in kinds
    assert any(f.severity == "note" and "refused" in f.message for f in verdict.findings)
    # Another operator is told nothing exists: the answer names nothing it did not send.
    other = gate.create_operator("Other Bank", contact="+86 10 5555 0199")
    with pytest.raises(NotFound) as hidden:
        gate.acting_as(other.api_key.key).export_evidence(deployment_id=dep)
    assert str(hidden.value.message) == f"the ledger holds no event about deployment {dep}"


def test_receipts_brought_by_a_person_are_checked(gate: Gate, tmp_path: Path) -> None:
    dep = _deployment(gate)
    mine = consent(gate, dep, "frank")
    theirs = consent(gate, dep, "grace")
    pseudonym = str(mine.receipt["receipt"]["piiPrincipalId"])  # type: ignore[index]
    with pytest.raises(InvalidInput, match="another person"):
        gate.export_evidence(pseudonym=pseudonym, receipts=[theirs.receipt])
    forged = json.loads(json.dumps(mine.receipt))
    forged["receipt"]["purpose"] = "anything"
    with pytest.raises(InvalidInput, match="signature"):
        gate.export_evidence(pseudonym=pseudonym, receipts=[forged])
    with Gate.open(tmp_path / "other", create=True) as other:
        other_dep = _deployment(other)
        alien = consent(other, other_dep, "frank").receipt
    with pytest.raises(InvalidInput, match="not signed by this operator"):
        gate.export_evidence(pseudonym=pseudonym, receipts=[alien])


def test_kept_receipt_copies_are_bundled_after_erasure(gate: Gate) -> None:
    dep = _deployment(gate)
    receipt = consent(gate, dep, "judy")  # the consent flow keeps the operator's copy
    pseudonym = str(receipt.receipt["receipt"]["piiPrincipalId"])  # type: ignore[index]
    gate.withdraw_consent(dep, "judy")
    bundle = gate.export_evidence(pseudonym=pseudonym)
    assert bundle["receipts"] == [receipt.receipt]
    verdict = verify_bundle(bundle, log_key=gate.ledger_key())
    assert verdict.consents[0].receipt and verdict.consents[0].ended is not None


# --- the command line, as a court and an operator would use it -------------------------------


def fg(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(home, *args, ok=False)  # callers check the exit code themselves


def test_cli_export_and_offline_verify(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Gate.open(home, create=True) as gate:
        dep = _deployment(gate)
        receipt = consent(gate, dep, "heidi")
        key = gate.ledger_key()
    (tmp_path / "receipt.json").write_text(json.dumps(receipt.to_dict()))
    bundle = tmp_path / "bundle.json"
    proc = fg(home, "evidence", "export", "--subject", receipt.access_code, "-o", str(bundle))
    assert proc.returncode == 0, proc.stderr
    proc = fg(home, "evidence", "verify", str(bundle), "--log-key", key, "--json")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert json.loads(proc.stdout)["lawful"] is True
    proc = fg(home, "evidence", "verify", str(bundle))
    assert "AUTHENTIC" in proc.stdout and "LAWFUL" in proc.stdout

    data = json.loads(bundle.read_text())
    leaf = bytearray(base64.b64decode(data["entries"][-1]["leaf"]))
    leaf[10] ^= 1
    data["entries"][-1]["leaf"] = base64.b64encode(bytes(leaf)).decode()
    altered = tmp_path / "altered.json"
    altered.write_text(json.dumps(data))
    proc = fg(home, "evidence", "verify", str(altered), "--json")
    assert proc.returncode == 7 and json.loads(proc.stdout)["error"] == "evidence_invalid"

    # After erasure, the pseudonym taken from the receipt the person kept still works.
    with Gate.open(home) as gate:
        gate.withdraw_consent(dep, "heidi")
    again = tmp_path / "again.json"
    proc = fg(
        home, "evidence", "export", "--receipt", str(tmp_path / "receipt.json"), "-o", str(again)
    )
    assert proc.returncode == 0, proc.stderr
    proc = fg(home, "evidence", "verify", str(again), "--log-key", key, "--json")
    assert proc.returncode == 0, proc.stdout
    kinds = [e["kind"] for e in json.loads(proc.stdout)["events"]]
    assert kinds[-1] == "consent.withdrawn"


def test_cli_flags_an_unlawful_bundle_with_exit_4(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "tests" / "unit" / "ledger"))
    from evidence_forge import ForgedLog, enroll

    log = ForgedLog()
    log.deployment()
    enroll(log, "c3" * 16, 1)
    path = tmp_path / "forged.json"
    path.write_text(bundle_json(log.bundle()))
    proc = fg(tmp_path / "unused", "evidence", "verify", str(path), "--log-key", log.key)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "NOT LAWFUL" in proc.stdout and "with no consent.given" in proc.stdout
    assert not (tmp_path / "unused").exists()  # verification opened no installation


def test_cli_ledger_proofs(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Gate.open(home, create=True) as gate:
        dep = _deployment(gate)
        consent(gate, dep, "ivan")
        size = gate.inclusion_proof(0).size
        want = gate.inclusion_proof(2, size)
        entry = gate.ledger_entry(2)
    proc = fg(home, "ledger", "prove", "2", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {
        "index": 2,
        "size": size,
        "hashes": [h.hex() for h in want.hashes],
    }
    out = json.loads(fg(home, "ledger", "entry", "2", "--json").stdout)
    assert base64.b64decode(out["leaf"]) == entry.data
    out = json.loads(fg(home, "ledger", "consistency", "1", str(size), "--json").stdout)
    assert out["old_size"] == 1 and out["new_size"] == size and out["hashes"]
    proc = fg(home, "ledger", "prove", "99")
    assert proc.returncode == 3 and "not in a tree" in proc.stderr
    state = tmp_path / "witness"
    proc = fg(home, "witness", "init", "--state", str(state), "--name", "reg")
    assert proc.returncode == 0, proc.stderr
    witness_key = json.loads(fg(home, "witness", "show", "--state", str(state), "--json").stdout)
    proc = fg(home, "ledger", "witness-add", witness_key["witness_key"])
    assert proc.returncode == 0, proc.stderr
    proc = fg(home, "witness", "check", "--state", str(state), "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["submitted"] is True
