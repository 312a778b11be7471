"""Complete facts of a lawful deployment, and the check every rule case goes through.

The fact objects have no defaults (a rule must never go silent on a fact nobody gave), so
every case starts from a complete, lawful set built here and changes exactly the fact it is
about: ``deployment_facts(**changes)``, ``consent_facts(**changes)``, ``transfer_facts(...)``
and so on. ``deployment_facts`` rebinds the purpose and method hashes and (unless
``stale_pia``) a DPO-signed impact assessment to the changed deployment, so that a case
changes only what it means to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from facegate._internal.canonical import sha256_hex
from facegate.errors import PolicyDenied
from facegate.policy import (
    Act,
    ConsentFacts,
    Context,
    Declarations,
    DeploymentFacts,
    IncidentFacts,
    NoticeFacts,
    PiaFacts,
    RequestFacts,
    ReviewFacts,
    Rule,
    ScaleFacts,
    SystemFacts,
    TransferFacts,
    decide,
)
from facegate.policy.facts import method_sha256

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)  # a Monday
PURPOSE = "Residents open the compound gate by face"
NECESSITY = "Key cards are lent and lost; residents asked for hands-free entry"
REG = Act.REGISTER_DEPLOYMENT
LIVE = Act.ACTIVATE_DEPLOYMENT

#: what a lawful operator declares (each pack reads some of these)
DECLARATIONS = Declarations(
    risk_team="Risk office",
    accountable="DPO Li",
    fairness_tested=True,
    opt_out=False,
    alternative_penalty=False,
    law_enforcement=False,
)


def _bound(d: DeploymentFacts) -> DeploymentFacts:
    return replace(
        d,
        purpose_sha256=sha256_hex(d.purpose),
        method_sha256=method_sha256(
            location_type=d.location_type,
            capabilities=d.capabilities,
            egress=d.egress,
            scope=d.scope,
            capture=d.capture,
        ),
    )


def pia_facts(d: DeploymentFacts, **changes: Any) -> PiaFacts:
    """An assessment of ``d`` as it stands, answered in full and signed by a DPO yesterday."""
    fields: dict[str, Any] = {
        "signed_at": NOW - timedelta(days=1),
        "signed_by": "pr_dpo_li",
        "purpose_sha256": d.purpose_sha256,
        "method_sha256": d.method_sha256,
        "missing": (),
    }
    return PiaFacts(**{**fields, **changes})


def _assessed(d: DeploymentFacts) -> DeploymentFacts:
    return replace(d, pia=pia_facts(d))


#: a live deployment, lawful under every pack: signs posted, a capture mode for identify,
#: the operator named with a contact and DPO, the assessment signed, a calibrated threshold
BASE = _assessed(
    _bound(
        DeploymentFacts(
            purpose=PURPOSE,
            necessity=NECESSITY,
            legal_basis="consent",
            location_type="residential_compound",
            alternative="key card",
            signage=True,
            jurisdiction="cn",
            purpose_sha256="",
            scope="application",
            capabilities=frozenset({"verify", "identify"}),
            capture="on_request",
            retention_days=365,
            purpose_ends_at=None,
            egress=False,
            alternative_enabled=True,
            status="live",
            controller="Sunny Gardens Property",
            controller_contact="privacy@sunny.example",
            dpo="DPO Li, dpo@sunny.example",
            method_sha256="",
            pia=None,
            declarations=DECLARATIONS,
            public_security=None,
            scheme="biohash-v1:4096",
            threshold=0.8,
        )
    )
)
CONSENT = ConsentFacts(
    notice_version=1,
    notice_sha256="n1",
    purpose_sha256=sha256_hex(PURPOSE),
    given_at=NOW - timedelta(days=1),
    expires_at=None,
    method="signed_form",
    separate=True,
    age_basis="adult_attested",
    subject_age=None,
    by_guardian=False,
    guardian_identified=False,
    form_sha256="f0" * 32,
    withdrawn=False,
    egress=False,
    disclosure=False,
)
NOTICE = NoticeFacts(version=1, sha256="n1", missing=(), languages=("en", "zh-CN"), plain=True)
SYSTEM = SystemFacts(
    controls={
        "encryption": True,
        "access_control": True,
        "authorisation_management": True,
        "security_audit": True,
        "intrusion_detection": None,
    },
    ledger_verified=True,
    keys_apart=True,
    checked_at=NOW - timedelta(hours=1),
)
TRANSFER = TransferFacts(
    recipient="Acme Security Ltd",
    people=1,
    cross_border=False,
    destination="",
    mechanism="",
    people_abroad_this_year=0,
    for_profit=False,
    same_purpose=True,
    agreement_recorded=True,
    terms_irrevocable=False,
    terms_unlimited=False,
    reprotected=True,
)


def deployment_facts(*, stale_pia: bool = False, **changes: Any) -> DeploymentFacts:
    """:data:`BASE` with ``changes``; its assessment follows the change unless ``stale_pia``
    (the assessment then covers the deployment as it was) or ``pia`` is given."""
    d = _bound(replace(BASE, **changes))
    if "pia" in changes or stale_pia:
        return d
    return _assessed(d)


def declarations(**changes: Any) -> Declarations:
    return replace(DECLARATIONS, **changes)


def consent_facts(**changes: Any) -> ConsentFacts:
    """A written, separate consent of an adult to notice v1, given yesterday."""
    return replace(CONSENT, **changes)


def notice_facts(**changes: Any) -> NoticeFacts:
    """Notice v1: complete, in English and Chinese, with a plain version."""
    return replace(NOTICE, **changes)


def system_facts(*, ledger_verified: bool = True, **controls: bool | None) -> SystemFacts:
    """The latest self-check, with ``controls`` changed."""
    return replace(
        SYSTEM, controls={**SYSTEM.controls, **controls}, ledger_verified=ledger_verified
    )


def transfer_facts(**changes: Any) -> TransferFacts:
    """A disclosure on the device's own terms: recorded, same purpose, re-protected."""
    return replace(TRANSFER, **changes)


