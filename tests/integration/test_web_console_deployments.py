"""The console's deployments: the wizard asks the law's questions, a refusal shows the rule,
its article and what would make it lawful; a draft goes live only when a DPO signs it on
the page (no one else sees the sign form, and the Gate refuses anyone else); a change
makes it a draft again; ending it erases everyone."""

from __future__ import annotations

import json
import re

from lawful import consent
from web_console import (
    WIZARD,
    deployment_id,
    live_deployment,
    login,
    post,
    register,
    sign,
    staff,
)

from facegate.gate import Gate


def _denials(gate: Gate) -> list[dict[str, object]]:
    size = gate.counts()["ledger_entries"]
    leaves = [json.loads(gate.ledger_entry(i).data) for i in range(size)]
    return [leaf for leaf in leaves if leaf["kind"] == "policy.denied"]


def test_the_wizard_asks_the_laws_questions(sqlite_gate: Gate) -> None:
    staff(sqlite_gate)
    html = login(sqlite_gate, "Li Na").get("/console/deployments/new").text
    for field in (
        "name",
        "purpose",
        "location",
        "alternative",
        "legal_basis",
        "retention_days",
        "capabilities",
        "capture",
        "threshold",
        "lawfulness",
        "law_enforcement",
    ):
        assert f'name="{field}"' in html, field
    for rule in ("CN-FR-4", "CN-FR-13", "CN-FR-5", "CN-FR-10", "CN-PIPL-19", "CN-SPC-2"):
        assert rule in html, rule
    # a fact the law weighs starts unanswered: neither yes nor no is ticked
    signage = re.findall(r'<input type="radio" id="signage-(?:yes|no)"[^>]*>', html)
    assert len(signage) == 2 and not any("checked" in s for s in signage)
    assert "Required under cn." in html  # alternative_penalty (CN-FR-12)
    assert "Toilet" in html or "toilet" in html  # banned places are offered: the law judges


def test_a_banned_place_is_refused_with_the_rule_the_article_and_the_way_out(
    sqlite_gate: Gate,
) -> None:
    staff(sqlite_gate)
    c = login(sqlite_gate, "Li Na")
    r = register(c, location="toilet", name="Washroom entry")
    assert r.status_code == 403
    box = re.search(
        r'<div class="notice error" role="alert" id="problem">(.*?)</div>', r.text, re.S
    )
    assert box, r.text
    assert "CN-FR-13" in box.group(1) and "Measures Art 13" in box.group(1)  # rule, article
    assert "What would make it lawful" in box.group(1) and "may not have it at all" in box.group(1)
    assert 'value="Washroom entry"' in r.text  # the answers are kept on the form
    assert sqlite_gate.list_deployments() == []
    assert any("CN-FR-13" in d["rules"] for d in _denials(sqlite_gate))  # type: ignore[operator]


def test_a_question_left_unanswered_is_named_with_its_rule(sqlite_gate: Gate) -> None:
    staff(sqlite_gate)
    c = login(sqlite_gate, "Li Na")
    no_signs = {k: v for k, v in WIZARD.items() if k != "signage"}
    r = post(c, "/console/deployments/new", no_signs)
    assert r.status_code == 400 and "signage is required (CN-FR-5)" in r.text
    r = register(c, alternative_penalty="")
    assert r.status_code == 400 and "alternative_penalty (CN-FR-12)" in r.text
    r = register(c, retention_days="a year")
    assert r.status_code == 400 and "retention_days" in r.text
    assert sqlite_gate.list_deployments() == []


def test_a_draft_goes_live_only_by_the_dpo_on_the_page(sqlite_gate: Gate) -> None:
    people = staff(sqlite_gate)
    operator = login(sqlite_gate, "Li Na")
    r = register(operator)
    assert r.status_code == 201 and "Registered as a draft" in r.text
    dep = deployment_id(r.text)
    assert 'id="sign-form"' not in operator.get(f"/console/deployments/{dep}").text
    refused = post(operator, f"/console/deployments/{dep}/sign", {"necessity": "because"})
    assert refused.status_code == 403 and "may not sign impact assessments" in refused.text
    assert sqlite_gate.get_deployment(dep).status == "draft"
    dpo = login(sqlite_gate, "Wang Fang")
    page = dpo.get(f"/console/deployments/{dep}").text
    assert 'id="sign-form"' in page and WIZARD["lawfulness"] in page  # the draft, to revise
    assert sign(sqlite_gate, dep).headers["location"].endswith("?signed=1")
    info = sqlite_gate.get_deployment(dep)
    assert info.status == "live" and info.signed_by == people["Wang Fang"]
    assert "Public notice page" in operator.get(f"/console/deployments/{dep}").text


def test_the_dpo_is_told_what_the_assessment_lacks(sqlite_gate: Gate) -> None:
    staff(sqlite_gate)
    r = register(
        login(sqlite_gate, "Li Na"),
        lawfulness="",
        impact="",
        risks="",
        safeguards="",
        conclusion="",
    )
    dep = deployment_id(r.text)
    dpo = login(sqlite_gate, "Wang Fang")
    empty = post(dpo, f"/console/deployments/{dep}/sign", {"necessity": ""})
    assert empty.status_code == 400 and "necessity statement is required (CN-FR-4)" in empty.text
    unanswered = post(dpo, f"/console/deployments/{dep}/sign", {"necessity": "Cards are lost."})
    assert unanswered.status_code == 403 and "CN-FR-9" in unanswered.text
    assert sqlite_gate.get_deployment(dep).status == "draft"


def test_a_change_makes_it_a_draft_until_signed_again(sqlite_gate: Gate) -> None:
    dep = live_deployment(sqlite_gate)
    c = login(sqlite_gate, "Li Na")
    form = c.get(f"/console/deployments/{dep}/change").text
    assert 'value="365"' in form and 'name="jurisdiction"' not in form  # a new law: new one
    r = post(c, f"/console/deployments/{dep}/change", {**WIZARD, "retention_days": "180"})
    assert r.status_code == 200, r.text
    info = sqlite_gate.get_deployment(dep)
    assert info.status == "draft" and info.retention_days == 180
    same = post(c, f"/console/deployments/{dep}/change", {**WIZARD, "retention_days": "180"})
    assert same.status_code == 400 and "nothing changes" in same.text


def test_ending_erases_everyone_after_a_confirmation(sqlite_gate: Gate) -> None:
    dep = live_deployment(sqlite_gate)
    consent(sqlite_gate, dep, "flat-7")
    c = login(sqlite_gate, "Li Na")
    reason = {"reason": "The gate is replaced by a staffed entrance."}
    unconfirmed = post(c, f"/console/deployments/{dep}/end", reason)
    assert unconfirmed.status_code == 400 and sqlite_gate.get_deployment(dep).status == "live"
    r = post(c, f"/console/deployments/{dep}/end", {**reason, "confirm": "yes"})
    assert r.status_code == 200 and "1 people and 0 templates erased" in r.text
    assert sqlite_gate.get_deployment(dep).status == "ended"
