"""Identify's additions: the next candidates (top-N) and the unknown-face alert.

**Candidates.** With ``top`` > 1 a search names, after the best match, everyone else whose
score reaches the deployment's threshold, best first. Each is a person named, so each is
asked of the law like the first (``Act.IDENTIFY``: their consent in force); one the law
refuses is left out, and the refusal is ledgered by the door. Each named candidate gets an
``identify`` event of their own (decision ``candidate``), so that their evidence bundle
shows it. A stranger's score is never returned, and nothing below the threshold is: that
would say how close someone not enrolled came to someone who is. A remote-identification
match names nobody before review, so it has no candidates.

**Unknown-face alert.** A deployment that asks for it (``unknown_alerts``) gets an
``alert.unknown_face`` event when a search finds nobody. The law was asked before the photo
was read (``Act.SCAN``: the people in view may be searched at all, by a deployment that
declared a search), and the alert adds nothing about the person: the photo's SHA-256, the
search's event id, the time. The DPO signs the alert setting with the deployment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from facegate.actors import Actor
from facegate.core import Core
from facegate.errors import InvalidInput, PolicyDenied
from facegate.flows.biometrics import consent_of
from facegate.flows.enforce import enforce
from facegate.gallery import Hit
from facegate.ledger.events import Event, Kind, Recorded
from facegate.policy import Act
from facegate.results import Candidate
from facegate.storage import tables as t

MAX_TOP = 10


@dataclass(frozen=True)
class Named:
    candidate: Candidate
    pseudonym: str
    rules: tuple[str, ...]


def check_top(top: int) -> int:
    if not 1 <= top <= MAX_TOP:
        raise InvalidInput(f"top is 1 to {MAX_TOP}, not {top}")
    return top


def ask_identify(
    core: Core,
    s: Session,
    actor: Actor,
    dep: t.Deployment,
    subject: t.Subject,
    *,
    now: datetime,
    input_sha256: str,
    decision: str | None = None,
) -> tuple[str, ...]:
    """Ask the law whether this person may be named (Act.IDENTIFY: their consent in force);
    a refusal is ledgered and raised. Returns the rules the answer cites."""
    details = {"input_sha256": input_sha256} | ({"decision": decision} if decision else {})
    event = Event(
        Kind.IDENTIFIED,
        now,
        operator=dep.operator_id,
        deployment=dep.id,
        subject=subject.pseudonym,
        by=actor.principal_id,
        details=details,
    )
    consent = consent_of(s, subject)
    return enforce(core, s, dep, Act.IDENTIFY, event, now=now, consent=consent).rule_ids


def more_candidates(
    core: Core,
    actor: Actor,
    dep: t.Deployment,
    hits: Sequence[Hit],
    *,
    now: datetime,
    input_sha256: str,
) -> list[Named]:
    """The hits after the first that reach the threshold and that the law lets us name."""
    named: list[Named] = []
    with core.db.read() as s:
        for hit in hits:
            if hit.score < dep.threshold:
                break  # best first: the rest are lower
            subject = s.get(t.Subject, hit.subject_id)
            if subject is None:  # erased since the gallery was read
                continue
            try:
                rules = ask_identify(
                    core, s, actor, dep, subject,
                    now=now, input_sha256=input_sha256, decision="candidate",
                )  # fmt: skip
            except PolicyDenied:  # ledgered by the door; this person is not named
                continue
            ref = core.keyring.open_ref(dep, subject)
            named.append(Named(Candidate(ref, round(hit.score, 6)), subject.pseudonym, rules))
    return named


def record_candidates(
    core: Core,
    s: Session,
    actor: Actor,
    dep: t.Deployment,
    named: Sequence[Named],
    *,
    at: datetime,
    details: dict[str, object],
) -> None:
    """One ``identify`` event per extra candidate (decision ``candidate``), in the search's
    transaction."""
    for rank, one in enumerate(named, start=2):
        core.record(
            s,
            Event(
                Kind.IDENTIFIED,
                at,
                operator=dep.operator_id,
                deployment=dep.id,
                subject=one.pseudonym,
                rule_ids=one.rules,
                by=actor.principal_id,
                details={
                    **details,
                    "decision": "candidate",
                    "rank": rank,
                    "score": one.candidate.score,
                },
            ),
        )


def record_alert(
    core: Core,
    s: Session,
    actor: Actor,
    dep: t.Deployment,
    search: Recorded,
    *,
    at: datetime,
    input_sha256: str,
    rules: tuple[str, ...],
) -> None:
    """The unknown-face alert of a search that found nobody, where the deployment asks."""
    if not dep.unknown_alerts:
        return
    core.record(
        s,
        Event(
            Kind.UNKNOWN_FACE_ALERT,
            at,
            operator=dep.operator_id,
            deployment=dep.id,
            rule_ids=rules,
            by=actor.principal_id,
            details={"input_sha256": input_sha256, "identify_event_id": search.event_id},
        ),
    )
