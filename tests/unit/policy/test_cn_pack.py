"""Every rule of the cn pack: at least one case it allows and one it denies, naming its id.

Behaviour changed on purpose with issue 10 (each case below says so where it applies): signs
are required at every physical place at registration (CN-FR-5); a public place needs a
structured public-security basis, not a word in the purpose (CN-FR-13); an unknown place
type is refused; a retention out of range is a policy denial (CN-PIPL-19); the notice's
completeness is judged at sign-off, and processing needs a live deployment (CN-FR-5); the
capability check of a 1:N search runs before the photo is read (Act.SCAN, CN-SPC-2); an
assessment must be signed by a DPO (CN-FR-9); a child's guardian must be identified and an
age (or an attestation of adulthood) recorded (CN-FR-6).
"""

from __future__ import annotations

from dataclasses import fields
from datetime import timedelta

import pytest
from policy_cases import (
    BASE,
    CONSENT,
    LIVE,
    NOTICE,
    NOW,
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
    incident_facts,
    notice_facts,
    pia_facts,
    request_facts,
    scale_facts,
    system_facts,
    transfer_facts,
)

from facegate.errors import InvalidInput
from facegate.policy import (
    PACKS,
    Act,
    DeploymentFacts,
    PublicSecurity,
    RecordFacts,
    decide,
    parse_jurisdiction,
    rules_for,
)
from facegate.policy.dates import add_years
from facegate.policy.workdays import CHINA_TZ, add_working_days, china_date, is_working_day

RULES = rules_for(["cn"])
STATION = PublicSecurity(
    authority="Shanghai Public Security Bureau, Xuhui branch",
    instrument="Shanghai public-security video surveillance regulation, Art 8",
    area="the entrance hall of Xujiahui station, inside the marked line",
)
PUBLIC = {
    "location_type": "public_place",
    "signage": True,
    "legal_basis": "law",
    "purpose": "Public security screening at the station entrance",
    "public_security": STATION,
}
PUBLIC_OK = deployment_facts(**PUBLIC)
EGRESS = deployment_facts(egress=True)
EXPORT_CONSENT = consent_facts(egress=True)
ABROAD = transfer_facts(
    recipient="Acme HK",
    cross_border=True,
    destination="HK",
    mechanism="standard_contract",
    people_abroad_this_year=500,
)
CHILD = consent_facts(age_basis="stated_age", subject_age=12)
DRAFT = deployment_facts(status="draft")


