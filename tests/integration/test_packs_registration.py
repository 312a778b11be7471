"""Registration and go-live on a real store: each banned thing is refused with its rule id,
nothing is stored, the refusal is a ledger event that ``policy explain`` can explain; a
deployment is a draft until a DPO signs its assessment, and nothing is presumed."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from lawful import (
    ANSWERS,
    CN_SPEC,
    NECESSITY,
    PACK_SPEC,
    cites,
    consent,
    dpo,
    draft,
    live,
    prepare_operator,
    sign,
)
from sqlalchemy import select

from facegate.errors import InvalidInput, NotFound, PolicyDenied, RecordAltered
from facegate.flows.explain import explain_event
from facegate.flows.facts import consent_facts, context, deployment_facts
from facegate.gate import Gate
from facegate.policy import Act, decide, rules_for
from facegate.storage import tables as t

GATE_PURPOSE = "Residents open the compound gate by face"
PUBLIC_SECURITY = "Public security screening at the station entrance"
STATION = {
    "authority": "Shanghai Public Security Bureau, Xuhui branch",
    "instrument": "Shanghai public-security video surveillance regulation, Art 8",
    "area": "the entrance hall of Xujiahui station, inside the marked line",
}
EU = PACK_SPEC["eu"]


def _last_entry(gate: Gate) -> dict[str, Any]:
    with gate.db.read() as s:
        data = s.scalar(select(t.LedgerEntry.data).order_by(t.LedgerEntry.idx.desc()).limit(1))
    assert data is not None
    return dict(json.loads(bytes(data)))


def _entries(gate: Gate) -> list[dict[str, Any]]:
    with gate.db.read() as s:
        rows = s.scalars(select(t.LedgerEntry.data).order_by(t.LedgerEntry.idx)).all()
    return [json.loads(bytes(r)) for r in rows]


REFUSED: dict[str, tuple[str, dict[str, Any]]] = {
    "hotel room": ("CN-FR-13", {"location": "hotel_room"}),
    "public bathroom": ("CN-FR-13", {"location": "bathroom"}),
    "changing room": ("CN-FR-13", {"location": "changing_room"}),
    "toilet": ("CN-FR-13", {"location": "toilet"}),
    # an unknown place type cannot be shown not to be a private space
    "unknown place type": ("CN-FR-13", {"location": "moon_base"}),
    "public place without signs": (
        "CN-FR-13",
        {
            "location": "public_place",
            "purpose": PUBLIC_SECURITY,
            "legal_basis": "law",
            "signage": False,
            "public_security": STATION,
        },
    ),
    # public security is a structured basis, never a word in the purpose
    "public place, public security only in words": (
        "CN-FR-13",
        {"location": "public_place", "purpose": PUBLIC_SECURITY, "legal_basis": "law"},
    ),
    "public place, not public security": (
        "CN-FR-13",
        {"location": "street", "purpose": "Count shoppers for advertising"},
    ),
    # signs at every physical place (CN-FR-5), and published rules at business places
    "no signs at the compound gate": ("CN-FR-5", {"signage": False}),
    "no signs in a shop": ("CN-SPC-2", {"location": "shop", "signage": False}),
    "no alternative": ("CN-FR-10", {"alternative": ""}),
    "a non-answer for the alternative": ("CN-FR-10", {"alternative": "none"}),
    "alternative costs more": ("CN-FR-12", {"alternative_penalty": True}),
    "no real purpose": ("CN-FR-4", {"purpose": "faces"}),
    "no legal basis (cn)": ("CN-FR-6", {"legal_basis": "legitimate_interest"}),
    "no Art 9 exception (eu)": ("EU-GDPR-9", {**EU, "legal_basis": "contract"}),
    "consent cannot cover people in view (eu)": ("EU-GDPR-9", {**EU, "capture": "in_view"}),
    "emotion recognition at work (eu)": (
        "EU-AI-5",
        {**EU, "location": "office", "capabilities": ["emotion_recognition"], "capture": None},
    ),
    "emotion recognition of shop staff (eu)": (
        "EU-AI-5",
        {**EU, "location": "shop", "capabilities": ["verify", "emotion_recognition"]},
    ),
    "sensitive traits (eu)": (
        "EU-AI-5",
        {**EU, "capabilities": ["verify", "sensitive_trait_inference"], "capture": None},
    ),
    "untargeted scraping (eu)": (
        "EU-AI-5",
        {**EU, "capabilities": ["identify", "untargeted_scraping"]},
    ),
    "real-time police identification in public (eu)": (
        "EU-AI-5",
        {
            **EU,
            "location": "transport_hub",
            "purpose": PUBLIC_SECURITY,
            "legal_basis": "law",
            "capabilities": ["realtime_remote_identification"],
            "capture": "in_view",
            "law_enforcement": True,
        },
    ),
    "real-time police identification at a hospital (eu)": (
        "EU-AI-5",
        {
            **EU,
            "location": "hospital",
            "purpose": "Police identify wanted people among hospital visitors",
            "legal_basis": "law",
            "capabilities": ["realtime_remote_identification"],
            "capture": "in_view",
            "law_enforcement": True,
        },
    ),
    "kept past BIPA's 3 years (us-il)": (
        "US-IL-15a",
        {"jurisdiction": "us-il", "retention_days": 1200},
    ),
    "everyone in view without a release (us-il)": (
        "US-IL-15b",
        {"jurisdiction": "us-il", "capture": "in_view"},
    ),
    "kept past the purpose (cn)": (
        "CN-PIPL-19",
        {"purpose_ends_at": "soon", "retention_days": 365},
    ),
    # a retention out of range is a legal judgement now, not an input error
    "no retention at all (cn)": ("CN-PIPL-19", {"retention_days": 0}),
    "a retention of decades (cn)": ("CN-PIPL-19", {"retention_days": 20_000}),
    "a threshold that lets strangers in": ("ISO-30136", {"threshold": 5e-324}),
    "no risk team (cn+ind-2019)": (
        "IND-2019",
        {**PACK_SPEC["cn+ind-2019"], "risk_team": " "},
    ),
    "kept over a year (cn+ind-2019)": (
        "IND-2019",
        {**PACK_SPEC["cn+ind-2019"], "retention_days": 400},
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_registration_is_refused(sqlite_gate: Gate, case: str) -> None:
    gate = sqlite_gate
    rule_id, kw = REFUSED[case]
    if kw.get("purpose_ends_at") == "soon":
        kw = {**kw, "purpose_ends_at": gate._core.clock() + timedelta(days=30)}
    prepare_operator(gate)
    before = gate.counts()
    with pytest.raises(PolicyDenied) as refused:
        draft(gate, **kw)
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
        draft(gate, location="toilet")
    assert refused.value.rule_id == "CN-FR-13"
    assert gate.list_deployments() == []


def test_a_deployment_is_a_draft_until_a_dpo_signs(gate: Gate) -> None:
    """Replaces the short flow's drafted PIA and necessity: nothing writes or approves
    itself. The draft has no notice, takes no consent; the DPO's signature publishes v1."""
    dep = draft(gate, name="Gate", purpose=GATE_PURPOSE)
    assert (dep.status, dep.notice_version, dep.signed_by) == ("draft", 0, None)
    assert any("pia sign" in n for n in dep.notes)
    with pytest.raises(NotFound, match="no notice in force"):
        gate.notice(dep.id)
    with pytest.raises(PolicyDenied):
        consent(gate, dep.id, "flat-12a")
    with gate.db.read() as s:
        row = s.get(t.Deployment, dep.id)
        assert row is not None
        facts = deployment_facts(s, row)
    # every part is answered but the necessity, which the DPO writes when signing
    assert facts.pia is not None and facts.pia.signed_at is None
    assert facts.pia.missing == ("necessity",)
    assert facts.capabilities == {"verify", "identify"} and facts.capture == "on_request"
    created = [e for e in _entries(gate) if e["kind"] == "deployment.created"][-1]
    assert {"CN-FR-4", "CN-FR-10", "CN-FR-13", "CN-FR-5"} <= set(created["rules"])
    # The owner (an admin) cannot sign for the DPO.
    from facegate.errors import Forbidden

    with pytest.raises(Forbidden):
        gate.sign_pia(dep.id, necessity=NECESSITY, answers=None)
    signed = sign(gate, dep.id)
    officer = dpo(gate).actor
    assert (signed.status, signed.notice_version) == ("live", 1)
    assert signed.signed_by == officer.principal_id and signed.necessity == NECESSITY
    assert gate.notice(dep.id).version == 1
    with gate.db.read() as s:
        pia = s.scalar(select(t.Pia).where(t.Pia.deployment_id == dep.id))
    assert pia is not None and pia.signed_by == officer.principal_id and pia.sha256
    assert set(pia.body) >= {*ANSWERS, "necessity"}
    signed_entry = [e for e in _entries(gate) if e["kind"] == "pia.signed"][-1]
    assert "CN-FR-9" in signed_entry["rules"]
    assert consent(gate, dep.id, "flat-12a").notice_version == 1


