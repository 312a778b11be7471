"""One end-to-end scenario per policy pack, from registration to erasure, on real photos."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from lawful import CN_SPEC, PACK_SPEC, consent, form, live, sign

from facegate.errors import PolicyDenied
from facegate.gate import Gate
from facegate.ledger.evidence_verify import verify_bundle

Photo = Callable[[str], bytes]

SCENARIOS = {
    "cn": {"location": "residential_compound", "consent": {"method": "signed_form"}},
    "eu": {"location": "office", "consent": {"method": "signed_form"}},
    "us-il": {"location": "office", "consent": {"method": "electronic_signature"}},
}


@pytest.mark.parametrize("pack", sorted(SCENARIOS))
def test_registration_to_erasure(sqlite_gate: Gate, photo: Photo, pack: str) -> None:
    gate = sqlite_gate
    plan = SCENARIOS[pack]
    # Another operator on the installation, acting through its own admin's key. GDPR Art 30
    # and the notice need the controller's identity, contact and DPO.
    op = gate.create_operator("Sunny Gardens Ltd", contact="dpo@sunny.example")
    gate = gate.acting_as(op.api_key.key)
    gate.set_operator(dpo="Li Wei, dpo@sunny.example")
    dep = gate.create_deployment(
        **{
            **CN_SPEC,
            **PACK_SPEC[pack],
            "name": f"{pack} entrance",
            "purpose": "Members enter the building by face at the door",
            "location": str(plan["location"]),
            "alternative": "member card at the desk",
        }
    )
    assert dep.status == "draft" and dep.operator_id == op.principal.operator_id
    assert any("pia sign" in n for n in dep.notes), "the sign-off step must be pointed out"
    # A draft processes nothing, whatever the pack.
    with pytest.raises(PolicyDenied):
        consent(gate, dep.id, "obama", **plan["consent"])
    notice_version = sign(gate, dep.id).notice_version
    # Without consent: refused, citing this pack's consent rule.
    with pytest.raises(PolicyDenied) as refused:
        gate.enroll(dep.id, "obama", photo("fixtures/obama.jpg"))
    assert refused.value.rule_ids
    receipt = consent(gate, dep.id, "obama", notice_version=notice_version, **plan["consent"])
    before = datetime.now(UTC)
    enrolled = gate.enroll(dep.id, "obama", photo("fixtures/obama.jpg"))
    if pack == "us-il":  # BIPA: destroyed within three years of the enrollment at the latest
        assert before < enrolled.expires_at <= datetime.now(UTC) + timedelta(days=3 * 365)
    assert gate.verify(dep.id, "obama", photo("fixtures/obama2.jpg")).decision == "match"
    assert gate.identify(dep.id, photo("fixtures/obama3.jpg")).subject_ref == "obama"
    assert gate.identify(dep.id, photo("fixtures/biden.jpg")).decision == "unknown"
    erased = gate.erase(dep.id, "obama")
    assert erased.templates_erased == 1 and erased.key_destroyed
    with pytest.raises(PolicyDenied):
        gate.verify(dep.id, "obama", photo("fixtures/obama2.jpg"))
    # The whole story, provable offline: consented before any processing, then erased.
    pseudonym = str(receipt.receipt["receipt"]["piiPrincipalId"])  # type: ignore[index]
    verdict = verify_bundle(gate.export_evidence(pseudonym=pseudonym), log_key=gate.ledger_key())
    kinds = [e.kind for e in verdict.events if e.subject == pseudonym]
    assert kinds[0] == "consent.given" and kinds[-1] == "erase"
    assert {"enroll", "verify", "identify"} <= set(kinds)
    assert verdict.lawful
    assert gate.verify_ledger().ok


def test_bipa_refuses_a_consent_that_is_not_a_written_release(
    sqlite_gate: Gate,
) -> None:
    dep = live(
        sqlite_gate,
        **PACK_SPEC["us-il"],
        name="Chicago office",
        purpose="Staff pass the turnstile by face at the lobby",
        location="office",
        alternative="staff badge at the desk",
    )
    # An explicit but unwritten consent is no written release (the method is no longer
    # presumed to be a signed form).
    for method in ("explicit_click", "recorded_verbal"):
        with pytest.raises(PolicyDenied) as refused:
            consent(sqlite_gate, dep.id, "alice", method=method, form_sha256=None)
        assert "US-IL-15b" in refused.value.rule_ids
    # An electronic signature is written (BIPA accepts it), with the record's hash.
    assert consent(sqlite_gate, dep.id, "alice", method="electronic_signature").access_code


def test_a_child_needs_a_guardian(sqlite_gate: Gate) -> None:
    dep = live(
        sqlite_gate,
        name="School gate",
        purpose="Pupils are let in by face at the school gate",
        location="school",
        alternative="pupil card",
    )
    child = {"age": 12, "adult_attested": False}
    with pytest.raises(PolicyDenied) as refused:
        consent(sqlite_gate, dep.id, "kid", **child)
    assert refused.value.rule_id == "CN-FR-6"
    # The guardian is identified: named, with the form they signed.
    guardian = {"guardian": "Zhang Min (mother)", "guardian_form_sha256": form("guardian")}
    assert consent(sqlite_gate, dep.id, "kid", **child, **guardian).access_code
