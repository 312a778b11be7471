"""The start-up self-check (CN-FR-14, CN-PIPL-69, IND-2019): which security controls this
installation has, decided by the packs its deployments use.

Controls facegate provides by construction are reported as present; those it can inspect
(file modes, the ledger) are inspected; intrusion detection is outside facegate and is
reported as needing the operator's attestation.
"""

from __future__ import annotations

import stat
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from facegate.policy.engine import Decision, decide, rules_for
from facegate.policy.facts import DeploymentFacts, SystemFacts
from facegate.policy.rules import Act, Context

if TYPE_CHECKING:
    from facegate.gate import Gate

MASTER_KEY_FILE = "master.key"


def private(path: Path) -> bool:
    """Only the owner may read or enter ``path`` (True when it does not exist)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return True
    return not mode & (stat.S_IRWXG | stat.S_IRWXO)


def system_facts(gate: Gate) -> SystemFacts:
    home = gate.settings.home.expanduser()
    ledger_ok = gate.verify_ledger().ok
    return SystemFacts(
        controls={
            # templates are sealed (AEAD) under per-person keys; no photo or embedding is kept
            "encryption": True,
            "access_control": private(home) and private(home / MASTER_KEY_FILE),
            # API keys are stored hashed and scoped to one operator
            "authorisation_management": True,
            "security_audit": ledger_ok,
            "intrusion_detection": None,
        },
        ledger_verified=ledger_ok,
    )


def installation(packs: Sequence[str]) -> DeploymentFacts:
    """Stand-in deployment facts for checks about the whole installation."""
    return DeploymentFacts(
        purpose="(the installation)",
        necessity="",
        legal_basis="",
        location_type="",
        alternative="",
        signage=False,
        jurisdiction="+".join(packs),
    )


def self_check(gate: Gate, packs: Sequence[str], *, now: datetime) -> tuple[SystemFacts, Decision]:
    """The controls found, and the packs' decision on starting with them."""
    facts = system_facts(gate)
    ctx = Context(Act.START_SERVICE, installation(packs), now, system=facts)
    return facts, decide(ctx, rules_for(packs))
