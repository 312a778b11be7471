"""The PIPL and the SPC 2021 provisions (CN-PIPL-*, CN-SPC-*), each rule both ways through the
Gate. (CN-PIPL-38 and CN-SPC-7 are about transfers: test_rules_transfers.py.)"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from lawful import cites, consent, draft, live, prepare_operator, refused, sign

from facegate.errors import InvalidInput
from facegate.gate import Gate
from facegate.recognition import FaceEngine

rule = pytest.mark.rule
Photo = Callable[[str], bytes]
OBAMA, OBAMA2 = "fixtures/obama.jpg", "fixtures/obama2.jpg"


@rule("CN-PIPL-14", "refused")
def test_a_changed_notice_voids_the_consents_given_before(
    sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    dep = live(sqlite_gate)
    consent(sqlite_gate, dep.id, "alice")
    sqlite_gate.enroll(dep.id, "alice", photo(OBAMA))
    sqlite_gate.change_deployment(dep.id, retention_days=180)
    assert sign(sqlite_gate, dep.id).notice_version == 2
    refused(sqlite_gate, "CN-PIPL-14", lambda: sqlite_gate.verify(dep.id, "alice", photo(OBAMA2)))
    # the consent lapsed: the next sweep erases the person, citing the pack's rules
    report = sqlite_gate.sweep_retention()
    assert report.subjects_erased == 1
    assert "CN-PIPL-19" in cites(sqlite_gate, report.event_ids[-1])


@rule("CN-PIPL-14", "allowed")
def test_a_consent_to_the_notice_in_force_is_used(
    sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    dep = live(sqlite_gate)
    consent(sqlite_gate, dep.id, "alice")
    sqlite_gate.enroll(dep.id, "alice", photo(OBAMA))
    result = sqlite_gate.verify(dep.id, "alice", photo(OBAMA2))
    assert result.decision == "match"
    assert "CN-PIPL-14" in cites(sqlite_gate, result.event_id)


@rule("CN-PIPL-15", "refused")
def test_an_ended_deployment_processes_nothing_and_a_hold_needs_a_legal_period(
    sqlite_gate: Gate,
) -> None:
    dep = live(sqlite_gate)
    consent(sqlite_gate, dep.id, "alice")
    refused(
        sqlite_gate, "CN-PIPL-15", lambda: sqlite_gate.hold(dep.id, "alice", ground="legal_claims")
    )
    receipt = sqlite_gate.end_deployment(dep.id, reason="the compound moved to key cards only")
    assert receipt.people_erased == 1
    refused(sqlite_gate, "CN-PIPL-15", lambda: consent(sqlite_gate, dep.id, "bob"))


@rule("CN-PIPL-15", "allowed")
def test_withdrawal_deletes_and_cites_the_rule(sqlite_gate: Gate) -> None:
    dep = live(sqlite_gate)
    consent(sqlite_gate, dep.id, "alice")
    receipt = sqlite_gate.withdraw_consent(dep.id, "alice")
    assert receipt.key_destroyed
    assert "CN-PIPL-15" in cites(sqlite_gate, receipt.event_id)
    assert sqlite_gate.hold is not None


@rule("CN-PIPL-19", "refused")
@pytest.mark.parametrize("days", [0, 3651, 99_999, 2**31 - 1])
def test_a_retention_out_of_range_is_a_refusal(sqlite_gate: Gate, days: int) -> None:
    refused(sqlite_gate, "CN-PIPL-19", lambda: draft(sqlite_gate, retention_days=days))


@pytest.mark.parametrize("days", [-5, 2**31])
def test_a_retention_that_is_no_period_is_bad_input_naming_the_rule(
    sqlite_gate: Gate, days: int
) -> None:
    """A negative count of days, or one no column holds, is not a period the law could
    judge: an input error naming the field and its rules, nothing written."""
    prepare_operator(sqlite_gate)
    head = sqlite_gate.checkpoint()
    with pytest.raises(InvalidInput, match=r"retention_days.*CN-PIPL-19"):
        draft(sqlite_gate, retention_days=days)
    assert sqlite_gate.checkpoint() == head


@rule("CN-PIPL-19", "refused")
def test_templates_may_not_outlive_the_purpose(sqlite_gate: Gate) -> None:
    soon = datetime.now(UTC) + timedelta(days=30)
    refused(
        sqlite_gate,
        "CN-PIPL-19",
        lambda: draft(sqlite_gate, retention_days=365, purpose_ends_at=soon),
    )


@rule("CN-PIPL-19", "allowed")
def test_templates_get_the_ttl_of_the_retention(
    sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    dep = live(sqlite_gate, retention_days=30)
    consent(sqlite_gate, dep.id, "alice")
    result = sqlite_gate.enroll(dep.id, "alice", photo(OBAMA))
    assert result.expires_at - datetime.now(UTC) < timedelta(days=30, minutes=5)
    assert "CN-PIPL-19" in cites(sqlite_gate, result.event_id)


def _request(gate: Gate, dep_id: str) -> str:
    code = consent(gate, dep_id, "alice").access_code
    return gate.subject_complaint(code, "The gate did not open for me on Monday.").request_id


@rule("CN-PIPL-44", "refused")
@pytest.mark.parametrize("reason", ["", "no", "   ok   "])
def test_an_answer_without_reasons_is_refused(sqlite_gate: Gate, reason: str) -> None:
    dep = live(sqlite_gate)
    request = _request(sqlite_gate, dep.id)
    refused(sqlite_gate, "CN-PIPL-44", lambda: sqlite_gate.answer_request(request, reason=reason))


@rule("CN-PIPL-44", "allowed")
def test_an_answer_with_reasons_closes_the_request(sqlite_gate: Gate) -> None:
    dep = live(sqlite_gate)
    request = _request(sqlite_gate, dep.id)
    answered = sqlite_gate.answer_request(
        request, reason="The reader was replaced on Tuesday; please try again."
    )
    assert answered.status == "answered"
    assert "CN-PIPL-44" in cites(sqlite_gate, answered.event_id)


@rule("CN-PIPL-69", "refused")
def test_a_ledger_that_does_not_verify_stops_processing(
    sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    dep = live(sqlite_gate)
    consent(sqlite_gate, dep.id, "alice")
    path = sqlite_gate.settings.home / "facegate.db"
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE ledger_entries SET data = CAST(? AS BLOB) WHERE idx = 3", (b"{}",))
    report = sqlite_gate.self_check()
    assert not report.ok
    refused(sqlite_gate, "CN-PIPL-69", lambda: sqlite_gate.enroll(dep.id, "alice", photo(OBAMA)))


@rule("CN-PIPL-69", "allowed")
def test_a_verified_ledger_lets_processing_go_on(
    sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    dep = live(sqlite_gate)
    consent(sqlite_gate, dep.id, "alice")
    assert sqlite_gate.self_check().ok
    result = sqlite_gate.enroll(dep.id, "alice", photo(OBAMA))
    assert "CN-PIPL-69" in cites(sqlite_gate, result.event_id)


@rule("CN-SPC-2", "refused")
def test_a_capability_not_declared_is_refused_and_business_places_need_signs(
    sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    dep = live(sqlite_gate, capabilities=["identify"])
    consent(sqlite_gate, dep.id, "alice")
    sqlite_gate.enroll(dep.id, "alice", photo(OBAMA))
    refused(sqlite_gate, "CN-SPC-2", lambda: sqlite_gate.verify(dep.id, "alice", photo(OBAMA2)))
    refused(sqlite_gate, "CN-SPC-2", lambda: draft(sqlite_gate, location="shop", signage=False))


@rule("CN-SPC-2", "allowed")
def test_a_declared_capability_is_used(
    sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    dep = live(sqlite_gate, capabilities=["verify"], capture=None)
    consent(sqlite_gate, dep.id, "alice")
    sqlite_gate.enroll(dep.id, "alice", photo(OBAMA))
    result = sqlite_gate.verify(dep.id, "alice", photo(OBAMA2))
    assert "CN-SPC-2" in cites(sqlite_gate, result.event_id)
