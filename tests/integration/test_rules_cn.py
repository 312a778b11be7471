"""The 2025 face recognition Measures (CN-FR-*), each rule both ways through the Gate: the act
refused citing the rule (and the refusal ledgered), then allowed once the condition is met."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from lawful import CN_SPEC, cites, consent, draft, live, refused, sign

from facegate.config import Settings
from facegate.gate import Gate
from facegate.recognition import FaceEngine

rule = pytest.mark.rule
Photo = Callable[[str], bytes]
OBAMA = "fixtures/obama.jpg"


@rule("CN-FR-2", "refused")
def test_an_unknown_scope_is_refused(sqlite_gate: Gate) -> None:
    refused(sqlite_gate, "CN-FR-2", lambda: draft(sqlite_gate, scope="training-ish"))


@rule("CN-FR-2", "allowed")
def test_research_scope_is_registered_with_the_pipl_still_applying(sqlite_gate: Gate) -> None:
    dep = draft(sqlite_gate, scope="research")
    assert dep.scope == "research"
    assert any("research scope" in n for n in dep.notes)


@rule("CN-FR-4", "refused")
def test_a_purpose_of_a_few_letters_and_an_empty_necessity_are_refused(sqlite_gate: Gate) -> None:
    refused(sqlite_gate, "CN-FR-4", lambda: draft(sqlite_gate, purpose="entry"))
    dep = draft(sqlite_gate)
    from lawful import dpo

    refused(
        sqlite_gate,
        "CN-FR-4",
        lambda: dpo(sqlite_gate).sign_pia(dep.id, necessity="we want it", answers=None),
    )


@rule("CN-FR-4", "allowed")
def test_a_specific_purpose_and_a_written_necessity_pass(sqlite_gate: Gate) -> None:
    assert live(sqlite_gate).status == "live"


@rule("CN-FR-5", "refused")
def test_no_signs_at_a_physical_place_and_no_contact_in_the_notice_are_refused(
    sqlite_gate: Gate,
) -> None:
    refused(sqlite_gate, "CN-FR-5", lambda: draft(sqlite_gate, signage=False))
    dep = draft(sqlite_gate)
    sqlite_gate.set_operator(contact="")
    refused(sqlite_gate, "CN-FR-5", lambda: sign(sqlite_gate, dep.id))


@rule("CN-FR-5", "refused")
def test_an_operator_that_never_named_itself_publishes_no_notice(sqlite_gate: Gate) -> None:
    # a new home's operator has no name: none is presumed for it ("local operator" was)
    assert sqlite_gate.operator().name == ""
    sqlite_gate.set_operator(contact="+86 21 5555 0100", dpo="Wang Fang, dpo@test.example")
    dep = sqlite_gate.create_deployment(**CN_SPEC)
    denied = refused(sqlite_gate, "CN-FR-5", lambda: sign(sqlite_gate, dep.id))
    assert "processor" in denied.message
    sqlite_gate.set_operator(name="Test Property Management")
    assert sign(sqlite_gate, dep.id).status == "live"


@rule("CN-FR-5", "allowed")
def test_a_complete_notice_is_published_at_sign_off(sqlite_gate: Gate) -> None:
    dep = live(sqlite_gate)
    notice = sqlite_gate.notice(dep.id, language="zh-CN")
    assert notice.version == 1 and notice.body["contact"] and notice.body["dpo"]
    assert "CN-FR-5" in cites(sqlite_gate, dep.event_id)


@rule("CN-FR-6", "refused")
def test_a_child_without_a_guardian_and_an_unconsented_person_are_refused(
    sqlite_gate: Gate,
) -> None:
    dep = live(sqlite_gate)
    refused(
        sqlite_gate,
        "CN-FR-6",
        lambda: consent(sqlite_gate, dep.id, "kid", adult_attested=False, age=5),
    )


@rule("CN-FR-6", "allowed")
def test_a_childs_consent_given_by_an_identified_guardian_is_recorded(sqlite_gate: Gate) -> None:
    dep = live(sqlite_gate)
    receipt = consent(
        sqlite_gate,
        dep.id,
        "kid",
        adult_attested=False,
        age=5,
        guardian="Parent Li",
        guardian_form_sha256="ab" * 32,
    )
    assert "CN-FR-6" in cites(sqlite_gate, receipt.event_id)


@rule("CN-FR-9", "refused")
def test_an_unanswered_assessment_cannot_be_signed_and_a_draft_cannot_process(
    sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    dep = draft(sqlite_gate, pia=None)
    refused(sqlite_gate, "CN-FR-9", lambda: sign(sqlite_gate, dep.id))
    refused(sqlite_gate, "CN-FR-9", lambda: sqlite_gate.enroll(dep.id, "a", photo(OBAMA)))


@rule("CN-FR-9", "allowed")
def test_a_signed_assessment_takes_the_deployment_live(sqlite_gate: Gate) -> None:
    dep = live(sqlite_gate)
    assert dep.signed_by and dep.signed_at is not None
    view = sqlite_gate.pia(dep.id)
    assert view.missing == () and view.signed_by == dep.signed_by


@rule("CN-FR-9", "refused")
def test_an_assessment_is_kept_three_years(sqlite_gate: Gate) -> None:
    dep = live(sqlite_gate)
    sqlite_gate.change_deployment(dep.id, retention_days=180)
    sign(sqlite_gate, dep.id)
    refused(sqlite_gate, "CN-FR-9", lambda: sqlite_gate.delete_pia(dep.id, 1))


@rule("CN-FR-10", "refused")
@pytest.mark.parametrize("answer", ["none", "N/A", "无", " - "])
def test_a_non_answer_is_not_an_alternative(sqlite_gate: Gate, answer: str) -> None:
    refused(sqlite_gate, "CN-FR-10", lambda: draft(sqlite_gate, alternative=answer))


@rule("CN-FR-10", "allowed")
def test_a_real_alternative_passes(sqlite_gate: Gate) -> None:
    dep = draft(sqlite_gate, alternative="PIN pad at the gate")
    assert "CN-FR-10" in cites(sqlite_gate, dep.event_id)


@rule("CN-FR-12", "refused")
def test_an_alternative_that_costs_more_is_refused(sqlite_gate: Gate) -> None:
    refused(sqlite_gate, "CN-FR-12", lambda: draft(sqlite_gate, alternative_penalty=True))


@rule("CN-FR-12", "allowed")
def test_a_refusal_is_recorded_citing_cn_fr_12(sqlite_gate: Gate) -> None:
    dep = live(sqlite_gate)
    event = sqlite_gate.record_refusal(dep.id, method="spoken at the gatehouse")
    assert "CN-FR-12" in cites(sqlite_gate, event)


@rule("CN-FR-13", "refused")
@pytest.mark.parametrize("place", ["changing_room", "toilet", "hotel_room", "a_broom_cupboard"])
def test_banned_and_unknown_places_are_refused(sqlite_gate: Gate, place: str) -> None:
    refused(sqlite_gate, "CN-FR-13", lambda: draft(sqlite_gate, location=place))


@rule("CN-FR-13", "refused")
def test_a_public_place_needs_a_structured_public_security_basis(sqlite_gate: Gate) -> None:
    spec = {"location": "transport_hub", "purpose": "public security at the station hall"}
    refused(sqlite_gate, "CN-FR-13", lambda: draft(sqlite_gate, **spec))


@rule("CN-FR-13", "allowed")
def test_a_public_place_with_signs_and_a_public_security_basis_passes(sqlite_gate: Gate) -> None:
    basis = {
        "authority": "Municipal Public Security Bureau",
        "instrument": "Notice 2025-17 on the station security zone",
        "area": "departure hall, gates 1 to 12",
    }
    dep = draft(sqlite_gate, location="transport_hub", public_security=basis)
    assert "CN-FR-13" in cites(sqlite_gate, dep.event_id)


@rule("CN-FR-14", "refused")
def test_a_failed_self_check_stops_processing(
    sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    dep = live(sqlite_gate)
    consent(sqlite_gate, dep.id, "alice")
    home = sqlite_gate.settings.home
    os.chmod(home / "facegate.db", 0o644)
    report = sqlite_gate.self_check()
    assert not report.ok and report.controls["access_control"] is False
    refused(sqlite_gate, "CN-FR-14", lambda: sqlite_gate.enroll(dep.id, "alice", photo(OBAMA)))
    os.chmod(home / "facegate.db", 0o600)
    assert sqlite_gate.self_check().ok
    assert sqlite_gate.enroll(dep.id, "alice", photo(OBAMA)).template_id


@rule("CN-FR-14", "allowed")
def test_the_self_check_measures_each_control_and_is_ledgered(sqlite_gate: Gate) -> None:
    live(sqlite_gate)
    report = sqlite_gate.self_check(watching_intrusions=True)
    assert report.ok, report.problems
    assert report.controls == {
        "encryption": True,
        "access_control": True,
        "authorisation_management": True,
        "security_audit": True,
        "intrusion_detection": True,
    }
    assert "CN-FR-14" in cites(sqlite_gate, report.event_id)


def _hundred_thousand_people(gate: Gate, dep_id: str) -> None:
    """Rows standing for 100,000 enrolled people (the filing counts stored people)."""
    now = datetime.now(UTC)
    with gate.db.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO subjects (id, deployment_id, ref_hmac, ref_sealed, pseudonym, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(f"sub_bulk{i}", dep_id, f"h{i}", b"x", f"p{i}", now) for i in range(100_000)],
        )
        conn.exec_driver_sql(
            "INSERT INTO templates (id, subject_id, deployment_id, scheme, sealed, created_at,"
            " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    f"tpl_bulk{i}",
                    f"sub_bulk{i}",
                    dep_id,
                    "biohash-v1:4096",
                    b"x",
                    now,
                    now + timedelta(days=300),
                )
                for i in range(100_000)
            ],
        )


@rule("CN-FR-15", "refused")
@pytest.mark.slow
def test_enrollment_stops_when_the_filing_is_overdue(
    tmp_path, face_engine: FaceEngine, photo: Photo
) -> None:
    clock = _Clock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    with Gate.open(
        settings=Settings(home=tmp_path / "h"), engine=face_engine, clock=clock, create=True
    ) as gate:
        dep = live(gate)
        _hundred_thousand_people(gate, dep.id)
        consent(gate, dep.id, "alice")
        consent(gate, dep.id, "bob")
        gate.enroll(dep.id, "alice", photo(OBAMA))  # the clock starts: ledgered
        clock.now += timedelta(days=60)  # past 30 Chinese working days
        refused(gate, "CN-FR-15", lambda: gate.enroll(dep.id, "bob", photo("fixtures/biden.jpg")))
        from facegate.supervision.filings import record_submission

        record_submission(gate.core, reference="SH-2026-0001")
        assert gate.enroll(dep.id, "bob", photo("fixtures/biden.jpg")).template_id


@rule("CN-FR-15", "allowed")
def test_enrollment_below_the_threshold_cites_the_filing_rule(
    sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    dep = live(sqlite_gate)
    consent(sqlite_gate, dep.id, "alice")
    result = sqlite_gate.enroll(dep.id, "alice", photo(OBAMA))
    assert "CN-FR-15" in cites(sqlite_gate, result.event_id)


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_the_spec_never_presumes(sqlite_gate: Gate) -> None:
    """Every legally material field left out is an error naming it and its rule."""
    from facegate.errors import InvalidInput

    for field in ("jurisdiction", "legal_basis", "retention_days", "capabilities", "signage"):
        spec = {k: v for k, v in CN_SPEC.items() if k != field}
        with pytest.raises(InvalidInput, match=field):
            sqlite_gate.create_deployment(**spec)