CASES: list[Case] = [
    # CN-FR-2 scope
    ("CN-FR-2", ctx(REG), ctx(REG, deployment=deployment_facts(scope="marketing"))),
    (
        "CN-FR-2",
        ctx(REG, deployment=deployment_facts(scope="research", alternative="")),
        ctx(REG, deployment=deployment_facts(scope="")),
    ),
    # CN-FR-4 purpose and necessity (the DPO writes the necessity at sign-off)
    ("CN-FR-4", ctx(REG), ctx(REG, deployment=deployment_facts(purpose="x"))),
    (
        "CN-FR-4",
        ctx(REG, deployment=deployment_facts(necessity="")),
        ctx(LIVE, deployment=deployment_facts(necessity="")),
    ),
    ("CN-FR-4", ctx(LIVE), ctx(LIVE, deployment=deployment_facts(necessity="we want it"))),
    # CN-FR-5 signs at a physical place; a complete Chinese plain notice at go-live; the
    # current version shown at consent; nothing processed before the notice is published
    ("CN-FR-5", ctx(REG), ctx(REG, deployment=deployment_facts(signage=False))),
    (
        "CN-FR-5",
        ctx(REG, deployment=deployment_facts(signage=False, location_type="device")),
        ctx(REG, deployment=deployment_facts(signage=False, location_type="office")),
    ),
    ("CN-FR-5", ctx(LIVE), ctx(LIVE, notice=notice_facts(missing=("rights (zh-CN)",)))),
    ("CN-FR-5", ctx(LIVE), ctx(LIVE, notice=notice_facts(languages=("en",)))),
    ("CN-FR-5", ctx(LIVE), ctx(LIVE, notice=notice_facts(languages=("zh-CN",), plain=False))),
    (
        "CN-FR-5",
        ctx(Act.GIVE_CONSENT),
        ctx(Act.GIVE_CONSENT, notice=notice_facts(version=2, sha256="n2")),
    ),
    ("CN-FR-5", ctx(Act.ENROLL), ctx(Act.ENROLL, deployment=DRAFT, notice=None)),
    ("CN-FR-5", ctx(Act.GIVE_CONSENT), ctx(Act.GIVE_CONSENT, deployment=DRAFT, notice=None)),
    (
        "CN-FR-5",
        ctx(Act.SCAN, deployment=deployment_facts(capture="in_view")),
        ctx(Act.SCAN, deployment=deployment_facts(capture="in_view", signage=False)),
    ),
    # CN-FR-6 separate, explicit consent; an age or attestation; an identified guardian under
    # 14; a legal basis at registration
    ("CN-FR-6", ctx(Act.ENROLL), ctx(Act.ENROLL, consent=None)),
    (
        "CN-FR-6",
        ctx(Act.IDENTIFY),
        ctx(Act.IDENTIFY, consent=consent_facts(expires_at=NOW - timedelta(seconds=1))),
    ),
    ("CN-FR-6", ctx(Act.VERIFY), ctx(Act.VERIFY, consent=consent_facts(withdrawn=True))),
    (
        "CN-FR-6",
        ctx(Act.GIVE_CONSENT),
        ctx(Act.GIVE_CONSENT, consent=consent_facts(method="pre_ticked")),
    ),
    (
        "CN-FR-6",
        ctx(Act.GIVE_CONSENT),
        ctx(Act.GIVE_CONSENT, consent=consent_facts(separate=False)),
    ),
    (
        "CN-FR-6",
        ctx(
            Act.GIVE_CONSENT,
            consent=consent_facts(age_basis="stated_age", subject_age=30),
        ),
        ctx(Act.GIVE_CONSENT, consent=consent_facts(age_basis="stated_age", subject_age=None)),
    ),
    (
        "CN-FR-6",
        ctx(
            Act.GIVE_CONSENT,
            consent=consent_facts(
                age_basis="stated_age", subject_age=12, by_guardian=True, guardian_identified=True
            ),
        ),
        ctx(Act.GIVE_CONSENT, consent=CHILD),
    ),
    (
        "CN-FR-6",
        ctx(
            Act.ENROLL,
            consent=consent_facts(
                age_basis="stated_age", subject_age=12, by_guardian=True, guardian_identified=True
            ),
        ),
        ctx(
            Act.ENROLL,
            consent=consent_facts(age_basis="stated_age", subject_age=12, by_guardian=True),
        ),
    ),
    (
        "CN-FR-6",
        ctx(Act.ENROLL, consent=consent_facts(age_basis="stated_age", subject_age=14)),
        ctx(Act.ENROLL, consent=consent_facts(age_basis="stated_age", subject_age=13)),
    ),
    ("CN-FR-6", ctx(REG), ctx(REG, deployment=deployment_facts(legal_basis="legitimate_interest"))),
    (
        "CN-FR-6",
        ctx(Act.ENROLL, deployment=deployment_facts(legal_basis="law"), consent=None),
        ctx(Act.ENROLL, deployment=deployment_facts(legal_basis="contract"), consent=None),
    ),
    # CN-FR-8 face data stays on the device unless separately consented
    (
        "CN-FR-8",
        ctx(Act.EXPORT, deployment=EGRESS, consent=EXPORT_CONSENT, transfer=TRANSFER),
        ctx(Act.EXPORT, consent=EXPORT_CONSENT, transfer=TRANSFER),
    ),
    (
        "CN-FR-8",
        ctx(Act.SHARE, deployment=EGRESS, consent=EXPORT_CONSENT, transfer=TRANSFER),
        ctx(Act.SHARE, deployment=EGRESS, consent=CONSENT, transfer=TRANSFER),
    ),
    (
        "CN-FR-8",
        ctx(REG, deployment=EGRESS),
        ctx(Act.EXPORT, deployment=EGRESS, consent=None, transfer=TRANSFER),
    ),
    # CN-FR-9 a PIA answered in full and signed by a DPO before go-live, redone on change of
    # purpose or method, kept 3 years
    ("CN-FR-9", ctx(LIVE), ctx(LIVE, deployment=deployment_facts(pia=None))),
    (
        "CN-FR-9",
        ctx(LIVE),
        ctx(LIVE, deployment=deployment_facts(pia=pia_facts(BASE, signed_at=None))),
    ),
    (
        "CN-FR-9",
        ctx(LIVE),
        ctx(
            LIVE, deployment=deployment_facts(pia=pia_facts(BASE, missing=("risks", "safeguards")))
        ),
    ),
    (
        "CN-FR-9",
        ctx(LIVE),
        ctx(
            LIVE,
            deployment=deployment_facts(pia=pia_facts(BASE, signed_at=NOW + timedelta(hours=1))),
        ),
    ),
    (
        "CN-FR-9",
        ctx(Act.VERIFY),
        ctx(
            Act.VERIFY,
            deployment=deployment_facts(
                purpose="Residents open the gate and pay for parking by face", stale_pia=True
            ),
        ),
    ),
    (
        "CN-FR-9",
        ctx(LIVE, deployment=deployment_facts(capabilities=frozenset({"verify"}), capture=None)),
        ctx(
            LIVE,
            deployment=deployment_facts(
                capabilities=frozenset({"verify"}), capture=None, stale_pia=True
            ),
        ),
    ),
    (
        "CN-FR-9",
        ctx(Act.SCAN),
        ctx(Act.SCAN, deployment=deployment_facts(capture="in_view", stale_pia=True)),
    ),
    (
        "CN-FR-9",
        ctx(Act.DELETE_RECORD, record=RecordFacts("pia", add_years(NOW, -3))),
        ctx(Act.DELETE_RECORD, record=RecordFacts("pia", NOW - timedelta(days=700))),
    ),
    # CN-FR-10 an enabled non-face alternative, named (not a non-answer)
    ("CN-FR-10", ctx(REG), ctx(REG, deployment=deployment_facts(alternative=" "))),
    ("CN-FR-10", ctx(REG), ctx(REG, deployment=deployment_facts(alternative="None."))),
    ("CN-FR-10", ctx(LIVE), ctx(LIVE, deployment=deployment_facts(alternative_enabled=False))),
    # CN-FR-12 refusing costs nothing; the alternative stays open
    (
        "CN-FR-12",
        ctx(REG),
        ctx(REG, deployment=deployment_facts(declarations=declarations(alternative_penalty=True))),
    ),
    (
        "CN-FR-12",
        ctx(Act.USE_ALTERNATIVE, consent=None),
        ctx(
            Act.USE_ALTERNATIVE,
            consent=None,
            deployment=deployment_facts(alternative_enabled=False),
        ),
    ),
    # CN-FR-13 banned, unknown and public places
    ("CN-FR-13", ctx(REG), ctx(REG, deployment=deployment_facts(location_type="hotel_room"))),
    ("CN-FR-13", ctx(REG), ctx(REG, deployment=deployment_facts(location_type="toilet"))),
    ("CN-FR-13", ctx(LIVE), ctx(LIVE, deployment=deployment_facts(location_type="bathroom"))),
    ("CN-FR-13", ctx(REG), ctx(REG, deployment=deployment_facts(location_type="changing_room"))),
    ("CN-FR-13", ctx(REG), ctx(REG, deployment=deployment_facts(location_type="sauna_cabin"))),
    (
        "CN-FR-13",
        ctx(REG, deployment=PUBLIC_OK),
        ctx(REG, deployment=deployment_facts(**{**PUBLIC, "signage": False})),
    ),
    (
        # a public place serves public security only: the word in the purpose is not a basis
        "CN-FR-13",
        ctx(REG, deployment=PUBLIC_OK),
        ctx(
            REG,
            deployment=deployment_facts(
                location_type="street",
                signage=True,
                legal_basis="law",
                purpose="Public security: count shoppers to target advertising",
                public_security=None,
            ),
        ),
    ),
    (
        "CN-FR-13",
        ctx(REG, deployment=PUBLIC_OK),
        ctx(
            REG,
            deployment=deployment_facts(
                **{**PUBLIC, "public_security": PublicSecurity("PSB", "", " ")}
            ),
        ),
    ),
    # CN-FR-14 security controls at start-up and before processing
    (
        "CN-FR-14",
        ctx(Act.START_SERVICE, system=SYSTEM),
        ctx(Act.START_SERVICE, system=system_facts(encryption=False)),
    ),
    (
        "CN-FR-14",
        ctx(Act.VERIFY, system=SYSTEM),
        ctx(Act.VERIFY, system=system_facts(access_control=False)),
    ),
    # CN-FR-15 filing at 100,000 people within 30 working days
    (
        "CN-FR-15",
        ctx(Act.ENROLL, scale=scale_facts(100_000, clock_started_at=NOW - timedelta(days=20))),
        ctx(Act.ENROLL, scale=scale_facts(100_000, clock_started_at=NOW - timedelta(days=60))),
    ),
    (
        "CN-FR-15",
        ctx(
            Act.ENROLL,
            scale=scale_facts(
                250_000,
                clock_started_at=NOW - timedelta(days=90),
                filed_at=NOW - timedelta(days=80),
            ),
        ),
        ctx(Act.ENROLL, scale=scale_facts(250_000, clock_started_at=NOW - timedelta(days=90))),
    ),
    (
        # a material change of the filed facts starts a new clock below the threshold too
        "CN-FR-15",
        ctx(Act.ENROLL, scale=scale_facts(5_000)),
        ctx(Act.ENROLL, scale=scale_facts(5_000, clock_started_at=NOW - timedelta(days=60))),
    ),
    # CN-PIPL-14 a changed notice or purpose voids consent
    (
        "CN-PIPL-14",
        ctx(Act.VERIFY),
        ctx(Act.VERIFY, notice=notice_facts(version=2, sha256="n2")),
    ),
    (
        "CN-PIPL-14",
        ctx(Act.IDENTIFY),
        ctx(Act.IDENTIFY, consent=consent_facts(purpose_sha256="old")),
    ),
    # CN-PIPL-15 withdrawal deletes; a hold only on a period set by law; nothing is used
    # after the service ends
    ("CN-PIPL-15", ctx(Act.WITHDRAW), ctx(Act.VERIFY, deployment=deployment_facts(status="ended"))),
    (
        "CN-PIPL-15",
        ctx(Act.HOLD, ground="legal_obligation"),
        ctx(Act.HOLD, ground="legal_claims"),
    ),
    # CN-PIPL-19 a finite retention, in range, no longer than the purpose (a policy denial
    # now, no longer an input error)
    ("CN-PIPL-19", ctx(REG), ctx(REG, deployment=deployment_facts(retention_days=0))),
    ("CN-PIPL-19", ctx(REG), ctx(REG, deployment=deployment_facts(retention_days=3651))),
    (
        "CN-PIPL-19",
        ctx(REG, deployment=deployment_facts(purpose_ends_at=NOW + timedelta(days=400))),
        ctx(REG, deployment=deployment_facts(purpose_ends_at=NOW + timedelta(days=30))),
    ),
    ("CN-PIPL-19", ctx(Act.ENROLL), ctx(LIVE, deployment=deployment_facts(retention_days=0))),
    # CN-PIPL-38 cross-border: separate consent, a mechanism, an assessment at 10,000
    (
        "CN-PIPL-38",
        ctx(Act.EXPORT, deployment=EGRESS, consent=EXPORT_CONSENT, transfer=ABROAD),
        ctx(
            Act.EXPORT,
            deployment=EGRESS,
            consent=EXPORT_CONSENT,
            transfer=transfer_facts(recipient="Acme HK", cross_border=True),
        ),
    ),
    (
        "CN-PIPL-38",
        ctx(
            Act.EXPORT,
            deployment=EGRESS,
            consent=EXPORT_CONSENT,
            transfer=transfer_facts(
                recipient="Acme HK",
                cross_border=True,
                mechanism="security_assessment",
                people_abroad_this_year=12_000,
            ),
        ),
        ctx(
            Act.EXPORT,
            deployment=EGRESS,
            consent=EXPORT_CONSENT,
            transfer=transfer_facts(
                recipient="Acme HK",
                cross_border=True,
                mechanism="standard_contract",
                people_abroad_this_year=12_000,
            ),
        ),
    ),
    (
        "CN-PIPL-38",
        ctx(Act.EXPORT, deployment=EGRESS, consent=EXPORT_CONSENT, transfer=ABROAD),
        ctx(
            Act.EXPORT,
            deployment=deployment_facts(egress=True, legal_basis="law"),
            consent=CONSENT,
            transfer=ABROAD,
        ),
    ),
    # CN-PIPL-44 requests answered with reasons (an answer without them is a refusal of the
    # duty, not an input error); a refusal to delete names a lawful ground
    (
        "CN-PIPL-44",
        ctx(
            Act.ANSWER_REQUEST,
            request=request_facts(
                "copy", refused=True, reasons="a court ordered the records sealed"
            ),
        ),
        ctx(Act.ANSWER_REQUEST, request=request_facts("copy", refused=True, reasons=" ")),
    ),
    (
        "CN-PIPL-44",
        ctx(Act.ANSWER_REQUEST, request=request_facts("know")),
        ctx(Act.ANSWER_REQUEST, request=request_facts("know", reasons="ok")),
    ),
    (
        "CN-PIPL-44",
        ctx(
            Act.ANSWER_REQUEST,
            request=request_facts("delete", refused=True, exemption="legal_obligation"),
        ),
        ctx(Act.ANSWER_REQUEST, request=request_facts("delete", refused=True)),
    ),
    # CN-PIPL-57 breaches remedied and notified
    (
        "CN-PIPL-57",
        ctx(
            Act.CLOSE_INCIDENT,
            incident=incident_facts(regulator_notified_at=NOW, individuals_notified=True),
        ),
        ctx(Act.CLOSE_INCIDENT, incident=incident_facts()),
    ),
    (
        "CN-PIPL-57",
        ctx(
            Act.CLOSE_INCIDENT,
            incident=incident_facts(regulator_notified_at=NOW, harm_avoided=True),
        ),
        ctx(Act.CLOSE_INCIDENT, incident=incident_facts(regulator_notified_at=NOW)),
    ),
    # CN-PIPL-69 a verifiable evidence ledger
    (
        "CN-PIPL-69",
        ctx(Act.START_SERVICE, system=SYSTEM),
        ctx(Act.START_SERVICE, system=system_facts(ledger_verified=False)),
    ),
    (
        "CN-PIPL-69",
        ctx(Act.SCAN, system=SYSTEM),
        ctx(Act.SCAN, system=system_facts(ledger_verified=False)),
    ),
    # CN-SPC-2 no use beyond the stated purpose and method (a 1:N search is refused before
    # the photo is read); signs and published rules in business places
    (
        "CN-SPC-2",
        ctx(Act.VERIFY, deployment=deployment_facts(capabilities=frozenset({"verify"}))),
        ctx(Act.SCAN, deployment=deployment_facts(capabilities=frozenset({"verify"}))),
    ),
    (
        "CN-SPC-2",
        ctx(Act.ENROLL),
        ctx(
            Act.ENROLL, deployment=deployment_facts(capabilities=frozenset({"emotion_recognition"}))
        ),
    ),
    (
        "CN-SPC-2",
        ctx(REG, deployment=deployment_facts(location_type="shop")),
        ctx(REG, deployment=deployment_facts(location_type="shop", signage=False)),
    ),
    (
        "CN-SPC-2",
        ctx(Act.SHARE, deployment=EGRESS, consent=EXPORT_CONSENT, transfer=TRANSFER),
        ctx(
            Act.SHARE,
            deployment=EGRESS,
            consent=EXPORT_CONSENT,
            transfer=transfer_facts(recipient="Ad Co", same_purpose=False),
        ),
    ),
    # CN-SPC-7 recipients recorded; no unlimited or irrevocable terms
    (
        "CN-SPC-7",
        ctx(Act.SHARE, deployment=EGRESS, consent=EXPORT_CONSENT, transfer=TRANSFER),
        ctx(
            Act.SHARE,
            deployment=EGRESS,
            consent=EXPORT_CONSENT,
            transfer=transfer_facts(recipient="Acme", terms_irrevocable=True),
        ),
    ),
    (
        "CN-SPC-7",
        ctx(Act.EXPORT, deployment=EGRESS, consent=EXPORT_CONSENT, transfer=TRANSFER),
        ctx(
            Act.EXPORT,
            deployment=EGRESS,
            consent=EXPORT_CONSENT,
            transfer=transfer_facts(recipient="Acme", agreement_recorded=False),
        ),
    ),
]


