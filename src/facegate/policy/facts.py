"""What a rule may know: plain, frozen facts about a deployment, a consent, a transfer ...

Facts are assembled by the flows (``facegate.flows.facts`` from stored rows) and never hold
biometric data. Every legally material fact is a required field: a fact object cannot be
built without it, so no rule can go silent because a caller left something out. Vocabularies
(capabilities, legal bases, consent methods) live here so that rules, flows and the command
line share one spelling.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from facegate._internal.canonical import canonical_json, sha256_hex
from facegate.policy.places import PLACES

#: places where face recognition is banned outright (CN-FR-13); see :mod:`policy.places`
BANNED_LOCATIONS = frozenset(n for n, p in PLACES.items() if p.banned)
#: public places, allowed only for public security with signs (PIPL Art 26, CN-FR-13)
PUBLIC_LOCATIONS = frozenset(n for n, p in PLACES.items() if p.public)
#: places of work or education (EU-AI-5: no emotion recognition there)
WORK_OR_SCHOOL = frozenset(n for n, p in PLACES.items() if p.workplace or p.education)
#: every place type facegate knows; anything else is refused (CN-FR-13, EU-AI-5)
LOCATION_TYPES = frozenset(PLACES)

#: what a deployment may declare it does (its method). ``verify`` and ``identify`` are the
#: acts facegate performs; the others exist so that a deployment can declare them and be
#: refused by EU-AI-5, or be held to EU-AI-12/14 (remote identification).
CAPABILITIES = frozenset(
    {
        "verify",
        "identify",
        "remote_identification",
        "realtime_remote_identification",
        "emotion_recognition",
        "sensitive_trait_inference",
        "untargeted_scraping",
    }
)
#: capabilities that search a gallery (1:N)
SEARCHING = frozenset({"identify", "remote_identification", "realtime_remote_identification"})
REMOTE_IDENTIFICATION = frozenset({"remote_identification", "realtime_remote_identification"})

#: who a 1:N search photographs: only people who chose to use face recognition (they press
#: "use my face" at a kiosk), or whoever is in the camera's view
CAPTURE_MODES = frozenset({"on_request", "in_view"})

#: scopes of CN-FR-2: the Measures cover application use; research/training is outside them
SCOPES = frozenset({"application", "research"})

#: legal bases a deployment may name
LEGAL_BASES = frozenset(
    {
        "consent",  # separate, explicit consent (PIPL Art 29, GDPR Art 9(2)(a))
        "law",  # a law or administrative regulation requires it (PIPL Art 13(3), Measures Art 6)
        "employment_law",  # GDPR Art 9(2)(b)
        "vital_interests",  # GDPR Art 9(2)(c)
        "substantial_public_interest",  # GDPR Art 9(2)(g)
        "contract",  # not enough for biometric data: kept so the refusal can say so
        "legitimate_interest",  # idem
    }
)
CONSENT_BASES = frozenset({"consent"})

#: consent captured without an active, informed act of the person: never explicit
IMPLIED_METHODS = frozenset({"implied", "pre_ticked", "bundled", "continued_use", "signage_only"})
#: a written release in the sense of BIPA 15(b); an electronic signature counts (the
#: Illinois Electronic Commerce Security Act, 5 ILCS 175/5-120)
WRITTEN_METHODS = frozenset({"signed_form", "written_release", "electronic_signature"})
#: explicit, separate, but not written: an "I agree" press or a recorded spoken consent
EXPLICIT_METHODS = WRITTEN_METHODS | {"explicit_click", "recorded_verbal"}
CONSENT_METHODS = EXPLICIT_METHODS | IMPLIED_METHODS
#: other spellings people use for the same method
METHOD_ALIASES = {"e_signature": "electronic_signature", "written": "written_release"}

#: how a person's age was established where the law asks (CN-FR-6: under 14 needs a guardian)
AGE_BASES = frozenset({"stated_age", "adult_attested"})

#: answers that name no alternative at all (CN-FR-10)
NON_ANSWERS = frozenset(
    {
        "",
        "none",
        "no",
        "n/a",
        "na",
        "nothing",
        "nil",
        "null",
        "-",
        "--",
        "tbd",
        "todo",
        "not applicable",
        "no alternative",
        "无",
        "没有",
        "暂无",
        "不适用",
    }
)

#: transfer mechanisms of PIPL Art 38
TRANSFER_MECHANISMS = frozenset({"security_assessment", "standard_contract", "certification"})

#: subject rights of PIPL Art 44-50 / GDPR Art 15-22
RIGHTS = frozenset({"know", "access", "copy", "correct", "delete", "explain", "portability"})
#: grounds of GDPR Art 17(3) on which an erasure may be refused (or deferred by a hold)
ERASURE_EXEMPTIONS = frozenset(
    {"freedom_of_expression", "legal_obligation", "public_health", "archiving", "legal_claims"}
)

#: security controls CN-FR-14 asks for, checked at start-up and daily
CONTROLS = (
    "encryption",
    "access_control",
    "authorisation_management",
    "security_audit",
    "intrusion_detection",
)


@dataclass(frozen=True)
class Declarations:
    """What the operator declares about a deployment beyond its core fields. Every field is
    required where a pack in force reads it (see ``facegate.flows.spec``)."""

    #: the team that assesses and handles risks (IND-2019)
    risk_team: str
    #: the person or office accountable for the deployment (IND-2019)
    accountable: str
    #: the model was tested for bias by sex and age for this population (IND-2019)
    fairness_tested: bool
    #: people may opt out of enrollment (US-WA-19.375)
    opt_out: bool
    #: the alternative costs more or gives a lesser service (CN-FR-12 forbids this)
    alternative_penalty: bool
    #: the deployment is operated by or for law enforcement (EU-AI-5(1)(h))
    law_enforcement: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "risk_team": self.risk_team,
            "accountable": self.accountable,
            "fairness_tested": self.fairness_tested,
            "opt_out": self.opt_out,
            "alternative_penalty": self.alternative_penalty,
            "law_enforcement": self.law_enforcement,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object] | None) -> Declarations:
        """A stored record. Fields a deployment was registered without read as the answer
        that makes the packs stricter (no risk team, not tested, no opt-out, a penalty is
        not ruled out, law enforcement not ruled out)."""
        d = data or {}
        return cls(
            risk_team=str(d.get("risk_team", "")),
            accountable=str(d.get("accountable", "")),
            fairness_tested=bool(d.get("fairness_tested", False)),
            opt_out=bool(d.get("opt_out", False)),
            alternative_penalty=bool(d.get("alternative_penalty", True)),
            law_enforcement=bool(d.get("law_enforcement", True)),
        )


@dataclass(frozen=True)
class PublicSecurity:
    """A public-security basis (PIPL Art 26, Measures Art 13): never a word in a sentence."""

    authority: str
    instrument: str
    area: str

    def missing(self) -> list[str]:
        return [
            name
            for name, value in (
                ("authority", self.authority),
                ("instrument", self.instrument),
                ("area", self.area),
            )
            if len(value.strip()) < 3
        ]

    def to_dict(self) -> dict[str, str]:
        return {"authority": self.authority, "instrument": self.instrument, "area": self.area}


@dataclass(frozen=True)
class PiaFacts:
    """The impact assessment (PIA / DPIA) in force: who signed it, when, and what it covers.
    ``signed_at`` is None while no data protection officer has signed it."""

    signed_at: datetime | None
    signed_by: str
    purpose_sha256: str
    method_sha256: str
    #: parts of the assessment left unanswered (lawfulness, impact, risks ...)
    missing: tuple[str, ...]


@dataclass(frozen=True)
class NoticeFacts:
    """A notice (published or about to be): its version and what it lacks."""

    version: int
    sha256: str
    missing: tuple[str, ...]
    languages: tuple[str, ...]
    plain: bool


@dataclass(frozen=True)
class DeploymentFacts:
    """What a rule may know about a deployment. Every field is required."""

    purpose: str
    necessity: str
    legal_basis: str
    location_type: str
    alternative: str
    signage: bool
    jurisdiction: str
    purpose_sha256: str
    scope: str
    capabilities: frozenset[str]
    #: who a 1:N search photographs (None when the deployment does not search)
    capture: str | None
    retention_days: int
    purpose_ends_at: datetime | None
    #: face data may leave the recognition device (CN-FR-8); each person must agree apart
    egress: bool
    alternative_enabled: bool
    #: draft (awaiting the DPO's signature), live, or ended
    status: str
    controller: str
    controller_contact: str
    dpo: str
    method_sha256: str
    pia: PiaFacts | None
    declarations: Declarations
    public_security: PublicSecurity | None
    scheme: str
    threshold: float


@dataclass(frozen=True)
class ConsentFacts:
    """What a rule may know about a person's consent."""

    notice_version: int
    notice_sha256: str
    purpose_sha256: str
    given_at: datetime
    expires_at: datetime | None
    method: str
    #: asked for on its own, not bundled with other terms (CN-FR-6)
    separate: bool
    #: how the age was established: a stated age, or an attestation of adulthood
    age_basis: str
    subject_age: int | None
    #: given by a parent or guardian (CN-FR-6: required under 14), who is identified
    by_guardian: bool
    guardian_identified: bool
    #: the SHA-256 of the signed form or e-signature record (BIPA 15(b) written release)
    form_sha256: str | None
    withdrawn: bool
    #: a separate consent to the face data leaving the device or the country (CN-FR-8)
    egress: bool
    #: consent to disclose to a named recipient (US-IL-15c, BIPA 15(d))
    disclosure: bool


