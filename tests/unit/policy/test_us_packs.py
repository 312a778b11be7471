"""Every rule of the us-il, us-tx and us-wa packs: an allowed and a denied case each.

Behaviour changed on purpose with issue 10: a BIPA written release needs the signed form's
or e-signature record's hash (an electronic signature counts as written; a click or a
recorded "yes" does not); a draft deployment (no notice published) takes no consent and
enrolls nobody; a search of everyone in view is refused under BIPA and Texas.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from policy_cases import (
    LIVE,
    NOW,
    REG,
    TRANSFER,
    Case,
    check_case,
    consent_facts,
    ctx,
    declarations,
    deployment_facts,
    transfer_facts,
)

from facegate.policy import PACKS, Act, decide, rules_for
from facegate.policy.dates import add_years
from facegate.policy.retention import (
    default_retention_days,
    max_retention_days,
    template_expiry,
)

DISCLOSE = consent_facts(disclosure=True)
IN_VIEW = deployment_facts(capture="in_view")
DRAFT = deployment_facts(status="draft")

IL: list[Case] = [
    # US-IL-15a a public retention schedule; destroyed at purpose end or within 3 years (a
    # retention out of range is a policy denial now, no longer an input error)
    ("US-IL-15a", ctx(REG), ctx(REG, deployment=deployment_facts(retention_days=3 * 365 + 1))),
    ("US-IL-15a", ctx(LIVE), ctx(LIVE, deployment=deployment_facts(retention_days=0))),
    (
        "US-IL-15a",
        ctx(REG, deployment=deployment_facts(purpose_ends_at=NOW + timedelta(days=365))),
        ctx(REG, deployment=deployment_facts(purpose_ends_at=NOW + timedelta(days=364))),
    ),
    ("US-IL-15a", ctx(Act.ERASE), ctx(Act.VERIFY, deployment=deployment_facts(status="ended"))),
    # US-IL-15b a written release (an e-signature counts) with the signed record's hash,
    # before collection; nobody in view is searched
    (
        "US-IL-15b",
        ctx(Act.GIVE_CONSENT),
        ctx(Act.GIVE_CONSENT, consent=consent_facts(method="explicit_click")),
    ),
    (
        "US-IL-15b",
        ctx(Act.GIVE_CONSENT, consent=consent_facts(method="electronic_signature")),
        ctx(Act.GIVE_CONSENT, consent=consent_facts(form_sha256=None)),
    ),
    ("US-IL-15b", ctx(Act.GIVE_CONSENT), ctx(Act.GIVE_CONSENT, deployment=DRAFT, notice=None)),
    (
        "US-IL-15b",
        ctx(Act.ENROLL),
        ctx(Act.ENROLL, consent=consent_facts(method="recorded_verbal")),
    ),
    (
        "US-IL-15b",
        ctx(Act.VERIFY, consent=consent_facts(method="written_release")),
        ctx(Act.VERIFY, consent=None),
    ),
    ("US-IL-15b", ctx(REG), ctx(REG, deployment=IN_VIEW)),
    ("US-IL-15b", ctx(Act.IDENTIFY), ctx(Act.SCAN, deployment=IN_VIEW)),
    # US-IL-15c no sale or profit; disclosure only with consent
    (
        "US-IL-15c",
        ctx(Act.SHARE, consent=DISCLOSE, transfer=TRANSFER),
        ctx(
            Act.SHARE,
            consent=DISCLOSE,
            transfer=transfer_facts(recipient="Data broker", for_profit=True),
        ),
    ),
    (
        "US-IL-15c",
        ctx(Act.EXPORT, consent=DISCLOSE, transfer=TRANSFER),
        ctx(Act.EXPORT, consent=consent_facts(), transfer=TRANSFER),
    ),
]
TX: list[Case] = [
    (
        "US-TX-503",
        ctx(
            REG,
            deployment=deployment_facts(
                purpose_ends_at=NOW + timedelta(days=30), retention_days=395
            ),
        ),
        ctx(
            REG,
            deployment=deployment_facts(
                purpose_ends_at=NOW + timedelta(days=30), retention_days=500
            ),
        ),
    ),
    ("US-TX-503", ctx(REG), ctx(REG, deployment=deployment_facts(retention_days=0))),
    ("US-TX-503", ctx(Act.ENROLL), ctx(Act.ENROLL, consent=None)),
    ("US-TX-503", ctx(Act.GIVE_CONSENT), ctx(Act.GIVE_CONSENT, deployment=DRAFT, notice=None)),
    ("US-TX-503", ctx(Act.IDENTIFY), ctx(Act.SCAN, deployment=IN_VIEW)),
    ("US-TX-503", ctx(Act.EXPIRE), ctx(REG, deployment=IN_VIEW)),
]
WA: list[Case] = [
    ("US-WA-19.375", ctx(Act.ENROLL), ctx(Act.ENROLL, consent=None)),
    (
        "US-WA-19.375",
        ctx(
            Act.ENROLL,
            consent=None,
            deployment=deployment_facts(declarations=declarations(opt_out=True)),
        ),
        ctx(Act.ENROLL, consent=consent_facts(withdrawn=True)),
    ),
    ("US-WA-19.375", ctx(Act.ENROLL), ctx(Act.ENROLL, deployment=DRAFT, notice=None)),
]
PACK_CASES = [("us-il", c) for c in IL] + [("us-tx", c) for c in TX] + [("us-wa", c) for c in WA]
PACK_IDS = [f"{pack}:{case[0]}-{i}" for i, (pack, case) in enumerate(PACK_CASES)]


@pytest.mark.parametrize(("pack", "case"), PACK_CASES, ids=PACK_IDS)
def test_rule_allows_and_denies(pack: str, case: Case) -> None:
    check_case(case[0], rules_for([pack]), case[1], case[2])


@pytest.mark.parametrize(("pack", "cases"), [("us-il", IL), ("us-tx", TX), ("us-wa", WA)])
def test_every_rule_of_the_pack_has_cases(pack: str, cases: list[Case]) -> None:
    assert {c[0] for c in cases} == {r.id for r in PACKS[pack].rules}


def test_bipa_ttl_is_the_earliest_of_purpose_end_and_three_years() -> None:
    enrolled = NOW
    assert template_expiry(["us-il"], enrolled_at=enrolled, retention_days=3650) == add_years(
        NOW, 3
    )
    end = NOW + timedelta(days=100)
    assert (
        template_expiry(["us-il"], enrolled_at=enrolled, retention_days=3650, purpose_ends_at=end)
        == end
    )
    later = NOW + timedelta(days=400)
    assert template_expiry(
        ["us-il"], enrolled_at=enrolled, retention_days=3000, last_interaction=later
    ) == add_years(later, 3)
    assert template_expiry(["cn"], enrolled_at=enrolled, retention_days=30) == NOW + timedelta(
        days=30
    )
    d = decide(ctx(Act.ENROLL), rules_for(["us-il"]))
    ttl = next(o for o in d.obligations if o.rule_id == "US-IL-15a")
    assert ttl.due == NOW + timedelta(days=365)


def test_retention_caps_and_defaults() -> None:
    assert max_retention_days(["us-il"]) == 1095
    assert max_retention_days(["cn"]) == 3650
    assert max_retention_days(["cn", "ind-2019"]) == 365
    assert default_retention_days(["eu"]) == 365