def test_nothing_is_presumed(sqlite_gate: Gate) -> None:
    """Replaces the old defaults (retention 365, legal basis, drafted PIA): every legally
    material fact is an input, and leaving one out names the field and the rule."""
    gate = sqlite_gate
    prepare_operator(gate)
    bare = {k: CN_SPEC[k] for k in ("name", "purpose", "location", "alternative")}
    with pytest.raises(InvalidInput) as missing:
        gate.create_deployment(**bare)
    for field in ("jurisdiction", "legal_basis", "retention_days", "capabilities", "signage"):
        assert f"{field} is required" in missing.value.message
    without = {k: v for k, v in CN_SPEC.items() if k not in {"alternative_penalty", "capture"}}
    with pytest.raises(InvalidInput, match=r"alternative_penalty \(CN-FR-12\)") as cn:
        gate.create_deployment(**without)
    assert "capture" in cn.value.message  # a search must say whom it photographs
    with pytest.raises(InvalidInput, match=r"law_enforcement \(EU-AI-5\)"):
        gate.create_deployment(**{**CN_SPEC, **EU, "law_enforcement": None})
    with pytest.raises(InvalidInput, match="risk_team"):
        gate.create_deployment(**{**CN_SPEC, "jurisdiction": "cn+ind-2019"})
    for jurisdiction in ("", "+", "++", "atlantis", "ind-2019"):
        with pytest.raises(InvalidInput):
            gate.create_deployment(**{**CN_SPEC, "jurisdiction": jurisdiction})
    with pytest.raises(InvalidInput, match="mind_reading"):
        gate.create_deployment(**{**CN_SPEC, "capabilities": ["mind_reading"]})
    assert gate.list_deployments() == []
    # A deployment whose packs need the declarations registers once they are given.
    industry = draft(gate, **PACK_SPEC["cn+ind-2019"], retention_days=180)
    assert industry.retention_days == 180 and industry.jurisdiction == "cn+ind-2019"