@dataclass(frozen=True)
class TransferFacts:
    """A disclosure to a recipient (SHARE) or a transfer off the device or abroad (EXPORT)."""

    recipient: str
    people: int
    cross_border: bool
    destination: str
    mechanism: str
    #: people whose face data went abroad this calendar year, this transfer included
    people_abroad_this_year: int
    for_profit: bool
    same_purpose: bool
    agreement_recorded: bool
    terms_irrevocable: bool
    terms_unlimited: bool
    #: re-protected under a key made for this recipient (ISO-24745 unlinkability)
    reprotected: bool


@dataclass(frozen=True)
class ReviewFacts:
    """Acting on a remote-identification match (EU-AI-12, EU-AI-14)."""

    reviewers: tuple[str, ...]
    #: principals who tried to verify without the competence (the reviewer role) to do so
    unqualified: tuple[str, ...]
    input_sha256: str
    reference_database: str
    started_at: datetime | None


@dataclass(frozen=True)
class IncidentFacts:
    """A personal-data breach (CN-PIPL-57, EU-GDPR-33)."""

    detected_at: datetime
    regulator_notified_at: datetime | None
    individuals_notified: bool
    high_risk: bool
    #: measures taken effectively avoid harm (PIPL Art 57: then individuals need no notice)
    harm_avoided: bool
    delay_reason: str


