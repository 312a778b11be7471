"""Registration and go-live on a real store: each banned thing is refused with its rule id,
nothing is stored, the refusal is a ledger event that ``policy explain`` can explain."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from facegate.policy.stored import consent_facts, deployment_facts, notice_facts
from facegate.policy.stored import context as stored_context
from sqlalchemy import select

from facegate.errors import InvalidInput, PolicyDenied
from facegate.flows import deployments
from facegate.gate import Gate
from facegate.policy import Act, Context, Declarations, decide, rules_for
from facegate.policy.explain import explain_event
from facegate.policy.pia import PiaDraft
from facegate.storage import tables as t

GATE_PURPOSE = "Residents open the compound gate by face"
PUBLIC_SECURITY = "Public security screening at the station entrance"
READY = Declarations(risk_team="Risk office", accountable="DPO Li", fairness_tested=True)


def _create(gate: Gate, **kw: Any) -> Any:
    args: dict[str, Any] = {
        "operator_id": "op_local",
        "name": "Gate",
        "purpose": GATE_PURPOSE,
        "location": "residential_compound",
        "alternative": "key card",
    }
    args.update(kw)
    return deployments.create_deployment(gate._core, **args)


def _last_entry(gate: Gate) -> dict[str, Any]:
    with gate.db.read() as s:
        data = s.scalar(select(t.LedgerEntry.data).order_by(t.LedgerEntry.idx.desc()).limit(1))
    assert data is not None
    return dict(json.loads(bytes(data)))


REFUSED: dict[str, tuple[str, dict[str, Any]]] = {
    "hotel room": ("CN-FR-13", {"location": "hotel_room"}),
    "public bathroom": ("CN-FR-13", {"location": "bathroom"}),
    "changing room": ("CN-FR-13", {"location": "changing_room"}),
    "toilet": ("CN-FR-13", {"location": "toilet"}),
    "public place without signs": (
        "CN-FR-13",
        {"location": "public_place", "purpose": PUBLIC_SECURITY},
    ),
    "public place, not public security": (
        "CN-FR-13",
        {"location": "street", "signage": True, "purpose": "Count shoppers for advertising"},
    ),
    "no alternative": ("CN-FR-10", {"alternative": ""}),
    "alternative costs more": (
        "CN-FR-12",
        {"declarations": Declarations(alternative_penalty=True)},
    ),
    "no real purpose": ("CN-FR-4", {"purpose": "faces"}),
    "no legal basis (cn)": ("CN-FR-6", {"legal_basis": "legitimate_interest"}),
    "no Art 9 exception (eu)": (
        "EU-GDPR-9",
        {"jurisdiction": "eu", "legal_basis": "contract"},
    ),
    "emotion recognition at work (eu)": (
        "EU-AI-5",
        {"jurisdiction": "eu", "location": "office", "capabilities": ["emotion_recognition"]},
    ),
    "sensitive traits (eu)": (
        "EU-AI-5",
        {"jurisdiction": "eu", "capabilities": ["verify", "sensitive_trait_inference"]},
    ),
    "untargeted scraping (eu)": (
        "EU-AI-5",
        {"jurisdiction": "eu", "capabilities": ["identify", "untargeted_scraping"]},
    ),
    "real-time police identification in public (eu)": (
        "EU-AI-5",
        {
            "jurisdiction": "eu",
            "location": "transport_hub",
            "signage": True,
            "purpose": PUBLIC_SECURITY,
            "capabilities": ["realtime_remote_identification"],
            "declarations": Declarations(law_enforcement=True),
        },
    ),
    "no controller contact (eu)": ("EU-GDPR-30", {"jurisdiction": "eu"}),
    "kept past BIPA's 3 years (us-il)": (
        "US-IL-15a",
        {"jurisdiction": "us-il", "retention_days": 1200},
    ),
    "kept past the purpose (cn)": (
        "CN-PIPL-19",
        {"purpose_ends_at": "soon", "retention_days": 365},
    ),
    "no risk team (cn+ind-2019)": ("IND-2019", {"jurisdiction": "cn+ind-2019"}),
    "fairness not tested (cn+ind-2019)": (
        "IND-2019",
        {
            "jurisdiction": "cn+ind-2019",
            "retention_days": 180,
            "declarations": Declarations(risk_team="Risk office"),
        },
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_registration_is_refused(sqlite_gate: Gate, case: str) -> None:
    gate = sqlite_gate
    rule_id, kw = REFUSED[case]
    if kw.get("purpose_ends_at") == "soon":
        kw = {**kw, "purpose_ends_at": gate._core.clock() + timedelta(days=30)}
    before = gate.counts()
    with pytest.raises(PolicyDenied) as refused:
        _create(gate, **kw)
    assert rule_id in refused.value.rule_ids
    assert f"[{refused.value.rule_id}]" in str(refused.value) and refused.value.advice
    after = gate.counts()
    assert after["deployments"] == before["deployments"] == 0
    assert after["ledger_entries"] == before["ledger_entries"] + 1
    entry = _last_entry(gate)
    assert entry["kind"] == "policy.denied" and rule_id in entry["rules"]
    assert entry["details"]["act"] == "deployment.created"
    with gate.db.read() as s:
        why = explain_event(s, entry["id"])
    assert why.intact and rule_id in [r.id for r in why.rules]
    assert all(r.plain and r.source for r in why.rules)


def test_registration_refused_on_both_backends(gate: Gate) -> None:
    with pytest.raises(PolicyDenied) as refused:
        _create(gate, location="toilet")
    assert refused.value.rule_id == "CN-FR-13"
    assert gate.list_deployments() == []


def test_the_short_flow_fills_safe_defaults_and_says_so(gate: Gate) -> None:
    dep = gate.create_deployment(
        name="Gate", purpose=GATE_PURPOSE, location="residential_compound", alternative="key card"
    )
    notes = "\n".join(dep.notes)
    assert "necessity statement drafted" in notes
    assert "impact assessment (PIA/DPIA) drafted" in notes and "op_local" in notes
    assert "[CN-FR-9]" in notes and "[CN-PIPL-19]" in notes
    assert dep.status == "active"
    with gate.db.read() as s:
        row = s.get(t.Deployment, dep.id)
        assert row is not None
        facts = deployment_facts(s, row)
        pia = s.scalar(select(t.Pia).where(t.Pia.deployment_id == dep.id))
    assert pia is not None and pia.drafted and pia.confirmed_by.startswith("local operator")
    assert set(pia.body) >= {"lawfulness", "necessity", "impact", "risks", "safeguards"}
    assert facts.complete and facts.pia is not None
    assert facts.pia.purpose_sha256 == facts.purpose_sha256
    assert facts.pia.method_sha256 == facts.method_sha256
    assert facts.capabilities == {"verify", "identify"}
    created = [e for e in _entries(gate) if e["kind"] == "deployment.created"][-1]
    assert {"CN-FR-4", "CN-FR-9", "CN-FR-10", "CN-FR-13", "CN-FR-5"} <= set(created["rules"])
    assert created["details"]["pia_drafted"] is True


def test_defaults_follow_the_packs(sqlite_gate: Gate) -> None:
    gate = sqlite_gate
    op = gate.create_operator("Sunny Gardens", contact="privacy@sunny.example")
    eu = _create(gate, jurisdiction="eu", operator_id=op.id)
    assert any("retention set to 365 days" in n for n in eu.notes)
    assert any("legal basis" in n for n in eu.notes)
    industry = _create(gate, jurisdiction="cn+ind-2019", retention_days=180, declarations=READY)
    assert industry.retention_days == 180
    own_pia = _create(
        gate,
        retention_days=90,
        pia=PiaDraft("lawful", "needed", "low", "leaks", "sealed templates", "proceed"),
        confirmed_by="DPO Li",
    )
    assert not any("drafted from the given fields" in n for n in own_pia.notes)
    with pytest.raises(InvalidInput, match="lacks risks"):
        _create(gate, pia=PiaDraft("lawful", "needed", "low", " ", "sealed", "proceed"))
    with pytest.raises(InvalidInput, match="industry code"):
        _create(gate, jurisdiction="ind-2019")
    with pytest.raises(InvalidInput, match="unknown capabilities"):
        _create(gate, capabilities=["mind_reading"])


def test_public_place_with_signs_for_public_security_is_allowed(sqlite_gate: Gate) -> None:
    dep = _create(sqlite_gate, location="public_place", signage=True, purpose=PUBLIC_SECURITY)
    assert any("keep prominent signs" in n and "[CN-FR-13]" in n for n in dep.notes)


def test_notice_in_both_languages_with_a_plain_version(sqlite_gate: Gate) -> None:
    gate = sqlite_gate
    dep = _create(gate, notice_translations={"zh-CN": {"purpose": "住户刷脸开门"}})
    en = gate.notice(dep.id)
    zh = deployments.notice(gate._core, dep.id, language="zh-CN")
    assert en.sha256 == zh.sha256 and en.version == zh.version == 1
    assert zh.body["purpose"] == "住户刷脸开门" and zh.body["language"] == "zh-CN"
    assert en.body["purpose"] == GATE_PURPOSE and "key card" in en.body["plain"]
    assert {"processor", "rights", "withdrawal", "complaints", "refusal"} <= en.body.keys()
    with pytest.raises(InvalidInput, match="zh-CN, en"):
        deployments.notice(gate._core, dep.id, language="fr")


def test_a_method_change_needs_a_new_pia_and_fresh_consent(sqlite_gate: Gate) -> None:
    gate = sqlite_gate
    dep = _create(gate, capabilities=["verify"])
    gate.give_consent(dep.id, "flat-12a")
    changed = deployments.change_deployment(gate._core, dep.id, capabilities=["verify", "identify"])
    assert changed.notice_version == 2
    assert any("drafted from the given fields" in n for n in changed.notes)
    with gate.db.read() as s:
        versions = s.scalars(
            select(t.Pia.version).where(t.Pia.deployment_id == dep.id).order_by(t.Pia.version)
        ).all()
        row = s.get(t.Deployment, dep.id)
        assert row is not None
        facts = deployment_facts(s, row)
        subject = s.scalar(select(t.Consent).where(t.Consent.deployment_id == dep.id))
        assert subject is not None
        consent = consent_facts(subject)
        notice = notice_facts(gate._core.notice(s, dep.id))
    assert versions == [1, 2] and facts.capabilities == {"verify", "identify"}
    verify = Context(
        Act.VERIFY,
        facts,
        gate._core.clock(),
        consent=consent,
        notice=notice,
        current_notice_sha256=notice.sha256,
    )
    refused = decide(verify, rules_for(["cn"]))
    assert [f.rule_id for f in refused.denials] == ["CN-PIPL-14"]
    # a change to a banned place is refused and changes nothing
    with pytest.raises(PolicyDenied) as banned:
        deployments.change_deployment(gate._core, dep.id, location="toilet")
    assert banned.value.rule_id == "CN-FR-13"
    assert gate.get_deployment(dep.id).location_type == "residential_compound"
    with pytest.raises(InvalidInput, match="nothing to change"):
        deployments.change_deployment(gate._core, dep.id, capabilities=["verify", "identify"])


def test_a_purpose_changed_behind_the_pias_back_stops_processing(sqlite_gate: Gate) -> None:
    """CN-FR-9 / EU-GDPR-35 on processing: the stored facts expose a stale assessment."""
    gate = sqlite_gate
    op = gate.create_operator("Sunny Gardens", contact="privacy@sunny.example")
    dep = _create(gate, jurisdiction="cn+eu", operator_id=op.id)
    with gate.db.transaction() as s:
        row = s.get(t.Deployment, dep.id)
        assert row is not None
        row.purpose = "Residents open the gate, and the shop targets adverts at them"
    with gate.db.read() as s:
        row = s.get(t.Deployment, dep.id)
        assert row is not None
        facts = deployment_facts(s, row)
    decision = decide(Context(Act.VERIFY, facts, gate._core.clock()), rules_for(["cn", "eu"]))
    assert {"CN-FR-9", "EU-GDPR-35"} <= {f.rule_id for f in decision.denials}


def _entries(gate: Gate) -> list[dict[str, Any]]:
    with gate.db.read() as s:
        rows = s.scalars(select(t.LedgerEntry.data).order_by(t.LedgerEntry.idx)).all()
    return [json.loads(bytes(r)) for r in rows]


def test_the_stored_facts_allow_the_lawful_lifecycle(gate: Gate) -> None:
    """Once processing decisions read the full stored facts (policy.stored.context), a
    deployment registered by the short flow still enrolls, verifies and identifies, and each
    decision cites the rules about those facts."""
    dep = gate.create_deployment(
        name="Gate", purpose=GATE_PURPOSE, location="residential_compound", alternative="key card"
    )
    gate.give_consent(dep.id, "flat-12a")
    now = gate._core.clock()
    with gate.db.read() as s:
        row = s.get(t.Deployment, dep.id)
        held = s.scalar(select(t.Consent).where(t.Consent.deployment_id == dep.id))
        assert row is not None and held is not None
        for act in (Act.ENROLL, Act.VERIFY, Act.IDENTIFY):
            ctx = stored_context(s, row, act=act, now=now, consent=consent_facts(held))
            decision = decide(ctx, rules_for(["cn"]))
            assert decision.allowed, [f.reason for f in decision.denials]
            assert {"CN-FR-5", "CN-FR-6", "CN-FR-9", "CN-PIPL-14", "CN-SPC-2"} <= set(
                decision.rule_ids
            )
        nobody = stored_context(s, row, act=Act.VERIFY, now=now)
        assert [f.rule_id for f in decide(nobody, rules_for(["cn"])).denials] == ["CN-FR-6"]
    # a child's own consent, stored with their age, is refused until a guardian consents
    with gate.db.transaction() as s:
        held = s.scalar(select(t.Consent).where(t.Consent.deployment_id == dep.id))
        assert held is not None
        held.subject_age = 12
    with gate.db.read() as s:
        row = s.get(t.Deployment, dep.id)
        held = s.scalar(select(t.Consent).where(t.Consent.deployment_id == dep.id))
        assert row is not None and held is not None
        child = stored_context(s, row, act=Act.ENROLL, now=now, consent=consent_facts(held))
    refused = decide(child, rules_for(["cn"]))
    assert [f.rule_id for f in refused.denials] == ["CN-FR-6"]
    assert "guardian" in refused.denials[0].reason


def test_a_deployment_from_before_the_policy_schema_is_brought_up_to_date(
    sqlite_gate: Gate,
) -> None:
    """Registered before 0003: no PIA, NULL new columns, a flat notice lacking the fields now
    required. Its stored facts refuse processing until it is assessed and its notice is
    republished, which ``change_deployment`` does when called with no changes."""
    gate = sqlite_gate
    dep = _create(gate)
    flat = {k: v for k, v in gate.notice(dep.id).body.items() if k in {"processor", "purpose"}}
    with gate.db.transaction() as s:
        for pia in s.scalars(select(t.Pia).where(t.Pia.deployment_id == dep.id)):
            s.delete(pia)
        row = s.get(t.Deployment, dep.id)
        assert row is not None
        row.scope = row.capabilities = row.egress = row.declarations = None
        notice = s.scalar(select(t.Notice).where(t.Notice.deployment_id == dep.id))
        assert notice is not None
        notice.body = flat
    with gate.db.read() as s:
        row = s.get(t.Deployment, dep.id)
        assert row is not None
        ctx = stored_context(s, row, act=Act.ENROLL, now=gate._core.clock())
    assert ctx.deployment.capabilities == {"verify", "identify"}
    denied = {f.rule_id for f in decide(ctx, rules_for(["cn"])).denials}
    assert {"CN-FR-5", "CN-FR-9"} <= denied
    updated = deployments.change_deployment(gate._core, dep.id)
    assert updated.notice_version == 2
    gate.give_consent(dep.id, "flat-12a")
    with gate.db.read() as s:
        row = s.get(t.Deployment, dep.id)
        held = s.scalar(select(t.Consent).where(t.Consent.deployment_id == dep.id))
        assert row is not None and held is not None
        ctx = stored_context(
            s, row, act=Act.ENROLL, now=gate._core.clock(), consent=consent_facts(held)
        )
    assert decide(ctx, rules_for(["cn"])).allowed
