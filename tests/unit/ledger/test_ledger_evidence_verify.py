"""The offline bundle verifier: what it accepts, what it flags, and every alteration it refuses."""

from __future__ import annotations

import ast
import base64
import copy
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from evidence_forge import DEP, NOTICE_SHA, T0, ForgedLog, enroll, verify
from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_reference import leaf_hash, mth, path

from facegate.ledger import evidence_verify
from facegate.ledger.checkpoint import Cosigner, Signer
from facegate.ledger.events import Kind
from facegate.ledger.evidence import bundle_json
from facegate.ledger.evidence_verify import BundleInvalid, root_from_inclusion, verify_bundle

ALICE = "a1" * 16
BOB = "b0" * 16
WITNESS = Cosigner.from_seed("regulator", b"\x07" * 32)

Bundle = dict[str, Any]


def lawful_log() -> tuple[ForgedLog, list[dict[str, object]]]:
    log = ForgedLog()
    log.deployment()
    receipt = log.consent(ALICE, 1)
    enroll(log, ALICE, 2)
    verify(log, ALICE, 3)
    log.add(Kind.CONSENT_WITHDRAWN, 4, subject=ALICE, details={"templates_erased": 1})
    return log, [receipt]


def test_a_lawful_bundle_verifies_and_says_so() -> None:
    log, receipts = lawful_log()
    verdict = verify_bundle(bundle_json(log.bundle(receipts=receipts)), log_key=log.key)
    assert verdict.lawful
    assert [e.kind for e in verdict.events] == [
        "deployment.created",
        "notice.published",
        "consent.given",
        "enroll",
        "verify",
        "consent.withdrawn",
    ]
    (consent,) = verdict.consents
    assert consent.receipt and consent.ended is not None and consent.ended[0] == 5
    assert not [f for f in verdict.findings if f.severity in ("violation", "warning")]
    text = verdict.summary()
    assert "AUTHENTIC" in text and "LAWFUL" in text and "NOT LAWFUL" not in text
    assert verdict.to_dict()["lawful"] is True


def test_enrollment_without_consent_is_flagged() -> None:
    log = ForgedLog()
    log.deployment()
    bad_enroll = enroll(log, BOB, 1)
    bad_verify = verify(log, BOB, 2)
    verdict = verify_bundle(log.bundle(scope={"subject": BOB}), log_key=log.key)
    assert not verdict.lawful
    violations = [f for f in verdict.findings if f.severity == "violation"]
    assert [f.index for f in violations] == [bad_enroll, bad_verify]
    assert all("no consent.given" in f.message for f in violations)
    assert "NOT LAWFUL" in verdict.summary()


@pytest.mark.parametrize("ending", [Kind.CONSENT_WITHDRAWN, Kind.ERASED])
def test_processing_after_the_consent_ended_is_flagged(ending: Kind) -> None:
    log = ForgedLog()
    log.deployment()
    receipt = log.consent(ALICE, 1)
    enroll(log, ALICE, 2)
    log.add(ending, 3, subject=ALICE)
    late = verify(log, ALICE, 4)
    verdict = verify_bundle(log.bundle(receipts=[receipt]), log_key=log.key)
    (violation,) = [f for f in verdict.findings if f.severity == "violation"]
    assert violation.index == late and f"after {ending}" in violation.message


def test_processing_after_the_consent_expired_is_flagged() -> None:
    log = ForgedLog()
    log.deployment()
    receipt = log.consent(ALICE, 1, expires=T0 + timedelta(minutes=10))
    enroll(log, ALICE, 2)
    late = verify(log, ALICE, 11)
    verdict = verify_bundle(log.bundle(receipts=[receipt]), log_key=log.key)
    (violation,) = [f for f in verdict.findings if f.severity == "violation"]
    assert violation.index == late and "expired" in violation.message


def test_consent_to_another_deployment_does_not_count() -> None:
    log = ForgedLog()
    log.deployment()
    log.consent(ALICE, 1, deployment="dep_other")
    bad = enroll(log, ALICE, 2)
    verdict = verify_bundle(log.bundle(), log_key=log.key)
    assert [f.index for f in verdict.findings if f.severity == "violation"] == [bad]


def test_a_receipt_that_contradicts_the_log_is_flagged() -> None:
    log = ForgedLog()
    log.deployment()
    log.consent(ALICE, 1)
    # The operator hands the person a receipt saying "verbal" while the log says a form.
    other = ForgedLog()
    lying = other.consent(ALICE, 1, method="verbal")
    lying["receipt"]["consentReceiptID"] = log.consent_ids[ALICE]  # type: ignore[index]
    lying = _resign(log, lying)
    verdict = verify_bundle(log.bundle(receipts=[lying]), log_key=log.key)
    (violation,) = [f for f in verdict.findings if f.severity == "violation"]
    assert "collectionMethod" in violation.message


