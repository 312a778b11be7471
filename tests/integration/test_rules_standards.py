"""The baseline every deployment is held to (ISO-24745, ISO-30136, ISO-29184, KANTARA-CR) and
the industry code IND-2019, each both ways through the Gate."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from lawful import PACK_SPEC, cites, consent, draft, live, refused, sign

from facegate.config import load_settings
from facegate.gate import Gate
from facegate.recognition import FaceEngine

rule = pytest.mark.rule
Photo = Callable[[str], bytes]
OBAMA = "fixtures/obama.jpg"


@rule("ISO-24745", "refused")
def test_a_master_key_readable_by_others_stops_processing(
    sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    dep = live(sqlite_gate)
    consent(sqlite_gate, dep.id, "alice")
    key = sqlite_gate.settings.home / "master.key"
    os.chmod(key, 0o644)
    report = sqlite_gate.self_check()
    assert not report.ok
    refused(sqlite_gate, "ISO-24745", lambda: sqlite_gate.enroll(dep.id, "alice", photo(OBAMA)))
    os.chmod(key, 0o600)
    assert sqlite_gate.self_check().ok


@rule("ISO-24745", "allowed")
def test_protected_sealed_templates_with_keys_apart_pass(
    sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    dep = live(sqlite_gate)
    consent(sqlite_gate, dep.id, "alice")
    report = sqlite_gate.self_check()
    assert report.ok
    # the embedded default keeps the master key in the home unencrypted: the report says so
    assert "stored unencrypted in the home" in report.measurements["keys_apart"]
    result = sqlite_gate.enroll(dep.id, "alice", photo(OBAMA))
    assert "ISO-24745" in cites(sqlite_gate, result.event_id)


@rule("ISO-30136", "refused")
@pytest.mark.parametrize("threshold", [5e-324, 0.0, 0.5, 1.0, 7.0])
def test_a_threshold_outside_the_measured_range_is_refused(
    sqlite_gate: Gate, threshold: float
) -> None:
    refused(sqlite_gate, "ISO-30136", lambda: draft(sqlite_gate, threshold=threshold))


@rule("ISO-30136", "allowed")
def test_the_calibrated_threshold_passes(sqlite_gate: Gate) -> None:
    dep = draft(sqlite_gate)
    assert dep.threshold == 0.8
    assert "ISO-30136" in cites(sqlite_gate, dep.event_id)


@rule("ISO-30136", "refused")
@rule("ISO-30136", "allowed")
def test_each_scheme_has_its_own_measured_range(tmp_path: Path) -> None:
    # biohash-v2's similarities of unrelated faces run higher than v1's: 1 % of them pass
    # 0.858 (bench/thresholds.py), so v1's calibrated 0.8 is refused there.
    settings = load_settings(home=tmp_path / "home")
    settings = settings.model_copy(
        update={"templates": settings.templates.model_copy(update={"scheme": "biohash-v2"})}
    )
    gate = Gate.open(settings=settings, create=True)
    try:
        refused(gate, "ISO-30136", lambda: draft(gate, threshold=0.8))
        dep = draft(gate, threshold=0.857)
        assert (dep.scheme, dep.threshold) == ("biohash-v2", 0.857)
        assert "ISO-30136" in cites(gate, dep.event_id)
    finally:
        gate.close()


@rule("ISO-29184", "refused")
def test_consent_to_a_notice_the_person_was_not_shown_is_refused(sqlite_gate: Gate) -> None:
    dep = live(sqlite_gate, **PACK_SPEC["us-wa"])
    refused(sqlite_gate, "ISO-29184", lambda: consent(sqlite_gate, dep.id, "a", notice_version=7))


@rule("ISO-29184", "allowed")
def test_consent_to_the_notice_in_force(sqlite_gate: Gate) -> None:
    dep = live(sqlite_gate, **PACK_SPEC["us-wa"])
    receipt = consent(sqlite_gate, dep.id, "a", notice_version=1)
    assert "ISO-29184" in cites(sqlite_gate, receipt.event_id)


@rule("KANTARA-CR", "refused")
def test_a_receipt_must_say_how_to_reach_the_controller(sqlite_gate: Gate) -> None:
    dep = live(sqlite_gate, **PACK_SPEC["us-wa"])
    sqlite_gate.set_operator(contact="")
    refused(sqlite_gate, "KANTARA-CR", lambda: consent(sqlite_gate, dep.id, "a"))


@rule("KANTARA-CR", "allowed")
def test_a_receipt_carries_the_v1_1_controller_fields(sqlite_gate: Gate) -> None:
    dep = live(sqlite_gate, **PACK_SPEC["us-wa"])
    receipt = consent(sqlite_gate, dep.id, "a")
    controller = receipt.receipt["receipt"]["piiControllers"][0]  # type: ignore[index]
    assert controller["piiController"] and controller["contact"] and controller["email"]
    purpose = receipt.receipt["receipt"]["services"][0]["purposes"][0]  # type: ignore[index]
    assert purpose["thirdPartyDisclosure"] is False
    assert "KANTARA-CR" in cites(sqlite_gate, receipt.event_id)


@rule("IND-2019", "refused")
def test_the_industry_code_is_stricter_than_the_law(sqlite_gate: Gate) -> None:
    spec = PACK_SPEC["cn+ind-2019"]
    refused(sqlite_gate, "IND-2019", lambda: draft(sqlite_gate, **spec, retention_days=400))
    dep = draft(sqlite_gate, **{**spec, "fairness_tested": False})
    refused(sqlite_gate, "IND-2019", lambda: sign(sqlite_gate, dep.id))


@rule("IND-2019", "allowed")
def test_the_industry_code_passes_a_tested_accountable_deployment(sqlite_gate: Gate) -> None:
    dep = live(sqlite_gate, **PACK_SPEC["cn+ind-2019"])
    assert "IND-2019" in cites(sqlite_gate, dep.event_id)
