"""The CN-FR-15 threshold, the scale bands and what counts as a material change."""

from __future__ import annotations

from datetime import UTC, datetime

from facegate.results import DeploymentInfo
from facegate.supervision.filing_document import (
    FilingFacts,
    changed_parts,
    material_sha256,
    scale_band,
)
from facegate.supervision.filings import FILING_THRESHOLD, filing_required

NOW = datetime(2025, 9, 26, 2, 0, tzinfo=UTC)


def test_the_threshold_is_100000_people() -> None:
    assert FILING_THRESHOLD == 100_000
    assert not filing_required(99_999)
    assert filing_required(100_000)
    assert filing_required(100_001)
    assert not filing_required(0)


def test_scale_bands() -> None:
    assert scale_band(0, threshold=100_000) == "100,000+"
    assert scale_band(999_999, threshold=100_000) == "100,000+"
    assert scale_band(1_000_000, threshold=100_000) == "1,000,000+"
    assert scale_band(25_000_000, threshold=100_000) == "10,000,000+"


def _dep(**kw: object) -> DeploymentInfo:
    fields: dict[str, object] = {
        "id": "dep_1",
        "operator_id": "op_local",
        "name": "Gate",
        "purpose": "Residents open the gate by face",
        "necessity": "n",
        "legal_basis": "consent",
        "location_type": "residential_compound",
        "signage": True,
        "jurisdiction": "cn",
        "retention_days": 365,
        "alternative": "key card",
        "threshold": 0.8,
        "scheme": "biohash-v1",
        "model_version": "dlib-resnet-v1",
        "status": "active",
        "created_at": NOW,
        "notice_version": 1,
        "event_id": "",
    }
    fields.update(kw)
    return DeploymentInfo(**fields)  # type: ignore[arg-type]


def _facts(people: int, *deps: DeploymentInfo, name: str = "Acme") -> FilingFacts:
    return FilingFacts(
        generated_at=NOW,
        operator_id="op_local",
        operator_name=name,
        operator_contact="dpo@acme.example",
        people=people,
        people_by_deployment={},
        templates=people,
        deployments=deps,
        notices={},
        pias={},
        signed={},
        ledger_size=1,
        key_custody="hsm",
    )


def test_daily_growth_is_not_a_material_change_but_a_new_purpose_is() -> None:
    base = _facts(100_000, _dep()).material(threshold=FILING_THRESHOLD)
    grown = _facts(140_000, _dep()).material(threshold=FILING_THRESHOLD)
    assert material_sha256(base) == material_sha256(grown)
    tenfold = _facts(1_000_000, _dep()).material(threshold=FILING_THRESHOLD)
    assert changed_parts(base, tenfold) == ["scale"]
    repurposed = _facts(100_000, _dep(purpose="Count visitors")).material(
        threshold=FILING_THRESHOLD
    )
    assert changed_parts(base, repurposed) == ["deployments"]
    renamed = _facts(100_000, _dep(), name="Acme Ltd").material(threshold=FILING_THRESHOLD)
    assert changed_parts(base, renamed) == ["processor"]
    added = _facts(100_000, _dep(), _dep(id="dep_2")).material(threshold=FILING_THRESHOLD)
    assert changed_parts(base, added) == ["deployments"]
