"""What a rule may know: plain, frozen facts about a deployment, a consent, a transfer ...

Facts are built by the flows (or by :mod:`facegate.policy.stored` from database rows) and
never hold biometric data. Vocabularies (capabilities, legal bases, consent methods) live
here so that rules, flows and the command line share one spelling.

Fields past ``purpose_sha256`` of :class:`DeploymentFacts` have defaults so that callers
written before them keep working; ``complete`` says whether they were really supplied. On
processing acts the rules about them are consulted only when ``complete`` is true (and so
not cited otherwise); at registration and go-live the flows always supply them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from facegate._internal.canonical import canonical_json, sha256_hex

#: places where face recognition is banned outright (CN-FR-13)
BANNED_LOCATIONS = frozenset({"hotel_room", "bathroom", "changing_room", "toilet"})
#: public places, allowed only for public security with signs (CN-FR-13)
PUBLIC_LOCATIONS = frozenset({"public_place", "street", "transport_hub", "public_square"})
#: places of work or education (EU-AI-5: no emotion recognition there)
WORK_OR_SCHOOL = frozenset({"office", "workplace", "school"})
#: location types a deployment may declare
LOCATION_TYPES = frozenset(
    {
        "residential_compound",
        "office",
        "workplace",
        "bank",
        "venue",
        "shop",
        "school",
        "hospital",
        "device",
        "online",
    }
    | BANNED_LOCATIONS
    | PUBLIC_LOCATIONS
)

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
#: what the short flow declares when the caller says nothing: what facegate itself does
DEFAULT_CAPABILITIES = frozenset({"verify", "identify"})
REMOTE_IDENTIFICATION = frozenset({"remote_identification", "realtime_remote_identification"})

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
#: a written release in the sense of BIPA 15(b) (an electronic signature counts)
WRITTEN_METHODS = frozenset({"signed_form", "e_signature", "written", "written_release"})

#: transfer mechanisms of PIPL Art 38
TRANSFER_MECHANISMS = frozenset({"security_assessment", "standard_contract", "certification"})

#: subject rights of PIPL Art 44-50 / GDPR Art 15-22
RIGHTS = frozenset({"know", "access", "copy", "correct", "delete", "explain", "portability"})
#: grounds of GDPR Art 17(3) on which an erasure request may be refused
ERASURE_EXEMPTIONS = frozenset(
    {"freedom_of_expression", "legal_obligation", "public_health", "archiving", "legal_claims"}
)

#: security controls CN-FR-14 asks for, checked at start-up
CONTROLS = (
    "encryption",
    "access_control",
    "authorisation_management",
    "security_audit",
    "intrusion_detection",
)


@dataclass(frozen=True)
class Declarations:
    """What the operator declares about a deployment beyond its core fields."""

    #: the team that assesses and handles risks (IND-2019)
    risk_team: str = ""
    #: the person or office accountable for the deployment (IND-2019)
    accountable: str = ""
    #: the model was tested for bias by sex and age for this population (IND-2019)
    fairness_tested: bool = False
    #: people may opt out of enrollment (US-WA-19.375)
    opt_out: bool = False
    #: the alternative costs more or gives a lesser service (CN-FR-12 forbids this)
    alternative_penalty: bool = False
    #: the deployment is operated by or for law enforcement (EU-AI-5(1)(h))
    law_enforcement: bool = False

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
        d = data or {}
        return cls(
            risk_team=str(d.get("risk_team", "")),
            accountable=str(d.get("accountable", "")),
            fairness_tested=bool(d.get("fairness_tested", False)),
            opt_out=bool(d.get("opt_out", False)),
            alternative_penalty=bool(d.get("alternative_penalty", False)),
            law_enforcement=bool(d.get("law_enforcement", False)),
        )


@dataclass(frozen=True)
class PiaFacts:
    """The latest completed impact assessment (PIA / DPIA) of a deployment."""

    completed_at: datetime
    purpose_sha256: str
    method_sha256: str
    confirmed_by: str
    drafted: bool = False


@dataclass(frozen=True)
class NoticeFacts:
    """The current notice: its version and what it lacks."""

    version: int
    sha256: str
    missing: tuple[str, ...] = ()
    languages: tuple[str, ...] = ("en",)
    plain: bool = True


@dataclass(frozen=True)
class DeploymentFacts:
    """What a rule may know about a deployment."""

    purpose: str
    necessity: str
    legal_basis: str
    location_type: str
    alternative: str
    signage: bool
    jurisdiction: str
    purpose_sha256: str = ""
    #: True when every field below was supplied (built from the full stored record);
    #: processing-time rules about them are consulted only then
    complete: bool = False
    scope: str = "application"
    capabilities: frozenset[str] = DEFAULT_CAPABILITIES
    retention_days: int | None = None
    purpose_ends_at: datetime | None = None
    #: face data may leave the recognition device (CN-FR-8); each person must agree apart
    egress: bool = False
    alternative_enabled: bool = True
    status: str = "active"
    controller: str = ""
    controller_contact: str = ""
    method_sha256: str = ""
    pia: PiaFacts | None = None
    declarations: Declarations = field(default_factory=Declarations)


@dataclass(frozen=True)
class ConsentFacts:
    """What a rule may know about the subject's consent, if any."""

    notice_version: int
    notice_sha256: str
    purpose_sha256: str
    given_at: datetime
    expires_at: datetime | None
    method: str = "signed_form"
    #: asked for on its own, not bundled with other terms (CN-FR-6)
    separate: bool = True
    subject_age: int | None = None
    #: given by a parent or guardian (CN-FR-6: required under 14)
    by_guardian: bool = False
    withdrawn: bool = False
    #: a separate consent to the face data leaving the device or the country (CN-FR-8)
    egress: bool = False
    #: consent to disclose to a named recipient (US-IL-15c, BIPA 15(d))
    disclosure: bool = False


