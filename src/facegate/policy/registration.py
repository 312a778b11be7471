"""What a deployment's registration declares, as facts the packs can judge.

Pure functions (no store, no clock): checking the vocabulary, filling the safe defaults of
the short flow (each default named in ``notes``), building the facts and the notice draft,
and turning decisions into the notes an operator reads. Used by
:mod:`facegate.flows.deployments`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from facegate._internal.canonical import sha256_hex
from facegate.consent.notices import LANGUAGES, NoticeDraft
from facegate.errors import InvalidInput
from facegate.policy.engine import Decision
from facegate.policy.facts import (
    CAPABILITIES,
    DEFAULT_CAPABILITIES,
    LEGAL_BASES,
    LOCATION_TYPES,
    SCOPES,
    Declarations,
    DeploymentFacts,
    method_sha256,
)
from facegate.policy.retention import PRODUCT_MAX_DAYS, default_retention_days

#: what may change in place; a new purpose is a new deployment
CHANGEABLE = (
    "capabilities",
    "location_type",
    "signage",
    "egress",
    "alternative",
    "necessity",
    "retention_days",
    "declarations",
)


def check_vocabulary(*, location: str, scope: str, legal_basis: str | None) -> None:
    """Refuse words facegate does not know (a rule then judges the known ones)."""
    if location not in LOCATION_TYPES:
        raise InvalidInput(
            f"unknown location type {location!r}",
            advice="Choose one of: " + ", ".join(sorted(LOCATION_TYPES)),
        )
    if scope not in SCOPES:
        raise InvalidInput(
            f"unknown scope {scope!r}", advice="Choose one of: " + ", ".join(sorted(SCOPES))
        )
    if legal_basis is not None and legal_basis not in LEGAL_BASES:
        raise InvalidInput(
            f"unknown legal basis {legal_basis!r}",
            advice="Choose one of: " + ", ".join(sorted(LEGAL_BASES)),
        )


def declared_capabilities(capabilities: Iterable[str] | None, notes: list[str]) -> frozenset[str]:
    if capabilities is None:
        notes.append("capabilities: verify and identify (what facegate does); declare fewer")
        return DEFAULT_CAPABILITIES
    caps = frozenset(c.strip() for c in capabilities if c.strip())
    unknown = sorted(caps - CAPABILITIES)
    if unknown:
        raise InvalidInput(
            f"unknown capabilities: {', '.join(unknown)}",
            advice="Choose from: " + ", ".join(sorted(CAPABILITIES)),
        )
    if not caps:
        raise InvalidInput("a deployment must declare at least one capability")
    return caps


def retention_days_for(
    days: int | None, packs: Sequence[str], jurisdiction: str, notes: list[str]
) -> int:
    if days is None:
        days = default_retention_days(packs)
        notes.append(
            f"retention set to {days} days, the default the packs ({jurisdiction}) allow; "
            "shorten it if the purpose needs less"
        )
    check_retention(days)
    return days


def check_retention(days: int) -> None:
    if not 1 <= days <= PRODUCT_MAX_DAYS:
        raise InvalidInput(f"retention must be between 1 and {PRODUCT_MAX_DAYS} days")


def necessity_statement(
    necessity: str | None, purpose: str, alternative: str, notes: list[str]
) -> str:
    if necessity is not None and necessity.strip():
        return necessity.strip()
    notes.append("necessity statement drafted from the purpose and alternative; review it")
    return (
        f"Face recognition is used only to: {purpose}. People who do not want "
        f"it can use: {alternative}."
    )


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
        ),
    )


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
    retention_days: int,
    purpose_ends_at: datetime | None,
    egress: bool,
    controller: str,
    controller_contact: str,
    declarations: Declarations,
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
            complete=True,
            scope=scope,
            capabilities=capabilities,
            retention_days=retention_days,
            purpose_ends_at=purpose_ends_at,
            egress=egress,
            alternative_enabled=True,
            status="active",
            controller=controller,
            controller_contact=controller_contact,
            declarations=declarations,
        )
    )


def notice_draft(
    facts: DeploymentFacts,
    *,
    retention_days: int,
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
        purpose=facts.purpose,
        necessity=facts.necessity,
        retention_days=retention_days,
        alternative=facts.alternative,
        location_type=facts.location_type,
        legal_basis=facts.legal_basis,
        capabilities=facts.capabilities,
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
