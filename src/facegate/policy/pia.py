"""Impact assessments (PIA, CN-FR-9 / PIPL Art 55-56; DPIA, EU-GDPR-35).

An assessment answers PIPL Art 56's three questions: is the purpose and method lawful,
legitimate and necessary; what is the impact on people and the risk to their security;
are the safeguards lawful, effective and proportionate. People write it: the operator's
staff answer the parts, the data protection officer writes the necessity statement and signs.
It is bound to the purpose and the method it assessed (by hash), so that a change of either
voids the signature. Nothing here drafts an answer.
"""

from __future__ import annotations

from collections.abc import Mapping

from facegate._internal.canonical import canonical_json, sha256_hex
from facegate.policy.facts import DeploymentFacts, method_of

#: CN-FR-9: an assessment is kept at least this long
KEPT_YEARS = 3
#: the parts people write, in the order a reader meets them
PIA_FIELDS = ("lawfulness", "necessity", "impact", "risks", "safeguards", "conclusion")
#: an answer shorter than this says nothing (characters)
MIN_ANSWER = 20
#: nor one written with fewer different letters than this ("xxxx…", "N/A N/A …", "-----");
#: counted in any script (a Chinese answer has many)
MIN_LETTERS = 8


def missing_answers(body: Mapping[str, object]) -> list[str]:
    """The parts of an assessment left unanswered: absent, too short or too bare to say
    anything, or a copy of an earlier part (each part answers its own question)."""
    missing: list[str] = []
    seen: set[str] = set()
    for name in PIA_FIELDS:
        text = str(body.get(name) or "").strip()
        same = " ".join(text.casefold().split())
        letters = {c for c in same if c.isalpha()}
        if len(text) < MIN_ANSWER or len(letters) < MIN_LETTERS or same in seen:
            missing.append(name)
        seen.add(same)
    return missing


def pia_sha256(body: Mapping[str, object], facts: DeploymentFacts) -> str:
    """The hash of an assessment together with what it assessed."""
    return sha256_hex(
        canonical_json(
            {
                "assessment": dict(body),
                "purpose_sha256": facts.purpose_sha256,
                "method": method_of(
                    location_type=facts.location_type,
                    capabilities=facts.capabilities,
                    egress=facts.egress,
                    scope=facts.scope,
                    capture=facts.capture,
                ),
            }
        )
    )