def test_an_assessment_with_an_unanswered_part_cannot_be_signed(sqlite_gate: Gate) -> None:
    gate = sqlite_gate
    dep = draft(gate, pia={**ANSWERS, "risks": " "})
    assert gate.pia(dep.id).missing == ("necessity", "risks")
    with pytest.raises(PolicyDenied) as refused:
        sign(gate, dep.id)
    assert "CN-FR-9" in refused.value.rule_ids
    filler = {
        **ANSWERS,
        "impact": "x" * 40,
        "risks": "N/A " * 10,
        "conclusion": ANSWERS["lawfulness"],
    }
    with pytest.raises(PolicyDenied) as bare:  # long enough, but saying nothing
        dpo(gate).sign_pia(dep.id, necessity=NECESSITY, answers=filler)
    assert "CN-FR-9" in bare.value.rule_ids
    assert "impact, risks, conclusion" in bare.value.message, bare.value.message
    assert gate.pia(dep.id).missing == ("necessity", "risks")  # the draft, unchanged
    answered = dpo(gate).sign_pia(dep.id, necessity=NECESSITY, answers=ANSWERS)
    assert answered.status == "live"


def test_the_fairness_test_is_required_at_go_live_under_ind_2019(sqlite_gate: Gate) -> None:
    gate = sqlite_gate
    dep = draft(gate, **{**PACK_SPEC["cn+ind-2019"], "fairness_tested": False})
    with pytest.raises(PolicyDenied) as refused:
        sign(gate, dep.id)
    assert "IND-2019" in refused.value.rule_ids
    gate.change_deployment(dep.id, fairness_tested=True)
    assert sign(gate, dep.id).status == "live"


def test_public_place_with_signs_for_public_security_is_allowed(sqlite_gate: Gate) -> None:
    dep = draft(
        sqlite_gate,
        location="public_place",
        purpose=PUBLIC_SECURITY,
        legal_basis="law",
        public_security=STATION,
    )
    assert any("keep prominent signs" in n and "[CN-FR-13]" in n for n in dep.notes)