@pytest.mark.parametrize(("rule_id", "allowed", "denied"), CASES, ids=case_ids(CASES))
def test_rule_allows_and_denies(rule_id: str, allowed: object, denied: object) -> None:
    check_case(rule_id, RULES, allowed, denied)  # type: ignore[arg-type]


def test_every_rule_of_the_pack_has_cases() -> None:
    assert {c[0] for c in CASES} == {r.id for r in PACKS["cn"].rules}


@pytest.mark.parametrize("jurisdiction", ["atlantis", "", "+", "++", "cn+", "ind-2019"])
def test_unknown_or_empty_packs_are_a_clear_error(jurisdiction: str) -> None:
    """An empty jurisdiction used to load no pack at all, switching the law off."""
    with pytest.raises(InvalidInput):
        parse_jurisdiction(jurisdiction)
    with pytest.raises(InvalidInput, match="no policy pack"):
        rules_for(["atlantis"])


def test_the_standards_baseline_always_applies() -> None:
    cited = decide(ctx(REG), RULES).rule_ids
    assert {"ISO-30136", "CN-FR-13"} <= set(cited)
    consent = decide(ctx(Act.GIVE_CONSENT), RULES).rule_ids
    assert {"ISO-29184", "KANTARA-CR"} <= set(consent)