@dataclass(frozen=True)
class RequestFacts:
    """A person's request to exercise a right, and the answer about to be given."""

    right: str
    received_at: datetime
    refused: bool
    reasons: str
    exemption: str


@dataclass(frozen=True)
class RecordFacts:
    """A record about to be deleted: an impact assessment or remote-identification logs."""

    kind: str  # "pia" or "log"
    created_at: datetime


@dataclass(frozen=True)
class SystemFacts:
    """The latest self-check: each control is True (measured present), False (measured
    absent) or None (cannot be measured by software; the operator must attest it)."""

    controls: Mapping[str, bool | None]
    ledger_verified: bool
    #: the key store and master key are kept apart from the data (ISO-24745)
    keys_apart: bool
    checked_at: datetime | None


@dataclass(frozen=True)
class ScaleFacts:
    """How many distinct people the operator holds face data of (CN-FR-15)."""

    people_stored: int
    #: when the current filing obligation started (threshold reached, or a material change)
    clock_started_at: datetime | None
    filed_at: datetime | None


def method_of(
    *,
    location_type: str,
    capabilities: frozenset[str],
    egress: bool,
    scope: str,
    capture: str | None,
) -> dict[str, object]:
    """The processing method, as far as a change of it needs a new impact assessment."""
    return {
        "location_type": location_type,
        "capabilities": sorted(capabilities),
        "egress": egress,
        "scope": scope,
        "capture": capture,
    }


def method_sha256(
    *,
    location_type: str,
    capabilities: frozenset[str],
    egress: bool,
    scope: str,
    capture: str | None,
) -> str:
    return sha256_hex(
        canonical_json(
            method_of(
                location_type=location_type,
                capabilities=capabilities,
                egress=egress,
                scope=scope,
                capture=capture,
            )
        )
    )
