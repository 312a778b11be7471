"""Every rule of the eu pack: at least one case it allows and one it denies, naming its id.

Behaviour changed on purpose with issue 10: hospitals, shops and other staffed places are
workplaces under Art 5(1)(f) (emotion recognition there is refused); real-time remote
identification for law enforcement is refused in every publicly accessible space, not only
public places; reviewers are principals, and one without the reviewer role cannot verify;
a retention out of range and a search of everyone in view on consent alone are refused.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from policy_cases import (
    BASE,
    LIVE,
    NOW,
    REG,
    Case,
    case_ids,
    check_case,
    consent_facts,
    ctx,
    declarations,
    deployment_facts,
    incident_facts,
    pia_facts,
    request_facts,
    review_facts,
    system_facts,
)

from facegate.policy import PACKS, Act, DeploymentFacts, RecordFacts, decide, rules_for
from facegate.policy.dates import add_months

RULES = rules_for(["eu"])
EU = {"jurisdiction": "eu"}
REMOTE = deployment_facts(
    capabilities=frozenset({"verify", "identify", "remote_identification"}), **EU
)
REVIEW = review_facts("pr_officer17", "pr_officer22")


def _caps(*caps: str, **changes: object) -> DeploymentFacts:
    return deployment_facts(capabilities=frozenset(caps), **changes)


CASES: list[Case] = [
    # EU-GDPR-9 an Art 9(2) exception, normally explicit consent; consent of the enrolled
    # cannot cover people who are merely in view of a searching camera
    (
        "EU-GDPR-9",
        ctx(REG),
        ctx(REG, deployment=deployment_facts(legal_basis="legitimate_interest")),
    ),
    ("EU-GDPR-9", ctx(LIVE), ctx(LIVE, deployment=deployment_facts(legal_basis="contract"))),
    (
        "EU-GDPR-9",
        ctx(Act.GIVE_CONSENT),
        ctx(Act.GIVE_CONSENT, consent=consent_facts(method="implied")),
    ),
    (
        "EU-GDPR-9",
        ctx(Act.GIVE_CONSENT),
        ctx(Act.GIVE_CONSENT, consent=consent_facts(separate=False)),
    ),
    ("EU-GDPR-9", ctx(Act.ENROLL), ctx(Act.ENROLL, consent=None)),
    (
        "EU-GDPR-9",
        ctx(Act.VERIFY, deployment=deployment_facts(legal_basis="employment_law"), consent=None),
        ctx(Act.VERIFY, consent=consent_facts(withdrawn=True)),
    ),
    (
        "EU-GDPR-9",
        ctx(Act.SCAN),
        ctx(Act.SCAN, deployment=deployment_facts(capture="in_view")),
    ),
    (
        "EU-GDPR-9",
        ctx(
            REG,
            deployment=deployment_facts(
                capture="in_view", legal_basis="substantial_public_interest"
            ),
        ),
        ctx(REG, deployment=deployment_facts(capture="in_view")),
    ),
    # EU-GDPR-17 erasure without undue delay (an erasure cites it); refused or deferred only
    # on an Art 17(3) ground; a retention in range; nothing used after the deployment ended
    (
        "EU-GDPR-17",
        ctx(Act.ANSWER_REQUEST, request=request_facts("delete")),
        ctx(Act.ANSWER_REQUEST, request=request_facts("delete", refused=True, reasons="busy")),
    ),
    (
        "EU-GDPR-17",
        ctx(
            Act.ANSWER_REQUEST,
            request=request_facts("delete", refused=True, exemption="legal_claims"),
        ),
        ctx(
            Act.ANSWER_REQUEST,
            request=request_facts("delete", refused=True, exemption="marketing"),
        ),
    ),
    ("EU-GDPR-17", ctx(Act.HOLD, ground="legal_claims"), ctx(Act.HOLD, ground="marketing")),
    ("EU-GDPR-17", ctx(Act.ERASE), ctx(Act.VERIFY, deployment=deployment_facts(status="ended"))),
    ("EU-GDPR-17", ctx(Act.EXPIRE), ctx(REG, deployment=deployment_facts(retention_days=0))),
    # EU-GDPR-30 a complete record of processing: controller, contact, DPO
    ("EU-GDPR-30", ctx(REG), ctx(REG, deployment=deployment_facts(controller_contact=""))),
    ("EU-GDPR-30", ctx(LIVE), ctx(LIVE, deployment=deployment_facts(controller=""))),
    ("EU-GDPR-30", ctx(LIVE), ctx(LIVE, deployment=deployment_facts(dpo=""))),
    # EU-GDPR-33 the authority within 72 hours; people if high risk
    (
        "EU-GDPR-33",
        ctx(
            Act.CLOSE_INCIDENT,
            incident=incident_facts(regulator_notified_at=NOW, individuals_notified=True),
        ),
        ctx(Act.CLOSE_INCIDENT, incident=incident_facts(individuals_notified=True)),
    ),
    (
        "EU-GDPR-33",
        ctx(
            Act.CLOSE_INCIDENT,
            incident=incident_facts(
                regulator_notified_at=NOW + timedelta(hours=80),
                individuals_notified=True,
                delay_reason="the processor told us on day three",
            ),
        ),
        ctx(
            Act.CLOSE_INCIDENT,
            incident=incident_facts(
                regulator_notified_at=NOW + timedelta(hours=80), individuals_notified=True
            ),
        ),
    ),
    (
        "EU-GDPR-33",
        ctx(
            Act.CLOSE_INCIDENT,
            incident=incident_facts(regulator_notified_at=NOW, high_risk=False),
        ),
        ctx(Act.CLOSE_INCIDENT, incident=incident_facts(regulator_notified_at=NOW)),
    ),
    # EU-GDPR-35 a DPIA signed by the DPO before go-live, redone on change
    ("EU-GDPR-35", ctx(LIVE), ctx(LIVE, deployment=deployment_facts(pia=None))),
    (
        "EU-GDPR-35",
        ctx(LIVE),
        ctx(LIVE, deployment=deployment_facts(pia=pia_facts(BASE, signed_at=None))),
    ),
    (
        "EU-GDPR-35",
        ctx(Act.VERIFY),
        ctx(Act.VERIFY, deployment=deployment_facts(egress=True, stale_pia=True)),
    ),
    # EU-AI-5 prohibited practices; hospitals, shops and offices are workplaces (their staff
    # are in view), and publicly accessible spaces go beyond public places
    ("EU-AI-5", ctx(REG), ctx(REG, deployment=_caps("verify", "untargeted_scraping"))),
    (
        "EU-AI-5",
        ctx(REG, deployment=_caps("verify", "emotion_recognition")),
        ctx(REG, deployment=_caps("verify", "emotion_recognition", location_type="office")),
    ),
    (
        "EU-AI-5",
        ctx(REG, deployment=_caps("verify", "emotion_recognition", location_type="device")),
        ctx(REG, deployment=_caps("verify", "emotion_recognition", location_type="shop")),
    ),
    (
        "EU-AI-5",
        ctx(REG, deployment=_caps("verify", "emotion_recognition", location_type="online")),
        ctx(REG, deployment=_caps("verify", "emotion_recognition", location_type="hospital")),
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
                declarations=declarations(law_enforcement=True),
            ),
        ),
    ),
    (
        "EU-AI-5",
        ctx(
            REG,
            deployment=_caps(
                "realtime_remote_identification",
                location_type="office",
                declarations=declarations(law_enforcement=True),
            ),
        ),
        ctx(
            REG,
            deployment=_caps(
                "realtime_remote_identification",
                location_type="hospital",
                declarations=declarations(law_enforcement=True),
            ),
        ),
    ),
    ("EU-AI-5", ctx(REG), ctx(REG, deployment=deployment_facts(location_type="moon_base"))),
    # EU-AI-12 remote identification logged in full, on reliable logs
    (
        "EU-AI-12",
        ctx(Act.ACT_ON_MATCH, deployment=REMOTE, review=REVIEW),
        ctx(
            Act.ACT_ON_MATCH,
            deployment=REMOTE,
            review=review_facts("pr_a", "pr_b", input_sha256=""),
        ),
    ),
    (
        "EU-AI-12",
        ctx(Act.IDENTIFY, deployment=REMOTE),
        ctx(
            Act.ACT_ON_MATCH,
            deployment=REMOTE,
            review=review_facts("pr_a", "pr_b", reference_database=""),
        ),
    ),
    (
        "EU-AI-12",
        ctx(Act.SCAN, deployment=REMOTE, system=system_facts()),
        ctx(Act.SCAN, deployment=REMOTE, system=system_facts(ledger_verified=False)),
    ),
    # EU-AI-14 two different principals with the reviewer role verify a remote match
    (
        "EU-AI-14",
        ctx(Act.ACT_ON_MATCH, deployment=REMOTE, review=REVIEW),
        ctx(Act.ACT_ON_MATCH, deployment=REMOTE, review=review_facts("pr_alice", " PR_ALICE ")),
    ),
    (
        "EU-AI-14",
        ctx(Act.IDENTIFY, deployment=REMOTE),
        ctx(Act.ACT_ON_MATCH, deployment=REMOTE, review=review_facts("pr_officer17")),
    ),
    (
        "EU-AI-14",
        ctx(Act.ACT_ON_MATCH, deployment=REMOTE, review=REVIEW),
        ctx(
            Act.ACT_ON_MATCH,
            deployment=REMOTE,
            review=review_facts("pr_officer17", "pr_officer22", unqualified=("pr_admin",)),
        ),
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
    opened = decide(ctx(Act.RECORD_INCIDENT, incident=incident_facts()), RULES)
    due = {o.due for o in opened.obligations if o.rule_id == "EU-GDPR-33"}
    assert due == {NOW + timedelta(hours=72)}
    identify = decide(ctx(Act.IDENTIFY, deployment=REMOTE), RULES)
    assert {"EU-AI-12", "EU-AI-14"} <= {o.rule_id for o in identify.obligations}


def test_act_on_match_of_a_non_remote_deployment_needs_no_reviewers() -> None:
    decision = decide(
        ctx(Act.ACT_ON_MATCH, review=review_facts(input_sha256="", reference_database="")), RULES
    )
    assert decision.allowed and decision.rule_ids == ()
