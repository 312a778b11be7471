"""The engine, the catalogue of rule ids and the calendar arithmetic the rules rely on."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from policy_cases import NOW, REG, ctx, deployment_facts

from facegate.errors import NotFound, PolicyDenied
from facegate.policy import PACKS, Act, decide, rules_for
from facegate.policy.catalogue import BY_ID, TEXTS, text_of
from facegate.policy.dates import add_months, add_years
from facegate.policy.explain import explain_rule, list_rules, uncovered

LEGAL_RULES = Path(__file__).resolve().parents[3].parent / "shared" / "design" / "LEGAL-RULES.md"


def _legal_rules_rows() -> dict[str, str]:
    """id -> source, from the table rows of LEGAL-RULES.md."""
    rows = {}
    for line in LEGAL_RULES.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\|\s*([A-Z][A-Za-z0-9.-]+)\s*\|\s*([^|]+?)\s*\|", line)
        if m and m.group(1) != "id":
            rows[m.group(1)] = m.group(2)
    return rows


@pytest.mark.skipif(not LEGAL_RULES.exists(), reason="design documents not checked out")
def test_catalogue_is_legal_rules_md() -> None:
    rows = _legal_rules_rows()
    assert len(rows) >= 35  # the parser found the tables
    assert {t.id: t.source for t in TEXTS} == rows


def test_every_rule_a_pack_cites_is_in_the_catalogue() -> None:
    for pack in PACKS.values():
        for rule in pack.rules:
            assert rule.id in BY_ID, f"{pack.name} cites {rule.id}, not in LEGAL-RULES.md"
            assert rule.summary


def test_explained_rules_carry_plain_text_and_where_they_are_checked() -> None:
    r = explain_rule("cn-fr-13")  # case-insensitive
    assert r.id == "CN-FR-13" and "toilets" in r.plain
    assert [c.pack for c in r.checks] == ["cn"]
    assert "register_deployment" in r.checks[0].acts
    # The standards baseline enforces what used to be "met by construction" labels: every
    # rule id is checked by some pack now.
    iso = explain_rule("ISO-24745")
    assert [c.pack for c in iso.checks] == ["standards"] and "scan" in iso.checks[0].acts
    assert uncovered() == []
    with pytest.raises(NotFound):
        explain_rule("CN-FR-99")
    assert text_of(" eu-ai-5 ") is BY_ID["EU-AI-5"]


def test_list_rules_by_pack() -> None:
    rows = list_rules("us-wa")
    assert [r["id"] for r in rows] == ["US-WA-19.375"]
    assert rows[0]["source"] == "RCW 19.375.020"
    assert {r["pack"] for r in list_rules()} == set(PACKS)
    with pytest.raises(NotFound):
        list_rules("atlantis")


def test_decision_cites_each_rule_once_and_collects_obligations() -> None:
    rules = rules_for(["cn", "eu"])
    d = decide(ctx(REG), rules)
    assert d.allowed
    assert len(d.rule_ids) == len(set(d.rule_ids))
    assert {"CN-FR-13", "EU-AI-5", "EU-GDPR-9"} <= set(d.rule_ids)
    assert all(o.rule_id in d.rule_ids for o in d.obligations)
    no = decide(ctx(Act.ENROLL, consent=None), rules)
    with pytest.raises(PolicyDenied) as raised:
        no.raise_if_denied()
    assert raised.value.rule_ids == ("CN-FR-6", "EU-GDPR-9")
    assert raised.value.to_dict()["rule_ids"] == ["CN-FR-6", "EU-GDPR-9"]


def test_rules_of_other_acts_are_not_consulted() -> None:
    d = decide(ctx(REG, deployment=deployment_facts(location_type="toilet")), rules_for(["cn"]))
    assert "CN-FR-6" in d.rule_ids  # the legal basis is checked at registration
    assert "CN-PIPL-14" not in d.rule_ids  # consent freshness is not


def test_calendar_arithmetic() -> None:
    assert add_months(datetime(2026, 1, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert add_years(datetime(2028, 2, 29, tzinfo=UTC), 3) == datetime(2031, 2, 28, tzinfo=UTC)
    assert add_months(NOW, -6) == datetime(2025, 12, 1, 12, tzinfo=UTC)