def _resign(log: ForgedLog, receipt: dict[str, object]) -> dict[str, object]:
    from facegate.consent.receipts import sign_receipt

    body = dict(receipt["receipt"])  # type: ignore[call-overload]
    return sign_receipt(body, log.signer.private_key)


def test_the_court_pins_the_operator_key() -> None:
    log, receipts = lawful_log()
    bundle = log.bundle(receipts=receipts)
    impostor = Signer.from_seed(log.signer.name, b"\x09" * 32)
    with pytest.raises(BundleInvalid, match="not the key you trust"):
        verify_bundle(bundle, log_key=impostor.verifier_key())
    unpinned = verify_bundle(bundle)
    assert not unpinned.log_key_trusted
    assert any("key inside the bundle" in f.message for f in unpinned.findings)


def test_witness_cosignatures_are_checked_and_reported() -> None:
    log, receipts = lawful_log()
    bundle = log.bundle(receipts=receipts, cosigners=[WITNESS])
    verdict = verify_bundle(bundle, log_key=log.key, witness_keys=[WITNESS.verifier_key()])
    (cosig,) = verdict.cosigned
    assert cosig.name == "regulator" and cosig.trusted and cosig.timestamp == 1_772_355_600
    stranger = Cosigner.from_seed("someone", b"\x05" * 32).verifier_key()
    verdict = verify_bundle(bundle, log_key=log.key, witness_keys=[stranger])
    assert any("no witness you trust" in f.message for f in verdict.findings)
    claimed = log.bundle(receipts=receipts)
    claimed["log"]["witnesses"] = [WITNESS.verifier_key()]
    with pytest.raises(BundleInvalid, match="carries no cosignature"):
        verify_bundle(claimed, log_key=log.key)


# --- every altered byte is refused -----------------------------------------------------------


def _rejected(bundle: Bundle, log: ForgedLog) -> None:
    with pytest.raises(BundleInvalid):
        verify_bundle(json.dumps(bundle), log_key=log.key, witness_keys=[WITNESS.verifier_key()])


def _flip_b64(text: str, i: int) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[i] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def _each_alteration(bundle: Bundle) -> dict[str, list[Callable[[Bundle], None]]]:
    """For each part of the bundle, one mutation per byte of it."""
    entry = bundle["entries"][3]
    leaf = base64.b64decode(entry["leaf"])
    note: str = bundle["log"]["checkpoint"]
    text, sig_block = note[: note.rindex("\n\n") + 1], note[note.rindex("\n\n") + 2 :]
    sig_lines = sig_block.splitlines()
    receipt = bundle["receipts"][0]

    def leaf_byte(i: int) -> Callable[[Bundle], None]:
        def f(b: Bundle) -> None:
            b["entries"][3]["leaf"] = _flip_b64(entry["leaf"], i)

        return f

    def proof_byte(k: int, i: int) -> Callable[[Bundle], None]:
        def f(b: Bundle) -> None:
            raw = bytearray.fromhex(entry["proof"][k])
            raw[i] ^= 0x01
            b["entries"][3]["proof"][k] = raw.hex()

        return f

    def text_char(i: int) -> Callable[[Bundle], None]:
        def f(b: Bundle) -> None:
            altered = text[:i] + chr(ord(text[i]) ^ 0x01) + text[i + 1 :]
            b["log"]["checkpoint"] = altered + "\n" + sig_block

        return f

    def sig_byte(line: int, i: int) -> Callable[[Bundle], None]:
        def f(b: Bundle) -> None:
            dash, name, blob = sig_lines[line].split(" ")
            lines = list(sig_lines)
            lines[line] = f"{dash} {name} {_flip_b64(blob, i)}"
            b["log"]["checkpoint"] = text + "\n" + "\n".join(lines) + "\n"

        return f

    def receipt_sig_byte(i: int) -> Callable[[Bundle], None]:
        def f(b: Bundle) -> None:
            b["receipts"][0]["signature"] = _flip_b64(receipt["signature"], i)

        return f

    sig_len = [len(base64.b64decode(line.split(" ")[2])) for line in sig_lines]
    return {
        "event": [leaf_byte(i) for i in range(len(leaf))],
        "proof": [proof_byte(k, i) for k in range(len(entry["proof"])) for i in range(32)],
        "checkpoint": [text_char(i) for i in range(len(text))],
        "signature": [
            sig_byte(line, i) for line in range(len(sig_lines)) for i in range(sig_len[line])
        ],
        "receipt signature": [receipt_sig_byte(i) for i in range(64)],
    }


