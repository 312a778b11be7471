"""One end-to-end scenario per policy pack, from registration to erasure, on real photos."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from facegate.errors import PolicyDenied
from facegate.gate import Gate
from facegate.ledger.evidence_verify import verify_bundle

Photo = Callable[[str], bytes]

SCENARIOS = {
    "cn": {"location": "residential_compound", "consent": {"method": "signed_form"}},
    "eu": {"location": "office", "consent": {"method": "signed_form"}},
    "us-il": {"location": "office", "consent": {"method": "written_release"}},
}


@pytest.mark.parametrize("pack", sorted(SCENARIOS))
def test_registration_to_erasure(sqlite_gate: Gate, photo: Photo, pack: str) -> None:
    gate = sqlite_gate
    plan = SCENARIOS[pack]
    # GDPR Art 30 and the notice need the controller's identity and contact.
    op = gate.create_operator("Sunny Gardens Ltd", contact="dpo@sunny.example")
    dep = gate.create_deployment(
        operator_id=op.id,
        name=f"{pack} entrance",
        purpose="Members enter the building by face at the door",
        location=str(plan["location"]),
        alternative="member card at the desk",
        jurisdiction=pack,
        capabilities=["verify", "identify"],
    )
    assert dep.notes, "defaults filled in must be pointed out"
    notice = gate.notice(dep.id)
    # Without consent: refused, citing this pack's consent rule.
    with pytest.raises(PolicyDenied) as refused:
        gate.enroll(dep.id, "obama", photo("fixtures/obama.jpg"))
    assert refused.value.rule_ids
    receipt = gate.give_consent(dep.id, "obama", notice_version=notice.version, **plan["consent"])  # type: ignore[arg-type]
    enrolled = gate.enroll(dep.id, "obama", photo("fixtures/obama.jpg"))
    if pack == "us-il":  # BIPA: destroyed within three years at the latest
        assert (
            enrolled.expires_at - enrolled.expires_at.replace(year=enrolled.expires_at.year - 3)
        ).days >= 0
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
    dep = sqlite_gate.create_deployment(
        name="Chicago office",
        purpose="Staff pass the turnstile by face at the lobby",
        location="office",
        alternative="badge",
        jurisdiction="us-il",
    )
    with pytest.raises(PolicyDenied) as refused:
        sqlite_gate.give_consent(dep.id, "alice", method="verbal")
    assert "US-IL-15b" in refused.value.rule_ids


def test_a_child_needs_a_guardian(sqlite_gate: Gate) -> None:
    dep = sqlite_gate.create_deployment(
        name="School gate",
        purpose="Pupils are let in by face at the school gate",
        location="school",
        alternative="pupil card",
    )
    with pytest.raises(PolicyDenied) as refused:
        sqlite_gate.give_consent(dep.id, "kid", subject_age=12)
    assert refused.value.rule_id == "CN-FR-6"
    assert sqlite_gate.give_consent(dep.id, "kid", subject_age=12, by_guardian=True).access_code
