"""Every rule of the cn pack: at least one case it allows and one it denies, naming its id."""

from __future__ import annotations

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
    consent,
    ctx,
    dep,
)

from facegate.errors import InvalidInput
from facegate.policy import (
    PACKS,
    Act,
    Declarations,
    IncidentFacts,
    NoticeFacts,
    PiaFacts,
    RecordFacts,
    RequestFacts,
    ScaleFacts,
    SystemFacts,
    TransferFacts,
    decide,
    rules_for,
)
from facegate.policy.dates import add_years
from facegate.policy.workdays import CHINA_TZ, add_working_days, china_date, is_working_day

RULES = rules_for(["cn"])
PUBLIC_OK = dep(
    location_type="public_place",
    signage=True,
    purpose="Public security screening at the station entrance",
)
EGRESS = dep(egress=True)
EXPORT_CONSENT = consent(egress=True)
ABROAD = TransferFacts(
    recipient="Acme HK",
    cross_border=True,
    destination="HK",
    mechanism="standard_contract",
    people_abroad_this_year=500,
)


def _controls(**changes: bool | None) -> SystemFacts:
    return SystemFacts(controls={**SYSTEM.controls, **changes}, ledger_verified=True)


CASES: list[Case] = [
    # CN-FR-2 scope
    ("CN-FR-2", ctx(REG), ctx(REG, deployment=dep(scope="marketing"))),
    (
        "CN-FR-2",
        ctx(REG, deployment=dep(scope="research", alternative="")),
        ctx(REG, deployment=dep(scope="")),
    ),
    # CN-FR-4 purpose and necessity
    ("CN-FR-4", ctx(REG), ctx(REG, deployment=dep(purpose="x"))),
    ("CN-FR-4", ctx(LIVE), ctx(LIVE, deployment=dep(necessity=""))),
    # CN-FR-5 notice: complete, Chinese, plain, the current version shown, before processing
    ("CN-FR-5", ctx(LIVE), ctx(LIVE, notice=NoticeFacts(1, "n1", missing=("rights (zh-CN)",)))),
    ("CN-FR-5", ctx(LIVE), ctx(LIVE, notice=NoticeFacts(1, "n1", languages=("en",)))),
    (
        "CN-FR-5",
        ctx(LIVE),
        ctx(LIVE, notice=NoticeFacts(1, "n1", languages=("zh-CN",), plain=False)),
    ),
    ("CN-FR-5", ctx(Act.GIVE_CONSENT), ctx(Act.GIVE_CONSENT, notice=NoticeFacts(2, "n2"))),
    ("CN-FR-5", ctx(Act.ENROLL), ctx(Act.ENROLL, notice=NoticeFacts(1, "n1", missing=("impact",)))),
    # CN-FR-6 separate, explicit consent; guardian under 14; a legal basis at registration
    ("CN-FR-6", ctx(Act.ENROLL), ctx(Act.ENROLL, consent=None)),
    (
        "CN-FR-6",
        ctx(Act.IDENTIFY),
        ctx(Act.IDENTIFY, consent=consent(expires_at=NOW - timedelta(seconds=1))),
    ),
    ("CN-FR-6", ctx(Act.VERIFY), ctx(Act.VERIFY, consent=consent(withdrawn=True))),
    ("CN-FR-6", ctx(Act.GIVE_CONSENT), ctx(Act.GIVE_CONSENT, consent=consent(method="pre_ticked"))),
    ("CN-FR-6", ctx(Act.GIVE_CONSENT), ctx(Act.GIVE_CONSENT, consent=consent(separate=False))),
    (
        "CN-FR-6",
        ctx(Act.GIVE_CONSENT, consent=consent(subject_age=12, by_guardian=True)),
        ctx(Act.GIVE_CONSENT, consent=consent(subject_age=12)),
    ),
    (
        "CN-FR-6",
        ctx(Act.ENROLL, consent=consent(subject_age=14)),
        ctx(Act.ENROLL, consent=consent(subject_age=13)),
    ),
    ("CN-FR-6", ctx(REG), ctx(REG, deployment=dep(legal_basis="legitimate_interest"))),
    (
        "CN-FR-6",
        ctx(Act.ENROLL, deployment=dep(legal_basis="law"), consent=None),
        ctx(Act.ENROLL, deployment=dep(legal_basis="contract"), consent=None),
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
    # CN-FR-9 a PIA before go-live, redone on change of purpose or method, kept 3 years
    ("CN-FR-9", ctx(LIVE), ctx(LIVE, deployment=dep(pia=None))),
    (
        "CN-FR-9",
        ctx(LIVE),
        ctx(
            LIVE,
            deployment=dep(
                pia=PiaFacts(
                    NOW + timedelta(hours=1), BASE.purpose_sha256, BASE.method_sha256, "DPO Li"
                )
            ),
        ),
    ),
    (
        "CN-FR-9",
        ctx(Act.VERIFY),
        ctx(
            Act.VERIFY,
            deployment=dep(
                purpose="Residents open the gate and pay for parking by face", stale_pia=True
            ),
        ),
    ),
    (
        "CN-FR-9",
        ctx(LIVE, deployment=dep(capabilities=frozenset({"verify"}))),
        ctx(LIVE, deployment=dep(capabilities=frozenset({"verify"}), stale_pia=True)),
    ),
    (
        "CN-FR-9",
        ctx(Act.DELETE_RECORD, record=RecordFacts("pia", add_years(NOW, -3))),
        ctx(Act.DELETE_RECORD, record=RecordFacts("pia", NOW - timedelta(days=700))),
    ),
    # CN-FR-10 an enabled non-face alternative
    ("CN-FR-10", ctx(REG), ctx(REG, deployment=dep(alternative=" "))),
    ("CN-FR-10", ctx(LIVE), ctx(LIVE, deployment=dep(alternative_enabled=False))),
    # CN-FR-12 refusing costs nothing; the alternative stays open
    (
        "CN-FR-12",
        ctx(REG),
        ctx(REG, deployment=dep(declarations=Declarations(alternative_penalty=True))),
    ),
    (
        "CN-FR-12",
        ctx(Act.USE_ALTERNATIVE, consent=None),
        ctx(Act.USE_ALTERNATIVE, consent=None, deployment=dep(alternative_enabled=False)),
    ),
    # CN-FR-13 banned and public locations
    ("CN-FR-13", ctx(REG), ctx(REG, deployment=dep(location_type="hotel_room"))),
    ("CN-FR-13", ctx(REG), ctx(REG, deployment=dep(location_type="toilet"))),
    ("CN-FR-13", ctx(LIVE), ctx(LIVE, deployment=dep(location_type="bathroom"))),
    ("CN-FR-13", ctx(REG), ctx(REG, deployment=dep(location_type="changing_room"))),
    (
        "CN-FR-13",
        ctx(REG, deployment=PUBLIC_OK),
        ctx(
            REG,
            deployment=dep(location_type="public_place", signage=False, purpose=PUBLIC_OK.purpose),
        ),
    ),
    (
        "CN-FR-13",
        ctx(REG, deployment=PUBLIC_OK),
        ctx(
            REG,
            deployment=dep(
                location_type="street", signage=True, purpose="Count shoppers to target advertising"
            ),
        ),
    ),
    # CN-FR-14 security controls at start-up
    (
        "CN-FR-14",
        ctx(Act.START_SERVICE, system=SYSTEM),
        ctx(Act.START_SERVICE, system=_controls(encryption=False)),
    ),
    (
        "CN-FR-14",
        ctx(Act.START_SERVICE, system=SYSTEM),
        ctx(Act.START_SERVICE, system=_controls(access_control=False)),
    ),
    # CN-FR-15 filing at 100,000 people within 30 working days
    (
        "CN-FR-15",
        ctx(Act.ENROLL, scale=ScaleFacts(100_000, threshold_reached_at=NOW - timedelta(days=20))),
        ctx(Act.ENROLL, scale=ScaleFacts(100_000, threshold_reached_at=NOW - timedelta(days=60))),
    ),
    (
        "CN-FR-15",
        ctx(
            Act.ENROLL,
            scale=ScaleFacts(250_000, NOW - timedelta(days=90), filed_at=NOW - timedelta(days=80)),
        ),
        ctx(Act.ENROLL, scale=ScaleFacts(250_000, NOW - timedelta(days=90))),
    ),
    # CN-PIPL-14 a changed notice or purpose voids consent
    ("CN-PIPL-14", ctx(Act.VERIFY), ctx(Act.VERIFY, current_notice_sha256="n2")),
    ("CN-PIPL-14", ctx(Act.VERIFY), ctx(Act.VERIFY, consent=consent(purpose_sha256="old"))),
    # CN-PIPL-15 withdrawal deletes; nothing used after the service ends
    ("CN-PIPL-15", ctx(Act.WITHDRAW), ctx(Act.VERIFY, deployment=dep(status="ended"))),
    # CN-PIPL-19 a finite retention no longer than the purpose
    ("CN-PIPL-19", ctx(REG), ctx(REG, deployment=dep(retention_days=None))),
    (
        "CN-PIPL-19",
        ctx(REG, deployment=dep(purpose_ends_at=NOW + timedelta(days=400))),
        ctx(REG, deployment=dep(purpose_ends_at=NOW + timedelta(days=30))),
    ),
    ("CN-PIPL-19", ctx(Act.ENROLL), ctx(LIVE, deployment=dep(retention_days=0))),
    # CN-PIPL-38 cross-border: separate consent, a mechanism, an assessment at 10,000
    (
        "CN-PIPL-38",
        ctx(Act.EXPORT, deployment=EGRESS, consent=EXPORT_CONSENT, transfer=ABROAD),
        ctx(
            Act.EXPORT,
            deployment=EGRESS,
            consent=EXPORT_CONSENT,
            transfer=TransferFacts("Acme HK", cross_border=True),
        ),
    ),
    (
        "CN-PIPL-38",
        ctx(
            Act.EXPORT,
            deployment=EGRESS,
            consent=EXPORT_CONSENT,
            transfer=TransferFacts(
                "Acme HK",
                cross_border=True,
                mechanism="security_assessment",
                people_abroad_this_year=12_000,
            ),
        ),
        ctx(
            Act.EXPORT,
            deployment=EGRESS,
            consent=EXPORT_CONSENT,
            transfer=TransferFacts(
                "Acme HK",
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
            deployment=dep(egress=True, legal_basis="law"),
            consent=CONSENT,
            transfer=ABROAD,
        ),
    ),
    # CN-PIPL-44 requests answered; refusals give reasons
    (
        "CN-PIPL-44",
        ctx(
            Act.ANSWER_REQUEST,
            request=RequestFacts(
                "copy", NOW, refused=True, reasons="a court ordered the records sealed"
            ),
        ),
        ctx(Act.ANSWER_REQUEST, request=RequestFacts("copy", NOW, refused=True, reasons=" ")),
    ),
    # CN-PIPL-57 breaches remedied and notified
    (
        "CN-PIPL-57",
        ctx(
            Act.CLOSE_INCIDENT,
            incident=IncidentFacts(NOW, regulator_notified_at=NOW, individuals_notified=True),
        ),
        ctx(Act.CLOSE_INCIDENT, incident=IncidentFacts(NOW)),
    ),
    (
        "CN-PIPL-57",
        ctx(
            Act.CLOSE_INCIDENT,
            incident=IncidentFacts(NOW, regulator_notified_at=NOW, harm_avoided=True),
        ),
        ctx(Act.CLOSE_INCIDENT, incident=IncidentFacts(NOW, regulator_notified_at=NOW)),
    ),
    # CN-PIPL-69 a verifiable evidence ledger
    (
        "CN-PIPL-69",
        ctx(Act.START_SERVICE, system=SYSTEM),
        ctx(Act.START_SERVICE, system=SystemFacts(SYSTEM.controls, ledger_verified=False)),
    ),
    # CN-SPC-2 no use beyond the stated purpose and method
    (
        "CN-SPC-2",
        ctx(Act.VERIFY, deployment=dep(capabilities=frozenset({"verify"}))),
        ctx(Act.IDENTIFY, deployment=dep(capabilities=frozenset({"verify"}))),
    ),
    (
        "CN-SPC-2",
        ctx(Act.SHARE, deployment=EGRESS, consent=EXPORT_CONSENT, transfer=TRANSFER),
        ctx(
            Act.SHARE,
            deployment=EGRESS,
            consent=EXPORT_CONSENT,
            transfer=TransferFacts("Ad Co", same_purpose=False),
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
            transfer=TransferFacts("Acme", terms_irrevocable=True),
        ),
    ),
    (
        "CN-SPC-7",
        ctx(Act.EXPORT, deployment=EGRESS, consent=EXPORT_CONSENT, transfer=TRANSFER),
        ctx(
            Act.EXPORT,
            deployment=EGRESS,
            consent=EXPORT_CONSENT,
            transfer=TransferFacts("Acme", agreement_recorded=False),
        ),
    ),
]


@pytest.mark.parametrize(("rule_id", "allowed", "denied"), CASES, ids=case_ids(CASES))
def test_rule_allows_and_denies(rule_id: str, allowed: object, denied: object) -> None:
    check_case(rule_id, RULES, allowed, denied)  # type: ignore[arg-type]


def test_every_rule_of_the_pack_has_cases() -> None:
    assert {c[0] for c in CASES} == {r.id for r in PACKS["cn"].rules}


def test_unknown_pack_is_a_clear_error() -> None:
    with pytest.raises(InvalidInput, match="no policy pack"):
        rules_for(["atlantis"])


def test_research_scope_skips_the_measures_only_rules() -> None:
    research = ctx(REG, deployment=dep(scope="research", alternative=""))
    decision = decide(research, RULES)
    assert decision.allowed
    assert "CN-FR-10" not in decision.rule_ids
    assert any("research" in o.text for o in decision.obligations)


def test_obligations_carry_their_rule_and_dates() -> None:
    d = decide(ctx(Act.ENROLL, scale=ScaleFacts(100_000, threshold_reached_at=NOW)), RULES)
    filing = next(o for o in d.obligations if o.rule_id == "CN-FR-15")
    expected = add_working_days(china_date(NOW), 30).due  # the official holiday calendar
    assert filing.due is not None and filing.due.astimezone(CHINA_TZ).date() == expected
    assert is_working_day(expected)[0]
    assert (filing.due - NOW).days >= 42  # at least six weeks of five working days
    ttl = next(o for o in d.obligations if o.rule_id == "CN-PIPL-19")
    assert ttl.due == NOW + timedelta(days=365)
    signs = decide(ctx(REG, deployment=PUBLIC_OK), RULES)
    assert any(o.rule_id == "CN-FR-13" and "signs" in o.text for o in signs.obligations)


def test_facts_not_supplied_are_not_cited() -> None:
    """A caller that builds only the original facts (complete=False) gets no decision from
    the rules about facts it did not supply, and no rule claims to have checked them."""
    partial = ctx(Act.VERIFY, deployment=dep(complete=False, pia=None), notice=None)
    decision = decide(partial, RULES)
    assert decision.allowed
    assert {"CN-FR-9", "CN-SPC-2", "CN-FR-5", "CN-PIPL-15"}.isdisjoint(decision.rule_ids)
    assert {"CN-FR-6", "CN-PIPL-14"} <= set(decision.rule_ids)


def test_acts_that_need_facts_say_so() -> None:
    with pytest.raises(ValueError, match="transfer"):
        decide(ctx(Act.EXPORT, deployment=dep(egress=True)), RULES)
    with pytest.raises(ValueError, match="system"):
        decide(ctx(Act.START_SERVICE), RULES)
    with pytest.raises(ValueError, match="unknown right"):
        decide(ctx(Act.ANSWER_REQUEST, request=RequestFacts("vote", NOW)), RULES)


def test_notice_and_consent_defaults_are_lawful() -> None:
    assert decide(ctx(Act.GIVE_CONSENT, notice=NOTICE, consent=CONSENT), RULES).allowed