@pytest.mark.parametrize("part", ["event", "proof", "checkpoint", "signature", "receipt signature"])
def test_any_altered_byte_is_refused(part: str) -> None:
    log, receipts = lawful_log()
    bundle = log.bundle(receipts=receipts, cosigners=[WITNESS])
    verify_bundle(bundle, log_key=log.key, witness_keys=[WITNESS.verifier_key()])
    mutations = _each_alteration(bundle)[part]
    assert len(mutations) >= 32
    for mutate in mutations:
        altered = copy.deepcopy(bundle)
        mutate(altered)
        _rejected(altered, log)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b["notices"][0]["body"].update(purpose="something else"),
        lambda b: b["deployments"][0].update(purpose="something else"),
        lambda b: b["receipts"][0]["receipt"].update(piiPrincipalId=BOB),
        lambda b: b["entries"].pop(0) and b["entries"].insert(1, b["entries"][0]),
        lambda b: b["entries"][2].update(index=b["entries"][2]["index"] + 1),
        lambda b: b["log"].update(origin="another.log/ledger"),
        lambda b: b.update(format="facegate-evidence/v0"),
    ],
    ids=[
        "notice text",
        "purpose",
        "receipt body",
        "entry order",
        "entry index",
        "origin",
        "format",
    ],
)
def test_altered_texts_and_structure_are_refused(mutate: Callable[[Bundle], None]) -> None:
    log, receipts = lawful_log()
    bundle = log.bundle(receipts=receipts)
    mutate(bundle)
    with pytest.raises(BundleInvalid):
        verify_bundle(bundle, log_key=log.key)


def test_a_leaf_that_is_not_canonical_json_is_refused() -> None:
    log = ForgedLog()
    log.deployment()
    # Signed and proven, but with a duplicated key that parsers could read two ways.
    forged = (
        b'{"at":"2026-03-01T09:00:00+00:00","deployment":"' + DEP.encode() + b'","details":{},'
        b'"id":"evt_x","kind":"enroll","kind":"consent.given","operator":null,"rules":[],'
        b'"subject":null,"v":1}'
    )
    from facegate.ledger.hasher import hash_leaf

    log.store.append([hash_leaf(forged)])
    log.index.add_leaf(len(log.leaves), forged)
    log.leaves.append(forged)
    with pytest.raises(BundleInvalid, match="canonical"):
        verify_bundle(log.bundle(), log_key=log.key)


# --- the independent RFC 9162 check agrees with facegate's and with the RFC -------------------


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_independent_inclusion_check_matches_the_rfc(size_index: tuple[int, int]) -> None:
    size, index = size_index
    leaves = [leaf_hash(f"leaf {i}".encode()) for i in range(size)]
    proof = path(index, leaves)
    assert root_from_inclusion(leaves[index], index, size, proof) == mth(leaves)
    if proof:
        bad = [proof[0][:-1] + bytes([proof[0][-1] ^ 1]), *proof[1:]]
        assert root_from_inclusion(leaves[index], index, size, bad) != mth(leaves)
    with pytest.raises(BundleInvalid):
        root_from_inclusion(leaves[index], index, size, [*proof, leaves[0]])


def test_the_verifier_depends_on_nothing_but_stdlib_and_cryptography() -> None:
    allowed = {
        "facegate.errors",
        "facegate.ledger.evidence_complete",
        "facegate.ledger.evidence_facts",
        "facegate.ledger.evidence_findings",
        "facegate.ledger.evidence_verdict",
    }
    folder = Path(evidence_verify.__file__).parent
    for name in (
        "evidence_verify.py",
        "evidence_complete.py",
        "evidence_facts.py",
        "evidence_findings.py",
        "evidence_verdict.py",
    ):
        tree = ast.parse((folder / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                top = node.module.split(".")[0]
                assert top != "facegate" or node.module in allowed, (name, node.module)
                assert top in {
                    "__future__",
                    "facegate",
                    "cryptography",
                    "base64",
                    "binascii",
                    "hashlib",
                    "json",
                    "re",
                    "collections",
                    "dataclasses",
                    "datetime",
                    "typing",
                }, (name, node.module)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert alias.name.split(".")[0] in {
                        "base64",
                        "binascii",
                        "hashlib",
                        "json",
                        "re",
                    }, (name, alias.name)


def test_notice_hash_in_the_forge_is_the_one_bound_into_consents() -> None:
    # Guards the helper itself: a consent's notice hash must match the bundled notice text.
    log, receipts = lawful_log()
    verdict = verify_bundle(log.bundle(receipts=receipts), log_key=log.key)
    assert verdict.consents[0].notice_sha256 == NOTICE_SHA
    assert not any("notice" in f.message for f in verdict.findings)