def test_notice_in_both_languages_with_a_plain_version(sqlite_gate: Gate) -> None:
    gate = sqlite_gate
    dep = live(
        gate,
        purpose=GATE_PURPOSE,
        alternative="key card",
        notice_translations={"zh-CN": {"purpose": "住户刷脸开门"}},
    )
    en = gate.notice(dep.id)
    zh = gate.notice(dep.id, language="zh-CN")
    assert en.sha256 == zh.sha256 and en.version == zh.version == 1
    assert zh.body["purpose"] == "住户刷脸开门" and zh.body["language"] == "zh-CN"
    assert en.body["purpose"] == GATE_PURPOSE and "key card" in en.body["plain"]
    assert {"processor", "dpo", "rights", "withdrawal", "complaints", "refusal"} <= en.body.keys()
    with pytest.raises(InvalidInput, match="zh-CN, en"):
        gate.notice(dep.id, language="fr")


def test_a_method_change_needs_a_new_pia_and_fresh_consent(sqlite_gate: Gate) -> None:
    gate = sqlite_gate
    dep = live(gate, capabilities=["verify"], capture=None)
    consent(gate, dep.id, "flat-12a")
    changed = gate.change_deployment(
        dep.id, capabilities=["verify", "identify"], capture="on_request"
    )
    assert changed.status == "draft"  # the DPO's signature is void ...
    with pytest.raises(PolicyDenied):
        gate.enroll(dep.id, "flat-12a", b"a photo is not even read")  # ... nothing is processed
    assert sign(gate, dep.id).notice_version == 2  # a new assessment, a new notice
    with gate.db.read() as s:
        versions = s.scalars(
            select(t.Pia.version).where(t.Pia.deployment_id == dep.id).order_by(t.Pia.version)
        ).all()
    assert versions == [1, 2]
    assert set(gate.get_deployment(dep.id).capabilities) == {"verify", "identify"}
    # the consent given to notice v1 covers nothing now
    with pytest.raises(PolicyDenied) as stale:
        gate.enroll(dep.id, "flat-12a", b"a photo is not even read")
    assert "CN-PIPL-14" in stale.value.rule_ids
    # a change to a banned place is refused and changes nothing
    with pytest.raises(PolicyDenied) as banned:
        gate.change_deployment(dep.id, location="toilet")
    assert banned.value.rule_id == "CN-FR-13"
    assert gate.get_deployment(dep.id).location_type == "residential_compound"
    assert gate.get_deployment(dep.id).status == "live"
    with pytest.raises(InvalidInput, match="nothing changes"):
        gate.change_deployment(dep.id, capabilities=["identify", "verify"])


def test_the_same_capabilities_in_another_order_change_nothing(sqlite_gate: Gate) -> None:
    dep = live(sqlite_gate)
    with pytest.raises(InvalidInput, match="nothing changes"):
        sqlite_gate.change_deployment(dep.id, capabilities=["verify", "identify"])


