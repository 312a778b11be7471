"""Lawful set-ups for tests: every fact the law asks, given explicitly, as an operator must.

``live(gate, **changes)`` registers a deployment from :data:`CN_SPEC` (with ``changes``) and
has a DPO principal sign its assessment, so that it is live; ``consent(gate, dep, ref,
**changes)`` records a written, separate consent of an adult. Tests that check a refusal
change exactly the fact the rule is about.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest

from facegate.errors import PolicyDenied
from facegate.gate import Gate
from facegate.results import ConsentReceipt, DeploymentInfo

OPERATOR = {
    "name": "Test Property Management",
    "contact": "+86 21 5555 0100",
    "dpo": "Wang Fang, dpo@test.example",
    "email": "privacy@test.example",
}
ANSWERS = {
    "lawfulness": "Residents consent separately and in writing; the card stays for everyone.",
    "impact": "A leak could let someone recognise residents elsewhere; false matches let in "
    "strangers.",
    "risks": "Theft of the database, misuse beyond the gate, pressure to enrol, bias.",
    "safeguards": "Protected, sealed templates; keys apart; every use ledgered; erasure at once.",
    "conclusion": "Proportionate for the stated purpose with these safeguards in place.",
}
NECESSITY = (
    "Key cards are lent, lost and copied; residents asked for hands-free entry, and the "
    "card stays free for everyone who prefers it."
)
#: a lawful deployment under the cn pack: every legally material fact given
CN_SPEC: dict[str, Any] = {
    "name": "Compound gate",
    "purpose": "Residents open the compound gate with their face",
    "location": "residential_compound",
    "alternative": "key card or the staffed gatehouse",
    "jurisdiction": "cn",
    "legal_basis": "consent",
    "retention_days": 365,
    "capabilities": ["verify", "identify"],
    "capture": "on_request",
    "signage": True,
    "alternative_penalty": False,
    "law_enforcement": False,
    "pia": ANSWERS,
}
#: what each pack adds on top of CN_SPEC to be lawful
PACK_SPEC: dict[str, dict[str, Any]] = {
    "cn": {},
    "eu": {"jurisdiction": "eu"},
    "us-il": {"jurisdiction": "us-il", "retention_days": 365},
    "us-tx": {"jurisdiction": "us-tx"},
    "us-wa": {"jurisdiction": "us-wa"},
    "cn+ind-2019": {
        "jurisdiction": "cn+ind-2019",
        "risk_team": "security office",
        "accountable": "head of property management",
        "fairness_tested": True,
    },
}


def form(tag: str = "form") -> str:
    """The SHA-256 of a (pretend) signed consent form."""
    return hashlib.sha256(f"signed consent form: {tag}".encode()).hexdigest()


def dpo(gate: Gate) -> Gate:
    """The gate acting as a DPO of the gate's operator (created once per installation)."""
    # Keyed by operator: a view of the gate acting for another operator copies attributes.
    cache: dict[str, Gate] = getattr(gate, "_test_dpos", {})
    cached = cache.get(gate.actor.operator_id)
    if cached is None:
        names = {p.name for p in gate.list_principals()}
        name = "Test DPO" if "Test DPO" not in names else f"Test DPO {len(names)}"
        cached = gate.acting_as(gate.create_principal(name, "dpo").api_key.key)
        gate._test_dpos = {**cache, gate.actor.operator_id: cached}  # type: ignore[attr-defined]
    return cached


def prepare_operator(gate: Gate) -> None:
    if not gate.operator().contact:
        gate.set_operator(**OPERATOR)


def draft(gate: Gate, **changes: Any) -> DeploymentInfo:
    prepare_operator(gate)
    return gate.create_deployment(**{**CN_SPEC, **changes})


def sign(gate: Gate, deployment_id: str) -> DeploymentInfo:
    return dpo(gate).sign_pia(deployment_id, necessity=NECESSITY, answers=None)


def live(gate: Gate, **changes: Any) -> DeploymentInfo:
    """A live deployment: registered from CN_SPEC with ``changes`` and signed by a DPO."""
    return sign(gate, draft(gate, **changes).id)


def consent(gate: Gate, deployment_id: str, ref: str, **changes: Any) -> ConsentReceipt:
    """A written, separate consent of an adult, shown the notice in force."""
    terms: dict[str, Any] = {
        "method": "signed_form",
        "form_sha256": form(ref),
        "adult_attested": True,
    }
    return gate.give_consent(deployment_id, ref, **{**terms, **changes})


def refused(gate: Gate, rule_id: str, act: Callable[[], object]) -> PolicyDenied:
    """Run ``act``; it must be refused citing ``rule_id``, and the refusal ledgered."""
    before = gate.counts()["ledger_entries"]
    with pytest.raises(PolicyDenied) as caught:
        act()
    assert rule_id in caught.value.rule_ids, caught.value.to_dict()
    assert caught.value.advice, "a refusal says what to do next"
    entries = [gate.ledger_entry(i) for i in range(before, gate.counts()["ledger_entries"])]
    leaves = [json.loads(e.data) for e in entries]
    assert any(leaf["kind"] == "policy.denied" and rule_id in leaf["rules"] for leaf in leaves), (
        f"no ledgered refusal citing {rule_id}: {leaves}"
    )
    return caught.value


def cites(gate: Gate, event_id: str) -> list[str]:
    """The rule ids a ledger event cites."""
    size = gate.counts()["ledger_entries"]
    for i in range(size - 1, -1, -1):
        leaf = json.loads(gate.ledger_entry(i).data)
        if leaf["id"] == event_id:
            return list(leaf["rules"])
    raise AssertionError(f"no ledger event {event_id}")
