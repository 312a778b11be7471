"""Breach notification clocks: PIPL "immediately", GDPR 72 hours, GDPR Art 34 when high risk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from facegate.supervision.incidents import GDPR, PIPL, obligations
from facegate.supervision.results import Obligation

FOUND = datetime(2025, 10, 2, 9, 0, tzinfo=UTC)


def _obs(
    jurisdictions: list[str],
    *,
    after: timedelta = timedelta(hours=1),
    high_risk: bool = False,
    regulator_at: datetime | None = None,
    harm_avoided: bool = False,
) -> dict[tuple[str, str], Obligation]:
    found = obligations(
        jurisdictions,
        discovered_at=FOUND,
        high_risk=high_risk,
        regulator_at=regulator_at,
        individuals_at=None,
        now=FOUND + after,
        harm_avoided=harm_avoided,
    )
    return {(o.rule_id, o.audience): o for o in found}


def test_china_wants_the_regulator_and_people_told_immediately() -> None:
    obs = _obs(["cn"])
    assert set(obs) == {(PIPL, "regulator"), (PIPL, "individuals")}
    reg = obs[(PIPL, "regulator")]
    assert reg.immediate
    assert reg.due_at == FOUND
    assert reg.state == "due_now"


def test_gdpr_72_hours_exactly() -> None:
    o = _obs(["eu"], after=timedelta(hours=70))[(GDPR, "regulator")]
    assert o.due_at == datetime(2025, 10, 5, 9, 0, tzinfo=UTC)
    assert (o.state, o.hours_left) == ("pending", 2.0)
    late = _obs(["eu"], after=timedelta(hours=72, seconds=1))[(GDPR, "regulator")]
    assert late.state == "overdue"
    on_time = _obs(["eu"], regulator_at=FOUND + timedelta(hours=72))[(GDPR, "regulator")]
    assert on_time.state == "done"
    too_late = _obs(["eu"], regulator_at=FOUND + timedelta(hours=73))[(GDPR, "regulator")]
    assert too_late.state == "done_late"


def test_gdpr_individuals_only_when_high_risk() -> None:
    assert (GDPR, "individuals") not in _obs(["eu"])
    assert _obs(["eu"], high_risk=True)[(GDPR, "individuals")].state == "due_now"


def test_both_laws_apply_to_a_mixed_set_and_packs_by_family() -> None:
    assert {k[0] for k in _obs(["cn", "eu", "ind-2019"])} == {PIPL, GDPR}
    assert _obs(["us-il"]) == {}


def test_pipl_individuals_waived_when_harm_is_avoided() -> None:
    obs = _obs(["cn"], harm_avoided=True)
    assert obs[(PIPL, "individuals")].state == "waived"
    assert obs[(PIPL, "regulator")].state == "due_now"