@dataclass(frozen=True)
class TransferFacts:
    """A disclosure to a recipient (SHARE) or a transfer off the device or abroad (EXPORT)."""

    recipient: str
    people: int = 1
    cross_border: bool = False
    destination: str = ""
    mechanism: str = ""
    #: people whose face data went abroad this calendar year, this transfer included
    people_abroad_this_year: int = 0
    for_profit: bool = False
    same_purpose: bool = True
    agreement_recorded: bool = True
    terms_irrevocable: bool = False
    terms_unlimited: bool = False


@dataclass(frozen=True)
class ReviewFacts:
    """Acting on a remote-identification match (EU-AI-12, EU-AI-14)."""

    reviewers: tuple[str, ...]
    input_sha256: str
    reference_database: str
    started_at: datetime | None = None


@dataclass(frozen=True)
class IncidentFacts:
    """A personal-data breach (CN-PIPL-57, EU-GDPR-33)."""

    detected_at: datetime
    regulator_notified_at: datetime | None = None
    individuals_notified: bool = False
    high_risk: bool = True
    #: measures taken effectively avoid harm (PIPL Art 57: then individuals need no notice)
    harm_avoided: bool = False
    delay_reason: str = ""


@dataclass(frozen=True)
class RequestFacts:
    """A person's request to exercise a right, and the answer about to be given."""

    right: str
    received_at: datetime
    refused: bool = False
    reasons: str = ""
    exemption: str = ""


@dataclass(frozen=True)
class RecordFacts:
    """A record about to be deleted: an impact assessment or ledger entries."""

    kind: str  # "pia" or "log"
    created_at: datetime


@dataclass(frozen=True)
class SystemFacts:
    """The start-up self-check: each control is True (present), False (absent) or None
    (cannot be checked by software; the operator must attest it)."""

    controls: Mapping[str, bool | None]
    ledger_verified: bool


@dataclass(frozen=True)
class ScaleFacts:
    """How many distinct people the operator holds face data of (CN-FR-15)."""

    people_stored: int
    threshold_reached_at: datetime | None = None
    filed_at: datetime | None = None


def method_of(
    *, location_type: str, capabilities: frozenset[str], egress: bool, scope: str
) -> dict[str, object]:
    """The processing method, as far as a change of it needs a new impact assessment."""
    return {
        "location_type": location_type,
        "capabilities": sorted(capabilities),
        "egress": egress,
        "scope": scope,
    }


def method_sha256(
    *, location_type: str, capabilities: frozenset[str], egress: bool, scope: str
) -> str:
    return sha256_hex(
        canonical_json(
            method_of(
                location_type=location_type, capabilities=capabilities, egress=egress, scope=scope
            )
        )
    )
