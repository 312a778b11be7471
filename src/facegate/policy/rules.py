"""The rule model: small objects with an id from LEGAL-RULES.md and a plain explanation.

A rule looks at a :class:`Context` and returns a :class:`Finding`: allow or deny, with the
reason and what to do, and any obligations the act carries ("show signs", "ttl = ...").
A rule returns None when it has nothing to say about the context. Packs are tuples of rules;
the engine runs them and records which rule ids it used, so every decision can be explained
afterwards (``facegate policy explain``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from facegate.policy.facts import (
    BANNED_LOCATIONS,
    LOCATION_TYPES,
    PUBLIC_LOCATIONS,
    ConsentFacts,
    DeploymentFacts,
    IncidentFacts,
    NoticeFacts,
    RecordFacts,
    RequestFacts,
    ReviewFacts,
    ScaleFacts,
    SystemFacts,
    TransferFacts,
)

__all__ = [
    "BANNED_LOCATIONS",
    "DEPLOYMENT_LEVEL",
    "ERASURES",
    "LOCATION_TYPES",
    "PROCESSING",
    "PUBLIC_LOCATIONS",
    "SETUP",
    "SUBJECT_LEVEL",
    "Act",
    "Check",
    "ConsentFacts",
    "Context",
    "DeploymentFacts",
    "Finding",
    "Obligation",
    "Rule",
    "allow",
    "deny",
]


_T = TypeVar("_T")


class Act(StrEnum):
    """What someone is about to do."""

    REGISTER_DEPLOYMENT = "register_deployment"
    #: go-live: the DPO signs the impact assessment and the notice is published
    ACTIVATE_DEPLOYMENT = "activate_deployment"
    #: the purpose is met: everything is erased and processing ends
    END_DEPLOYMENT = "end_deployment"
    GIVE_CONSENT = "give_consent"
    ENROLL = "enroll"
    VERIFY = "verify"
    #: a 1:N search, judged for the deployment before the photo is even decoded
    SCAN = "scan"
    #: naming the person a 1:N search matched, judged on that person's consent
    IDENTIFY = "identify"
    #: a person refused face recognition and takes the non-face way
    USE_ALTERNATIVE = "use_alternative"
    #: acting on a remote-identification match (after human review)
    ACT_ON_MATCH = "act_on_match"
    #: disclose face data or templates to a recipient
    SHARE = "share"
    #: move face data off the recognition device, or abroad
    EXPORT = "export"
    #: the person withdrew consent: erase what is held
    WITHDRAW = "withdraw"
    #: erasure on request (the person's, or the operator's)
    ERASE = "erase"
    #: the retention period ended (or the consent lapsed): erase what is held
    EXPIRE = "expire"
    #: keep a person's data past an erasure request, on a stated legal ground
    HOLD = "hold"
    ANSWER_REQUEST = "answer_request"
    DELETE_RECORD = "delete_record"
    RECORD_INCIDENT = "record_incident"
    CLOSE_INCIDENT = "close_incident"
    START_SERVICE = "start_service"


#: acts judged for the whole deployment before any face is looked at
DEPLOYMENT_LEVEL = frozenset({Act.ENROLL, Act.VERIFY, Act.SCAN})
#: acts judged on one person's consent
SUBJECT_LEVEL = frozenset({Act.ENROLL, Act.VERIFY, Act.IDENTIFY})
PROCESSING = DEPLOYMENT_LEVEL | SUBJECT_LEVEL
SETUP = frozenset({Act.REGISTER_DEPLOYMENT, Act.ACTIVATE_DEPLOYMENT})
#: acts that erase a person's face data
ERASURES = frozenset({Act.WITHDRAW, Act.ERASE, Act.EXPIRE, Act.END_DEPLOYMENT})


@dataclass(frozen=True)
class Context:
    """Everything a rule may look at for one act. Only the facts the act needs are set."""

    act: Act
    deployment: DeploymentFacts
    now: datetime
    consent: ConsentFacts | None = None
    notice: NoticeFacts | None = None
    transfer: TransferFacts | None = None
    review: ReviewFacts | None = None
    incident: IncidentFacts | None = None
    request: RequestFacts | None = None
    record: RecordFacts | None = None
    system: SystemFacts | None = None
    scale: ScaleFacts | None = None
    #: the ground of a hold (Act.HOLD) or of an erasure's reason
    ground: str = ""
    extra: Mapping[str, object] = field(default_factory=dict)

    def need_notice(self) -> NoticeFacts:
        return _need(self.notice, self.act, "notice")

    def need_consent(self) -> ConsentFacts:
        return _need(self.consent, self.act, "consent")

    def need_transfer(self) -> TransferFacts:
        return _need(self.transfer, self.act, "transfer")

    def need_review(self) -> ReviewFacts:
        return _need(self.review, self.act, "review")

    def need_incident(self) -> IncidentFacts:
        return _need(self.incident, self.act, "incident")

    def need_request(self) -> RequestFacts:
        return _need(self.request, self.act, "request")

    def need_record(self) -> RecordFacts:
        return _need(self.record, self.act, "record")

    def need_system(self) -> SystemFacts:
        return _need(self.system, self.act, "system")


def _need(value: _T | None, act: Act, name: str) -> _T:
    if value is None:
        raise ValueError(f"a {act} decision needs Context.{name} facts")
    return value


@dataclass(frozen=True)
class Obligation:
    """Something the act commits the processor to, e.g. ``ttl`` or a filing deadline."""

    rule_id: str
    text: str
    due: datetime | None = None


@dataclass(frozen=True)
class Finding:
    rule_id: str
    allowed: bool
    reason: str = ""
    advice: str = ""
    obligations: tuple[Obligation, ...] = ()


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


def allow(rule_id: str, *obligations: str, due: datetime | None = None) -> Finding:
    """An allowing finding; each obligation text (if any) shares the one ``due`` date."""
    return Finding(
        rule_id=rule_id,
        allowed=True,
        obligations=tuple(Obligation(rule_id, text, due) for text in obligations),
    )


def deny(rule_id: str, reason: str, advice: str) -> Finding:
    """A refusal: ``reason`` is one line (wrapped source lines are joined), ``advice`` keeps
    its lines."""
    return Finding(rule_id=rule_id, allowed=False, reason=" ".join(reason.split()), advice=advice)
