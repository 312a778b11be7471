"""A 1:N search's law and ledger, whether it meets a photo's protected template or a capture
device's ciphertext (issue 16): the deployment's ``Act.SCAN``, asked before anything is read;
then one event for the search, one per extra candidate, the unknown-face alert where the
deployment asks for it, and the EU-AI-14 hold on a remote-identification match (nobody is
named until two reviewers confirm it).

A stranger's search keeps no score (it would say how close the nearest enrolled person
came); an encrypted search has no score at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from facegate._internal.ids import new_id
from facegate.actors import Actor
from facegate.core import Core
from facegate.flows.candidates import Named, record_alert, record_candidates
from facegate.flows.enforce import enforce
from facegate.flows.facts import capabilities_of
from facegate.ledger.events import Event, Kind
from facegate.policy import Act
from facegate.policy.facts import REMOTE_IDENTIFICATION
from facegate.storage import tables as t

Decision = Literal["match", "unknown", "pending", "ambiguous"]


def ask_scan(
    core: Core, actor: Actor, deployment_id: str, *, input_sha256: str | None, now: datetime
) -> tuple[t.Deployment, tuple[str, ...]]:
    """Ask the law whether the deployment may search the people in view at all (Act.SCAN:
    the capability declared, the people in view lawfully scanned, a signed assessment, the
    self-check, orders in force), before any face or ciphertext is read; a refusal is
    ledgered and raised citing the rule. Returns the deployment (detached) and the rules."""
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, actor.operator_id)
        asked = Event(
            Kind.IDENTIFIED,
            now,
            operator=dep.operator_id,
            deployment=dep.id,
            by=actor.principal_id,
            details={"input_sha256": input_sha256} if input_sha256 else {},
        )
        scan = enforce(core, s, dep, Act.SCAN, asked, now=now)
        s.expunge(dep)
    return dep, scan.rule_ids


@dataclass(frozen=True)
class Search:
    """What a search found, as the ledger keeps it."""

    input_sha256: str
    gallery_size: int
    #: the person found and named (their consent asked), or None
    subject_ref: str | None
    pseudonym: str | None
    subject_id: str | None
    score: float | None
    rules: tuple[str, ...]
    #: what the matcher adds (model and threshold, or scheme and distance threshold)
    about: Mapping[str, object] = field(default_factory=dict)
    #: an encrypted search that found several people names none of them
    ambiguous: bool = False


@dataclass(frozen=True)
class Ledgered:
    decision: Decision
    subject_ref: str | None
    identification_id: str | None
    event_id: str


def ledger_search(
    core: Core,
    actor: Actor,
    dep: t.Deployment,
    search: Search,
    candidates: Sequence[Named] = (),
) -> Ledgered:
    """Ledger the search in one transaction; a remote-identification match waits for two
    reviewers (EU-AI-14) and names nobody until then."""
    decision: Decision = "match" if search.subject_ref else "unknown"
    if search.ambiguous and not search.subject_ref:
        decision = "ambiguous"
    subject_ref, identification_id = search.subject_ref, None
    details: dict[str, object] = {
        "input_sha256": search.input_sha256,
        "decision": decision,
        "score": search.score,
        **search.about,
        "gallery_size": search.gallery_size,
    }
    at = core.clock()
    with core.db.transaction() as s:
        if subject_ref is not None and capabilities_of(dep) & REMOTE_IDENTIFICATION:
            # EU-AI-14: nobody acts on a remote-identification match until two people
            # have confirmed it; until then the person is not named.
            identification_id = _hold(core, s, dep, search, at=at)
            decision, subject_ref = "pending", None
            details |= {
                "decision": decision,
                "identification_id": identification_id,
                "use_start": at.isoformat(),
                "use_end": core.clock().isoformat(),
                "reference_database": f"deployment {dep.id} gallery",
            }
        recorded = core.record(
            s,
            Event(
                Kind.IDENTIFIED,
                at,
                operator=dep.operator_id,
                deployment=dep.id,
                subject=search.pseudonym,
                rule_ids=search.rules,
                by=actor.principal_id,
                details=details,
            ),
        )
        record_candidates(core, s, actor, dep, candidates, at=at, details=details)
        if decision == "unknown":
            record_alert(core, s, actor, dep, recorded[0], at=at,
                         input_sha256=search.input_sha256, rules=search.rules)  # fmt: skip
    return Ledgered(decision, subject_ref, identification_id, recorded[0].event_id)


def _hold(core: Core, s: Session, dep: t.Deployment, search: Search, *, at: datetime) -> str:
    """The match held for review (AI Act Art 12(3)'s log: use, reference database, input)."""
    identification_id = new_id("idn", core.entropy)
    s.add(
        t.Identification(
            id=identification_id,
            deployment_id=dep.id,
            subject_id=search.subject_id,
            score=search.score,
            input_sha256=search.input_sha256,
            gallery_size=search.gallery_size,
            started_at=at,
            ended_at=core.clock(),
            status="pending",
            reviewers=[],
        )
    )
    return identification_id
