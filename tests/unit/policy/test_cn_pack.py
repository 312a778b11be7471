"""Every rule of the cn pack: at least one case it allows and one it denies, naming its id."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from facegate.errors import InvalidInput, PolicyDenied
from facegate.policy import Act, ConsentFacts, Context, DeploymentFacts, decide, rules_for

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
DEP = DeploymentFacts(
    purpose="Residents open the compound gate by face",
    necessity="Key cards are lent and lost; residents asked for hands-free entry",
    legal_basis="consent",
    location_type="residential_compound",
    alternative="key card",
    signage=False,
    jurisdiction="cn",
    purpose_sha256="p1",
)
CONSENT = ConsentFacts(
    notice_version=1,
    notice_sha256="n1",
    purpose_sha256="p1",
    given_at=NOW - timedelta(days=1),
    expires_at=None,
)
RULES = rules_for(["cn"])


def ctx(act: Act = Act.ENROLL, **kw: object) -> Context:
    base: dict[str, object] = {
        "act": act,
        "deployment": DEP,
        "now": NOW,
        "consent": CONSENT,
        "current_notice_sha256": "n1",
    }
    base.update(kw)
    return Context(**base)  # type: ignore[arg-type]


REG = Act.REGISTER_DEPLOYMENT
CASES = [
    ("CN-FR-4", ctx(REG), ctx(REG, deployment=replace(DEP, purpose="x"))),
    ("CN-FR-4", ctx(REG), ctx(REG, deployment=replace(DEP, necessity=""))),
    ("CN-FR-10", ctx(REG), ctx(REG, deployment=replace(DEP, alternative=" "))),
    ("CN-FR-13", ctx(REG), ctx(REG, deployment=replace(DEP, location_type="hotel_room"))),
    ("CN-FR-13", ctx(REG), ctx(REG, deployment=replace(DEP, location_type="toilet"))),
    (
        "CN-FR-13",
        ctx(
            REG,
            deployment=replace(
                DEP,
                location_type="public_place",
                signage=True,
                purpose="Public security screening at the station entrance",
            ),
        ),
        ctx(
            REG,
            deployment=replace(
                DEP,
                location_type="public_place",
                signage=False,
                purpose="Public security screening at the station entrance",
            ),
        ),
    ),
    (
        "CN-FR-13",
        ctx(
            REG,
            deployment=replace(
                DEP,
                location_type="public_place",
                signage=True,
                purpose="Public security screening at the station entrance",
            ),
        ),
        ctx(
            REG,
            deployment=replace(
                DEP,
                location_type="public_place",
                signage=True,
                purpose="Count shoppers to target advertising",
            ),
        ),
    ),
    ("CN-FR-6", ctx(Act.ENROLL), ctx(Act.ENROLL, consent=None)),
    (
        "CN-FR-6",
        ctx(Act.IDENTIFY),
        ctx(Act.IDENTIFY, consent=replace(CONSENT, expires_at=NOW - timedelta(seconds=1))),
    ),
    ("CN-PIPL-14", ctx(Act.VERIFY), ctx(Act.VERIFY, current_notice_sha256="n2")),
    ("CN-PIPL-14", ctx(Act.VERIFY), ctx(Act.VERIFY, deployment=replace(DEP, purpose_sha256="p2"))),
]


@pytest.mark.parametrize(
    ("rule_id", "allowed", "denied"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_rule_allows_and_denies(rule_id: str, allowed: Context, denied: Context) -> None:
    ok = decide(allowed, RULES)
    assert ok.allowed and rule_id in ok.rule_ids
    no = decide(denied, RULES)
    assert not no.allowed
    assert rule_id in [f.rule_id for f in no.denials]
    with pytest.raises(PolicyDenied) as raised:
        no.raise_if_denied()
    assert raised.value.rule_id == no.denials[0].rule_id
    assert rule_id in str(raised.value) or rule_id in raised.value.rule_ids
    assert raised.value.advice


def test_unknown_pack_is_a_clear_error() -> None:
    with pytest.raises(InvalidInput, match="no policy pack"):
        rules_for(["atlantis"])
