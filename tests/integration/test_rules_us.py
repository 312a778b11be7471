"""Illinois, Texas and Washington (US-*), each rule both ways through the Gate (US-IL-15c is
about transfers: test_rules_transfers.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from lawful import PACK_SPEC, cites, consent, draft, live, refused

from facegate.gate import Gate
from facegate.recognition import FaceEngine

rule = pytest.mark.rule
Photo = Callable[[str], bytes]
OBAMA, OBAMA2 = "fixtures/obama.jpg", "fixtures/obama2.jpg"


@rule("US-IL-15a", "refused")
def test_bipa_retention_beyond_three_years_is_refused(sqlite_gate: Gate) -> None:
    spec = {**PACK_SPEC["us-il"], "retention_days": 1200}
    refused(sqlite_gate, "US-IL-15a", lambda: draft(sqlite_gate, **spec))


@rule("US-IL-15a", "allowed")
def test_bipa_schedule_is_public_and_destruction_cites_it(sqlite_gate: Gate) -> None:
    dep = live(sqlite_gate, **PACK_SPEC["us-il"])
    public = sqlite_gate.public_deployment(dep.id)
    assert "740 ILCS 14/15(a)" in " ".join(public["retention_schedule"]["rules"])  # type: ignore[index]
    consent(sqlite_gate, dep.id, "amy")
    receipt = sqlite_gate.erase(dep.id, "amy")
    rules = cites(sqlite_gate, receipt.event_id)
    assert "US-IL-15a" in rules and "CN-PIPL-15" not in rules


@rule("US-IL-15b", "refused")
def test_a_click_is_not_a_written_release(sqlite_gate: Gate) -> None:
    dep = live(sqlite_gate, **PACK_SPEC["us-il"])
    refused(
        sqlite_gate,
        "US-IL-15b",
        lambda: consent(sqlite_gate, dep.id, "amy", method="explicit_click", form_sha256=None),
    )


@rule("US-IL-15b", "allowed")
def test_an_electronic_signature_is_a_written_release(
    sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    dep = live(sqlite_gate, **PACK_SPEC["us-il"])
    consent(sqlite_gate, dep.id, "amy", method="electronic_signature")
    result = sqlite_gate.enroll(dep.id, "amy", photo(OBAMA))
    assert "US-IL-15b" in cites(sqlite_gate, result.event_id)


@rule("US-TX-503", "refused")
def test_texas_capture_needs_consent_and_no_scanning_of_passers_by(
    sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    spec = PACK_SPEC["us-tx"]
    refused(sqlite_gate, "US-TX-503", lambda: draft(sqlite_gate, **spec, capture="in_view"))
    dep = live(sqlite_gate, **spec)
    refused(sqlite_gate, "US-TX-503", lambda: sqlite_gate.enroll(dep.id, "tom", photo(OBAMA)))


@rule("US-TX-503", "allowed")
def test_texas_per_person_purpose_end_erases_citing_the_rule(
    sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    dep = live(sqlite_gate, **PACK_SPEC["us-tx"])
    consent(sqlite_gate, dep.id, "tom")
    sqlite_gate.enroll(dep.id, "tom", photo(OBAMA))
    receipt = sqlite_gate.end_purpose(dep.id, "tom")
    assert receipt.templates_erased == 1
    assert "US-TX-503" in cites(sqlite_gate, receipt.event_id)


@rule("US-WA-19.375", "refused")
def test_washington_enrollment_needs_consent_or_an_opt_out(
    sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    dep = live(sqlite_gate, **PACK_SPEC["us-wa"])
    refused(sqlite_gate, "US-WA-19.375", lambda: sqlite_gate.enroll(dep.id, "wes", photo(OBAMA)))


@rule("US-WA-19.375", "allowed")
def test_washington_enrollment_with_consent(
    sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    dep = live(sqlite_gate, **PACK_SPEC["us-wa"])
    consent(sqlite_gate, dep.id, "wes")
    result = sqlite_gate.enroll(dep.id, "wes", photo(OBAMA))
    assert "US-WA-19.375" in cites(sqlite_gate, result.event_id)