def test_a_purpose_changed_behind_the_pias_back_stops_processing(
    sqlite_gate: Gate, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CN-FR-9 / EU-GDPR-35 on processing: the stored facts expose a stale assessment. The row
    edited in the file is first refused as altered (ledger/held.py); with that check off, the
    policy still refuses on its own, citing the rules."""
    gate = sqlite_gate
    dep = live(gate, jurisdiction="cn+eu")
    consent(gate, dep.id, "flat-12a")
    with gate.db.transaction() as s:
        row = s.get(t.Deployment, dep.id)
        assert row is not None
        row.purpose = "Residents open the gate, and the shop targets adverts at them"
    with pytest.raises(RecordAltered, match="purpose"):
        gate.enroll(dep.id, "flat-12a", b"a photo is not even read")
    monkeypatch.setattr("facegate.core.hold_to_record", lambda _s, _dep: None)
    with pytest.raises(PolicyDenied) as refused:
        gate.enroll(dep.id, "flat-12a", b"a photo is not even read")
    assert {"CN-FR-9", "EU-GDPR-35"} <= set(refused.value.rule_ids)


def test_the_stored_facts_allow_the_lawful_lifecycle(gate: Gate, photo: Any) -> None:
    """The facts the one policy door reads from the store (flows.facts.context) let a lawful
    deployment enroll, verify and search, and each decision cites the rules about them; the
    Gate then does enroll, verify and search with those facts."""
    dep = live(gate, purpose=GATE_PURPOSE)
    consent(gate, dep.id, "flat-12a")
    now = gate._core.clock()
    with gate.db.read() as s:
        row = s.get(t.Deployment, dep.id)
        held = s.scalar(select(t.Consent).where(t.Consent.deployment_id == dep.id))
        assert row is not None and held is not None
        person = consent_facts(held)
        for act in (Act.ENROLL, Act.VERIFY, Act.SCAN):
            decision = decide(context(s, row, act, now, consent=person), rules_for(["cn"]))
            assert decision.allowed, [f.reason for f in decision.denials]
            assert {"CN-FR-5", "CN-FR-9", "CN-SPC-2"} <= set(decision.rule_ids)
        for act in (Act.ENROLL, Act.VERIFY, Act.IDENTIFY):
            decision = decide(context(s, row, act, now, consent=person), rules_for(["cn"]))
            assert {"CN-FR-6", "CN-PIPL-14"} <= set(decision.rule_ids)
        nobody = context(s, row, Act.VERIFY, now)
        assert [f.rule_id for f in decide(nobody, rules_for(["cn"])).denials] == ["CN-FR-6"]
    # what the decisions allow, the Gate does (through the same door, from the same rows)
    enrolled = gate.enroll(dep.id, "flat-12a", photo("fixtures/obama.jpg"))
    assert {"CN-FR-6", "CN-PIPL-14"} <= set(cites(gate, enrolled.event_id))
    assert gate.verify(dep.id, "flat-12a", photo("fixtures/obama2.jpg")).decision == "match"
    assert gate.identify(dep.id, photo("fixtures/obama3.jpg")).subject_ref == "flat-12a"
    # a child's own consent, stored with their age, is refused until a guardian consents
    with gate.db.transaction() as s:
        held = s.scalar(select(t.Consent).where(t.Consent.deployment_id == dep.id))
        assert held is not None
        held.age_basis, held.subject_age = "stated_age", 12
    with gate.db.read() as s:
        row = s.get(t.Deployment, dep.id)
        held = s.scalar(select(t.Consent).where(t.Consent.deployment_id == dep.id))
        assert row is not None and held is not None
        child = context(s, row, Act.ENROLL, now, consent=consent_facts(held))
    refused = decide(child, rules_for(["cn"]))
    assert [f.rule_id for f in refused.denials] == ["CN-FR-6"]
    assert "guardian" in refused.denials[0].reason


def test_a_deployment_from_before_the_policy_schema_is_brought_up_to_date(
    sqlite_gate: Gate, photo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Registered before 0003: no PIA, NULL new columns, a flat notice lacking the fields now
    required. Its stored facts presume nothing (no capability, the strict reading of every
    declaration) and refuse processing until it is changed with the facts stated and
    signed again; then a consent to the new notice is used."""
    # Such a deployment's events commit to no record document (none existed before), so its
    # row is not held to one; this one, made now and edited back, is let through the same way.
    monkeypatch.setattr("facegate.core.hold_to_record", lambda _s, _dep: None)
    gate = sqlite_gate
    dep = live(gate)
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
        ctx = context(s, row, Act.ENROLL, gate._core.clock())
    assert ctx.deployment.capabilities == frozenset()
    assert ctx.deployment.declarations.alternative_penalty  # unanswered reads strictly
    denied = {f.rule_id for f in decide(ctx, rules_for(["cn"])).denials}
    assert {"CN-FR-9", "CN-SPC-2"} <= denied
    with pytest.raises(PolicyDenied) as stale:  # and the Gate refuses to process
        gate.enroll(dep.id, "flat-12a", photo("fixtures/obama.jpg"))
    assert {"CN-FR-9", "CN-SPC-2"} <= set(stale.value.rule_ids)
    gate.change_deployment(
        dep.id,
        capabilities=["verify", "identify"],
        alternative_penalty=False,
        law_enforcement=False,
    )
    # the assessment is gone with the old schema: the DPO answers it in full and signs
    signed = dpo(gate).sign_pia(dep.id, necessity=NECESSITY, answers=ANSWERS)
    assert signed.notice_version == 2
    consent(gate, dep.id, "flat-12a", notice_version=2)
    with gate.db.read() as s:
        row = s.get(t.Deployment, dep.id)
        held = s.scalar(select(t.Consent).where(t.Consent.deployment_id == dep.id))
        assert row is not None and held is not None
        ctx = context(s, row, Act.ENROLL, gate._core.clock(), consent=consent_facts(held))
    assert decide(ctx, rules_for(["cn"])).allowed
    # brought up to date, the Gate processes again
    assert gate.enroll(dep.id, "flat-12a", photo("fixtures/obama.jpg")).template_id
    assert gate.verify(dep.id, "flat-12a", photo("fixtures/obama2.jpg")).decision == "match"