def review_facts(*reviewers: str, **changes: Any) -> ReviewFacts:
    """A remote-identification match verified by ``reviewers`` (principals)."""
    fields: dict[str, Any] = {
        "reviewers": reviewers,
        "unqualified": (),
        "input_sha256": "ab" * 32,
        "reference_database": "deployment dep_x gallery",
        "started_at": NOW - timedelta(minutes=5),
    }
    return ReviewFacts(**{**fields, **changes})


def incident_facts(**changes: Any) -> IncidentFacts:
    """A high-risk breach detected now, nobody notified yet."""
    fields: dict[str, Any] = {
        "detected_at": NOW,
        "regulator_notified_at": None,
        "individuals_notified": False,
        "high_risk": True,
        "harm_avoided": False,
        "delay_reason": "",
    }
    return IncidentFacts(**{**fields, **changes})


def request_facts(right: str, **changes: Any) -> RequestFacts:
    """A request received now, answered (not refused) with reasons."""
    fields: dict[str, Any] = {
        "right": right,
        "received_at": NOW,
        "refused": False,
        "reasons": "Done on 1 June; the receipt is attached to this answer.",
        "exemption": "",
    }
    return RequestFacts(**{**fields, **changes})


def scale_facts(people: int, **changes: Any) -> ScaleFacts:
    """``people`` held, no filing clock started, nothing filed."""
    fields: dict[str, Any] = {"people_stored": people, "clock_started_at": None, "filed_at": None}
    return ScaleFacts(**{**fields, **changes})


def ctx(act: Act, **kw: Any) -> Context:
    """``act`` on the lawful deployment, by a person who consented to the notice in force."""
    base: dict[str, Any] = {
        "act": act,
        "deployment": deployment_facts(),
        "now": NOW,
        "consent": CONSENT,
        "notice": NOTICE,
    }
    base.update(kw)
    return Context(**base)


Case = tuple[str, Context, Context]


def check_case(rule_id: str, rules: Sequence[Rule], allowed: Context, denied: Context) -> None:
    """The allowed context passes every rule and cites ``rule_id``; the denied one is refused
    by ``rule_id`` with a reason and advice, and the raised error names it."""
    ok = decide(allowed, rules)
    assert ok.allowed, [f.reason for f in ok.denials]
    assert rule_id in ok.rule_ids
    no = decide(denied, rules)
    assert not no.allowed
    finding = next((f for f in no.denials if f.rule_id == rule_id), None)
    assert finding is not None, f"{rule_id} not among {[f.rule_id for f in no.denials]}"
    assert finding.reason and finding.advice
    with pytest.raises(PolicyDenied) as raised:
        no.raise_if_denied()
    assert rule_id in raised.value.rule_ids
    assert f"[{no.denials[0].rule_id}]" in str(raised.value)


def case_ids(cases: Sequence[Case]) -> list[str]:
    return [f"{c[0]}-{i}" for i, c in enumerate(cases)]
