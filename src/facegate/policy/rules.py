"""The rule model: small objects with an id from LEGAL-RULES.md and a plain explanation.

A rule looks at a :class:`Context` and returns a :class:`Finding` (allow or deny, with the
reason and what to do). Packs are tuples of rules; the engine runs them and records which
rule ids it used, so every decision can be explained afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Act(StrEnum):
    """What someone is about to do."""

    REGISTER_DEPLOYMENT = "register_deployment"
    GIVE_CONSENT = "give_consent"
    ENROLL = "enroll"
    VERIFY = "verify"
    IDENTIFY = "identify"


PROCESSING = frozenset({Act.ENROLL, Act.VERIFY, Act.IDENTIFY})

#: places where face recognition is banned outright (CN-FR-13)
BANNED_LOCATIONS = frozenset({"hotel_room", "bathroom", "changing_room", "toilet"})
#: public places, allowed only for public security with signs (CN-FR-13)
PUBLIC_LOCATIONS = frozenset({"public_place", "street", "transport_hub", "public_square"})
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


@dataclass(frozen=True)
class ConsentFacts:
    """What a rule may know about the subject's consent, if any."""

    notice_version: int
    notice_sha256: str
    purpose_sha256: str
    given_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True)
class Context:
    act: Act
    deployment: DeploymentFacts
    now: datetime
    consent: ConsentFacts | None = None
    current_notice_sha256: str | None = None
    extra: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    rule_id: str
    allowed: bool
    reason: str = ""
    advice: str = ""


Check = Callable[[Context], Finding | None]


@dataclass(frozen=True)
class Rule:
    """One legal rule. ``check`` returns None when the rule does not apply to the context."""

    id: str
    summary: str
    applies_to: frozenset[Act]
    check: Check

    def evaluate(self, ctx: Context) -> Finding | None:
        if ctx.act not in self.applies_to:
            return None
        return self.check(ctx)


def allow(rule_id: str) -> Finding:
    return Finding(rule_id=rule_id, allowed=True)


def deny(rule_id: str, reason: str, advice: str) -> Finding:
    return Finding(rule_id=rule_id, allowed=False, reason=reason, advice=advice)
