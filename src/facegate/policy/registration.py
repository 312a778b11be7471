"""What a deployment's registration declares, as facts the packs can judge.

Pure functions (no store, no clock): checking the vocabulary, building the facts and the
notice draft from what the caller said, and turning decisions into the notes an operator
reads. Nothing is filled in for the caller; see :mod:`facegate.specs`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from facegate._internal.canonical import sha256_hex
from facegate.consent.notices import LANGUAGES, NoticeDraft
from facegate.errors import InvalidInput
from facegate.policy.engine import Decision
from facegate.policy.facts import (
    CAPABILITIES,
    LEGAL_BASES,
    SEARCHING,
    Declarations,
    DeploymentFacts,
    PiaFacts,
    PublicSecurity,
    method_sha256,
)

#: what a change may touch; every change voids the DPO's signature until signed again
CHANGEABLE = (
    "purpose",
    "capabilities",
    "capture",
    "location_type",
    "signage",
    "egress",
    "alternative",
    "retention_days",
    "declarations",
    "public_security",
    "threshold",
)


def check_vocabulary(*, capabilities: Iterable[str], legal_basis: str) -> frozenset[str]:
    """Refuse words facegate does not know (the packs then judge the known ones); returns the
    declared capabilities."""
    caps = frozenset(c.strip() for c in capabilities if c.strip())
    unknown = sorted(caps - CAPABILITIES)
    if unknown:
        raise InvalidInput(
            f"unknown capabilities: {', '.join(unknown)}",
            advice="Choose from: " + ", ".join(sorted(CAPABILITIES)),
        )
    if not caps:
        raise InvalidInput(
            "a deployment must declare at least one capability (CN-SPC-2)",
            advice="Declare what it does: verify, identify, remote_identification ...",
        )
    if legal_basis not in LEGAL_BASES:
        raise InvalidInput(
            f"unknown legal basis {legal_basis!r}",
            advice="Choose one of: " + ", ".join(sorted(LEGAL_BASES)),
        )
    return caps


def check_capture(caps: frozenset[str], capture: str | None) -> str | None:
    """The capture mode a searching deployment must declare; none for one that does not."""
    if caps & SEARCHING:
        if capture is None:
            raise InvalidInput(
                "a deployment that searches (identify) must say who it photographs: capture "
                "(CN-FR-5, EU-GDPR-9, US-IL-15b)",
                advice="'on_request': only people who ask to use it; 'in_view': anyone in view.",
            )
        return capture
    return None


def rebound(facts: DeploymentFacts) -> DeploymentFacts:
    """``facts`` with its purpose and method hashes recomputed."""
    return replace(
        facts,
        purpose_sha256=sha256_hex(facts.purpose),
        method_sha256=method_sha256(
            location_type=facts.location_type,
            capabilities=facts.capabilities,
            egress=facts.egress,
            scope=facts.scope,
            capture=facts.capture,
        ),
    )


@dataclass(frozen=True)
class Controller:
    """What the deployment's facts say about its operator."""

    name: str
    contact: str
    dpo: str


def registration_facts(
    *,
    purpose: str,
    necessity: str,
    legal_basis: str,
    location: str,
    alternative: str,
    signage: bool,
    jurisdiction: str,
    scope: str,
    capabilities: frozenset[str],
    capture: str | None,
    retention_days: int,
    purpose_ends_at: datetime | None,
    egress: bool,
    controller: Controller,
    declarations: Declarations,
    public_security: PublicSecurity | None,
    scheme: str,
    threshold: float,
    pia: PiaFacts | None,
) -> DeploymentFacts:
    if purpose_ends_at is not None and purpose_ends_at.tzinfo is None:
        purpose_ends_at = purpose_ends_at.replace(tzinfo=UTC)
    return rebound(
        DeploymentFacts(
            purpose=purpose,
            necessity=necessity,
            legal_basis=legal_basis,
            location_type=location,
            alternative=alternative,
            signage=signage,
            jurisdiction=jurisdiction,
            purpose_sha256="",
            scope=scope,
            capabilities=capabilities,
            capture=capture,
            retention_days=retention_days,
            purpose_ends_at=purpose_ends_at,
            egress=egress,
            alternative_enabled=True,
            status="draft",
            controller=controller.name,
            controller_contact=controller.contact,
            dpo=controller.dpo,
            method_sha256="",
            pia=pia,
            declarations=declarations,
            public_security=public_security,
            scheme=scheme,
            threshold=threshold,
        )
    )


def notice_draft(
    facts: DeploymentFacts,
    *,
    translations: Mapping[str, Mapping[str, str]] | None = None,
) -> NoticeDraft:
    """The notice of a deployment; the processor is its controller."""
    unknown = sorted(set(translations or {}) - set(LANGUAGES))
    if unknown:
        raise InvalidInput(
            f"notices are published in {', '.join(LANGUAGES)}, not {', '.join(unknown)}"
        )
    return NoticeDraft(
        processor=facts.controller,
        contact=facts.controller_contact,
        dpo=facts.dpo,
        purpose=facts.purpose,
        necessity=facts.necessity,
        retention_days=facts.retention_days,
        alternative=facts.alternative,
        location_type=facts.location_type,
        legal_basis=facts.legal_basis,
        capabilities=facts.capabilities,
        capture=facts.capture,
        egress=facts.egress,
        jurisdiction=facts.jurisdiction,
        localized=translations or {},
    )


def rule_ids_of(*decisions: Decision) -> tuple[str, ...]:
    return tuple(dict.fromkeys(rid for d in decisions for rid in d.rule_ids))


def obligation_notes(*decisions: Decision) -> list[str]:
    """``must: <what> (<date>) [<rule>]`` for each obligation, once."""
    seen: dict[str, None] = {}
    for d in decisions:
        for o in d.obligations:
            due = f" ({o.due.date()})" if o.due else ""
            seen[f"must: {o.text}{due} [{o.rule_id}]"] = None
    return list(seen)


def changed_fields(before: DeploymentFacts, after: DeploymentFacts) -> list[str]:
    return [n for n in CHANGEABLE if getattr(before, n) != getattr(after, n)]
