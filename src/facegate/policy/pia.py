"""Impact assessments (PIA, CN-FR-9 / PIPL Art 55-56; DPIA, EU-GDPR-35).

An assessment answers PIPL Art 56's three questions: is the purpose and method lawful,
legitimate and necessary; what is the impact on people and the risk to their security;
are the safeguards lawful, effective and proportionate. It is bound to the purpose and the
method it assessed (by hash), so that a change of either needs a new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from facegate._internal.canonical import canonical_json, sha256_hex
from facegate.errors import InvalidInput
from facegate.policy.facts import DeploymentFacts, PiaFacts, method_of

#: CN-FR-9: an assessment is kept at least this long
KEPT_YEARS = 3
PIA_FIELDS = ("lawfulness", "necessity", "impact", "risks", "safeguards", "conclusion")


@dataclass(frozen=True)
class PiaDraft:
    """An impact assessment as the operator writes (or confirms) it."""

    lawfulness: str
    necessity: str
    impact: str
    risks: str
    safeguards: str
    conclusion: str

    def body(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in PIA_FIELDS}

    def missing(self) -> list[str]:
        return [name for name, value in self.body().items() if not value.strip()]


def draft_pia(facts: DeploymentFacts) -> PiaDraft:
    """A PIA drafted from the deployment's own fields, for the operator to confirm."""
    caps = ", ".join(sorted(facts.capabilities))
    where = facts.location_type.replace("_", " ")
    transfers = (
        "Templates may leave the device, each only with the person's separate consent."
        if facts.egress
        else "Templates never leave this installation."
    )
    return PiaDraft(
        lawfulness=(
            f"Purpose: {facts.purpose}. Legal basis: {facts.legal_basis}. Method: {caps} at a "
            f"{where}. Packs applied: {facts.jurisdiction}; registration passed every rule."
        ),
        necessity=facts.necessity,
        impact=(
            "Face data is sensitive: misuse could identify people without their knowledge, "
            "and a face cannot be changed once leaked. People who refuse use: "
            f"{facts.alternative}, at no cost."
        ),
        risks=(
            "Leak or theft of templates; use beyond the stated purpose; matching errors "
            "(false accepts, false rejects, unequal error rates); pressure to consent."
        ),
        safeguards=(
            "No photo or raw embedding is stored; templates are protected (keyed per "
            "deployment, non-invertible, revocable) and encrypted per person; erasure "
            "destroys the key; every act and refusal is written to a signed, tamper-evident "
            f"ledger. Retention: {facts.retention_days} days at most. {transfers}"
        ),
        conclusion=(
            "Proportionate to the purpose with these safeguards, provided the alternative "
            "stays enabled and the purpose and method do not change without a new assessment."
        ),
    )


def pia_sha256(body: dict[str, str], facts: DeploymentFacts) -> str:
    """The hash of an assessment together with what it assessed."""
    return sha256_hex(
        canonical_json(
            {
                "assessment": body,
                "purpose_sha256": facts.purpose_sha256,
                "method": method_of(
                    location_type=facts.location_type,
                    capabilities=facts.capabilities,
                    egress=facts.egress,
                    scope=facts.scope,
                ),
            }
        )
    )


def assess(
    facts: DeploymentFacts,
    *,
    pia: PiaDraft | None,
    confirmer: str,
    now: datetime,
    notes: list[str],
) -> tuple[PiaDraft, PiaFacts]:
    """The assessment to record for ``facts``: the operator's, or one drafted from the
    deployment's fields and confirmed by ``confirmer`` (said in ``notes``)."""
    drafted = pia is None
    if pia is None:
        pia = draft_pia(facts)
        notes.append(
            f"impact assessment (PIA/DPIA) drafted from the given fields and confirmed by "
            f"{confirmer}, who ran this; review it and keep it {KEPT_YEARS} years"
        )
    missing = pia.missing()
    if missing:
        raise InvalidInput(
            "the impact assessment lacks " + ", ".join(missing),
            advice="Answer every part: lawfulness, necessity, impact, risks, safeguards and a "
            "conclusion.",
        )
    return pia, PiaFacts(
        completed_at=now,
        purpose_sha256=facts.purpose_sha256,
        method_sha256=facts.method_sha256,
        confirmed_by=confirmer,
        drafted=drafted,
    )
