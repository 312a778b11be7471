"""Facts of a lawful deployment, and the check every rule case goes through.

``dep(**changes)`` rebinds the purpose and method hashes and (unless ``stale_pia``) an
impact assessment to the changed deployment, so that a case changes only what it means to.
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
    NoticeFacts,
    PiaFacts,
    Rule,
    SystemFacts,
    TransferFacts,
    decide,
)
from facegate.policy.facts import method_sha256

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)  # a Monday
PURPOSE = "Residents open the compound gate by face"
REG = Act.REGISTER_DEPLOYMENT
LIVE = Act.ACTIVATE_DEPLOYMENT


def _bound(d: DeploymentFacts) -> DeploymentFacts:
    return replace(
        d,
        purpose_sha256=sha256_hex(d.purpose),
        method_sha256=method_sha256(
            location_type=d.location_type,
            capabilities=d.capabilities,
            egress=d.egress,
            scope=d.scope,
        ),
    )


def _assessed(d: DeploymentFacts) -> DeploymentFacts:
    return replace(
        d,
        pia=PiaFacts(
            completed_at=NOW - timedelta(days=1),
            purpose_sha256=d.purpose_sha256,
            method_sha256=d.method_sha256,
            confirmed_by="DPO Li",
        ),
    )


BASE = _assessed(
    _bound(
        DeploymentFacts(
            purpose=PURPOSE,
            necessity="Key cards are lent and lost; residents asked for hands-free entry",
            legal_basis="consent",
            location_type="residential_compound",
            alternative="key card",
            signage=False,
            jurisdiction="cn",
            complete=True,
            capabilities=frozenset({"verify", "identify"}),
            retention_days=365,
            controller="Sunny Gardens Property",
            controller_contact="privacy@sunny.example",
            declarations=Declarations(
                risk_team="Risk office", accountable="DPO Li", fairness_tested=True
            ),
        )
    )
)
CONSENT = ConsentFacts(
    notice_version=1,
    notice_sha256="n1",
    purpose_sha256=sha256_hex(PURPOSE),
    given_at=NOW - timedelta(days=1),
    expires_at=None,
)
NOTICE = NoticeFacts(version=1, sha256="n1", languages=("en", "zh-CN"), plain=True)
SYSTEM = SystemFacts(
    controls={
        "encryption": True,
        "access_control": True,
        "authorisation_management": True,
        "security_audit": True,
        "intrusion_detection": None,
    },
    ledger_verified=True,
)
TRANSFER = TransferFacts(recipient="Acme Security Ltd")


def dep(*, stale_pia: bool = False, **changes: Any) -> DeploymentFacts:
    d = _bound(replace(BASE, **changes))
    if "pia" in changes or stale_pia:
        return d
    return _assessed(d)


def consent(**changes: Any) -> ConsentFacts:
    return replace(CONSENT, **changes)


def ctx(act: Act, **kw: Any) -> Context:
    base: dict[str, Any] = {
        "act": act,
        "deployment": dep(),
        "now": NOW,
        "consent": CONSENT,
        "notice": NOTICE,
        "current_notice_sha256": "n1",
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