def test_research_scope_skips_the_measures_only_rules() -> None:
    research = ctx(REG, deployment=deployment_facts(scope="research", alternative=""))
    decision = decide(research, RULES)
    assert decision.allowed
    assert "CN-FR-10" not in decision.rule_ids
    assert any("research" in o.text for o in decision.obligations)


def test_obligations_carry_their_rule_and_dates() -> None:
    d = decide(ctx(Act.ENROLL, scale=scale_facts(100_000, clock_started_at=NOW)), RULES)
    filing = next(o for o in d.obligations if o.rule_id == "CN-FR-15")
    expected = add_working_days(china_date(NOW), 30).due  # the official holiday calendar
    assert filing.due is not None and filing.due.astimezone(CHINA_TZ).date() == expected
    assert is_working_day(expected)[0]
    assert (filing.due - NOW).days >= 42  # at least six weeks of five working days
    ttl = next(o for o in d.obligations if o.rule_id == "CN-PIPL-19")
    assert ttl.due == NOW + timedelta(days=365)
    signs = decide(ctx(REG, deployment=PUBLIC_OK), RULES)
    assert any(o.rule_id == "CN-FR-13" and "signs" in o.text for o in signs.obligations)


def test_no_fact_can_be_left_out() -> None:
    """Facts have no defaults any more (the old ``complete=False`` let rules go silent): a
    deployment's facts cannot be built without, say, its signs or its assessment, and a
    decision on processing cites every rule that judges it."""
    given = {f.name: getattr(BASE, f.name) for f in fields(DeploymentFacts)}
    for name in ("signage", "pia", "capture", "dpo", "retention_days", "status"):
        with pytest.raises(TypeError, match=name):
            DeploymentFacts(**{k: v for k, v in given.items() if k != name})
    decision = decide(ctx(Act.VERIFY, system=SYSTEM), RULES)
    assert decision.allowed
    assert {
        "CN-FR-5",
        "CN-FR-6",
        "CN-FR-9",
        "CN-FR-14",
        "CN-PIPL-14",
        "CN-PIPL-15",
        "CN-PIPL-69",
        "CN-SPC-2",
    } <= set(decision.rule_ids)


def test_acts_that_need_facts_say_so() -> None:
    with pytest.raises(ValueError, match="transfer"):
        decide(ctx(Act.EXPORT, deployment=deployment_facts(egress=True)), RULES)
    with pytest.raises(ValueError, match="system"):
        decide(ctx(Act.START_SERVICE), RULES)
    with pytest.raises(ValueError, match="unknown right"):
        decide(ctx(Act.ANSWER_REQUEST, request=request_facts("vote")), RULES)


def test_the_lawful_facts_are_lawful() -> None:
    assert decide(ctx(Act.GIVE_CONSENT, notice=NOTICE, consent=CONSENT), RULES).allowed
    assert decide(ctx(REG), RULES).allowed and decide(ctx(LIVE), RULES).allowed
