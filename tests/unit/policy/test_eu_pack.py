"""Every rule of the eu pack: at least one case it allows and one it denies, naming its id."""

from __future__ import annotations

from datetime import timedelta

import pytest
from policy_cases import LIVE, NOW, REG, Case, case_ids, check_case, consent, ctx, dep

from facegate.policy import (
    PACKS,
    Act,
    Declarations,
    DeploymentFacts,
    IncidentFacts,
    RecordFacts,
    RequestFacts,
    ReviewFacts,
    decide,
    rules_for,
)
from facegate.policy.dates import add_months

RULES = rules_for(["eu"])
REMOTE = dep(capabilities=frozenset({"verify", "identify", "remote_identification"}))
REVIEW = ReviewFacts(
    ("officer-17", "officer-22"), input_sha256="ab" * 32, reference_database="dep_x"
)


def _caps(*caps: str, **changes: object) -> DeploymentFacts:
    return dep(capabilities=frozenset(caps), **changes)


CASES: list[Case] = [
    # EU-GDPR-9 an Art 9(2) exception, normally explicit consent
    ("EU-GDPR-9", ctx(REG), ctx(REG, deployment=dep(legal_basis="legitimate_interest"))),
    ("EU-GDPR-9", ctx(LIVE), ctx(LIVE, deployment=dep(legal_basis="contract"))),
    ("EU-GDPR-9", ctx(Act.GIVE_CONSENT), ctx(Act.GIVE_CONSENT, consent=consent(method="implied"))),
    ("EU-GDPR-9", ctx(Act.ENROLL), ctx(Act.ENROLL, consent=None)),
    (
        "EU-GDPR-9",
        ctx(Act.VERIFY, deployment=dep(legal_basis="employment_law"), consent=None),
        ctx(Act.VERIFY, consent=consent(withdrawn=True)),
    ),
    # EU-GDPR-17 erasure without undue delay; refused only on an Art 17(3) ground
    (
        "EU-GDPR-17",
        ctx(Act.ANSWER_REQUEST, request=RequestFacts("delete", NOW)),
        ctx(Act.ANSWER_REQUEST, request=RequestFacts("delete", NOW, refused=True, reasons="busy")),
    ),
    (
        "EU-GDPR-17",
        ctx(
            Act.ANSWER_REQUEST,
            request=RequestFacts("delete", NOW, refused=True, exemption="legal_claims"),
        ),
        ctx(
            Act.ANSWER_REQUEST,
            request=RequestFacts("delete", NOW, refused=True, exemption="marketing"),
        ),
    ),
    # EU-GDPR-30 a complete record of processing
    ("EU-GDPR-30", ctx(REG), ctx(REG, deployment=dep(controller_contact=""))),
    ("EU-GDPR-30", ctx(LIVE), ctx(LIVE, deployment=dep(controller=""))),
    # EU-GDPR-33 the authority within 72 hours; people if high risk
    (
        "EU-GDPR-33",
        ctx(
            Act.CLOSE_INCIDENT,
            incident=IncidentFacts(NOW, regulator_notified_at=NOW, individuals_notified=True),
        ),
        ctx(Act.CLOSE_INCIDENT, incident=IncidentFacts(NOW, individuals_notified=True)),
    ),
    (
        "EU-GDPR-33",
        ctx(
            Act.CLOSE_INCIDENT,
            incident=IncidentFacts(
                NOW,
                regulator_notified_at=NOW + timedelta(hours=80),
                individuals_notified=True,
                delay_reason="the processor told us on day three",
            ),
        ),
        ctx(
            Act.CLOSE_INCIDENT,
            incident=IncidentFacts(
                NOW, regulator_notified_at=NOW + timedelta(hours=80), individuals_notified=True
            ),
        ),
    ),
    (
        "EU-GDPR-33",
        ctx(
            Act.CLOSE_INCIDENT,
            incident=IncidentFacts(NOW, regulator_notified_at=NOW, high_risk=False),
        ),
        ctx(Act.CLOSE_INCIDENT, incident=IncidentFacts(NOW, regulator_notified_at=NOW)),
    ),
    # EU-GDPR-35 a DPIA before go-live, redone on change
    ("EU-GDPR-35", ctx(LIVE), ctx(LIVE, deployment=dep(pia=None))),
    ("EU-GDPR-35", ctx(Act.VERIFY), ctx(Act.VERIFY, deployment=dep(egress=True, stale_pia=True))),
    # EU-AI-5 prohibited practices
    ("EU-AI-5", ctx(REG), ctx(REG, deployment=_caps("verify", "untargeted_scraping"))),
    (
        "EU-AI-5",
        ctx(REG, deployment=_caps("verify", "emotion_recognition", location_type="hospital")),
        ctx(REG, deployment=_caps("verify", "emotion_recognition", location_type="office")),
    ),
    (
        "EU-AI-5",
        ctx(LIVE),
        ctx(LIVE, deployment=_caps("emotion_recognition", location_type="school")),
    ),
    ("EU-AI-5", ctx(REG), ctx(REG, deployment=_caps("verify", "sensitive_trait_inference"))),
    (
        "EU-AI-5",
        ctx(
            REG,
            deployment=_caps("realtime_remote_identification", location_type="transport_hub"),
        ),
        ctx(
            REG,
            deployment=_caps(
                "realtime_remote_identification",
                location_type="transport_hub",
                declarations=Declarations(law_enforcement=True),
            ),
        ),
    ),
    # EU-AI-12 remote identification logged in full
    (
        "EU-AI-12",
        ctx(Act.ACT_ON_MATCH, deployment=REMOTE, review=REVIEW),
        ctx(
            Act.ACT_ON_MATCH,
            deployment=REMOTE,
            review=ReviewFacts(("a", "b"), input_sha256="", reference_database="dep_x"),
        ),
    ),
    (
        "EU-AI-12",
        ctx(Act.IDENTIFY, deployment=REMOTE),
        ctx(
            Act.ACT_ON_MATCH,
            deployment=REMOTE,
            review=ReviewFacts(("a", "b"), input_sha256="ab", reference_database=""),
        ),
    ),
    # EU-AI-14 two people verify a remote match
    (
        "EU-AI-14",
        ctx(Act.ACT_ON_MATCH, deployment=REMOTE, review=REVIEW),
        ctx(
            Act.ACT_ON_MATCH,
            deployment=REMOTE,
            review=ReviewFacts(("Alice", " alice "), "ab", "dep_x"),
        ),
    ),
    (
        "EU-AI-14",
        ctx(Act.IDENTIFY, deployment=REMOTE),
        ctx(Act.ACT_ON_MATCH, deployment=REMOTE, review=ReviewFacts(("officer-17",), "ab", "x")),
    ),
    # EU-AI-19 logs kept at least six months
    (
        "EU-AI-19",
        ctx(Act.DELETE_RECORD, record=RecordFacts("log", add_months(NOW, -6))),
        ctx(Act.DELETE_RECORD, record=RecordFacts("log", NOW - timedelta(days=170))),
    ),
]


@pytest.mark.parametrize(("rule_id", "allowed", "denied"), CASES, ids=case_ids(CASES))
def test_rule_allows_and_denies(rule_id: str, allowed: object, denied: object) -> None:
    check_case(rule_id, RULES, allowed, denied)  # type: ignore[arg-type]


def test_every_rule_of_the_pack_has_cases() -> None:
    assert {c[0] for c in CASES} == {r.id for r in PACKS["eu"].rules}


def test_breach_clock_and_identification_obligations() -> None:
    opened = decide(ctx(Act.RECORD_INCIDENT, incident=IncidentFacts(NOW)), RULES)
    due = {o.due for o in opened.obligations if o.rule_id == "EU-GDPR-33"}
    assert due == {NOW + timedelta(hours=72)}
    identify = decide(ctx(Act.IDENTIFY, deployment=REMOTE), RULES)
    assert {"EU-AI-12", "EU-AI-14"} <= {o.rule_id for o in identify.obligations}


def test_act_on_match_of_a_non_remote_deployment_needs_no_reviewers() -> None:
    decision = decide(ctx(Act.ACT_ON_MATCH, review=ReviewFacts((), "", "")), RULES)
    assert decision.allowed and decision.rule_ids == ()
