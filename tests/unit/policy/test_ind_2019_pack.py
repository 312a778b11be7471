"""The industry code IND-2019, layered over a law pack: stricter where the law leaves room."""

from __future__ import annotations

import pytest
from policy_cases import (
    LIVE,
    REG,
    SYSTEM,
    TRANSFER,
    Case,
    case_ids,
    check_case,
    consent_facts,
    ctx,
    declarations,
    deployment_facts,
    system_facts,
    transfer_facts,
)

from facegate.errors import InvalidInput
from facegate.policy import PACKS, Act, DeploymentFacts, decide, packs_named, rules_for

RULES = rules_for(["cn", "ind-2019"])
EGRESS = deployment_facts(egress=True)
SHARE_CONSENT = consent_facts(egress=True)


def _declared(**changes: object) -> DeploymentFacts:
    return deployment_facts(declarations=declarations(**changes))


CASES: list[Case] = [
    ("IND-2019", ctx(REG), ctx(REG, deployment=deployment_facts(retention_days=366))),
    ("IND-2019", ctx(REG), ctx(REG, deployment=_declared(risk_team=""))),
    ("IND-2019", ctx(REG), ctx(REG, deployment=_declared(accountable=" "))),
    ("IND-2019", ctx(LIVE), ctx(LIVE, deployment=_declared(fairness_tested=False))),
    (
        # the capability check of a search runs before the photo is read (Act.SCAN)
        "IND-2019",
        ctx(Act.VERIFY, deployment=deployment_facts(capabilities=frozenset({"verify"}))),
        ctx(Act.SCAN, deployment=deployment_facts(capabilities=frozenset({"verify"}))),
    ),
    (
        "IND-2019",
        ctx(Act.SHARE, deployment=EGRESS, consent=SHARE_CONSENT, transfer=TRANSFER),
        ctx(
            Act.SHARE,
            deployment=EGRESS,
            consent=SHARE_CONSENT,
            transfer=transfer_facts(recipient="Acme", for_profit=True),
        ),
    ),
    (
        "IND-2019",
        ctx(Act.START_SERVICE, system=SYSTEM),
        ctx(Act.START_SERVICE, system=system_facts(encryption=False)),
    ),
]


@pytest.mark.parametrize(("rule_id", "allowed", "denied"), CASES, ids=case_ids(CASES))
def test_rule_allows_and_denies(rule_id: str, allowed: object, denied: object) -> None:
    check_case(rule_id, RULES, allowed, denied)  # type: ignore[arg-type]


def test_every_rule_of_the_pack_has_cases() -> None:
    assert {c[0] for c in CASES} == {r.id for r in PACKS["ind-2019"].rules}


def test_the_code_is_stricter_than_the_law_it_layers_on() -> None:
    long = ctx(REG, deployment=deployment_facts(retention_days=400))
    assert decide(long, rules_for(["cn"])).allowed
    assert not decide(long, RULES).allowed
    # the law still applies underneath the code
    banned = ctx(REG, deployment=deployment_facts(location_type="toilet"))
    assert "CN-FR-13" in {f.rule_id for f in decide(banned, RULES).denials}


def test_an_industry_code_never_stands_alone() -> None:
    with pytest.raises(InvalidInput, match="cannot stand alone"):
        rules_for(["ind-2019"])
    assert [p.name for p in packs_named(["eu", "ind-2019"])] == ["eu", "ind-2019"]
