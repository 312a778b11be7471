"""Human review of remote-identification matches (EU-AI-14, EU-AI-12).

A match in a remote-identification deployment is "pending" until two distinct principals
with the ``reviewer`` role confirm it, each under their own credential; one rejection closes
it. Each review is a ledger event carrying the
Art. 12(3) fields (use start and end, reference database, matched input hash, reviewers).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import select

from facegate.actors import Actor
from facegate.core import Core, aware
from facegate.errors import Conflict, NotFound
from facegate.flows.enforce import enforce, require
from facegate.ledger.events import Event, Kind
from facegate.policy import Act
from facegate.policy.facts import ReviewFacts
from facegate.results import ReviewResult
from facegate.storage import tables as t

REVIEWERS_NEEDED = 2


def review(core: Core, actor: Actor, identification_id: str, *, confirm: bool) -> ReviewResult:
    """The actor (a principal with the reviewer role) confirms or rejects a pending match."""
    now = core.clock()
    if not actor.may("review"):
        # EU-AI-14: only competent people verify a match; where the law says so, the
        # refusal is a decided, ledgered act citing it
        _judge_unqualified(core, actor, identification_id, now=now)
        require(actor, "review", "review remote-identification matches (reviewers only)")
    rules: tuple[str, ...] = ("EU-AI-14", "EU-AI-12")
    if confirm:
        rules = _may_act(core, actor, identification_id, now=now) or rules
    with core.db.transaction() as s:
        # the row lock makes concurrent reviews of one match take turns (on PostgreSQL too)
        row = s.get(t.Identification, identification_id, with_for_update=True)
        dep = s.get(t.Deployment, row.deployment_id) if row is not None else None
        if row is None or dep is None or dep.operator_id != actor.operator_id:
            raise NotFound(f"no identification {identification_id!r}")
        if row.status != "pending":
            raise Conflict(f"identification {identification_id} is already {row.status}")
        if actor.principal_id in {str(r["reviewer"]) for r in row.reviewers}:
            raise Conflict(
                "you already reviewed this match",
                advice="A second, different reviewer must confirm it (EU-AI-14).",
            )
        row.reviewers = [
            *row.reviewers,
            {"reviewer": actor.principal_id, "confirm": confirm, "at": now.isoformat()},
        ]
        status: Literal["pending", "confirmed", "rejected"] = "pending"
        if not confirm:
            status = "rejected"
        elif len({str(r["reviewer"]) for r in row.reviewers if r["confirm"]}) >= REVIEWERS_NEEDED:
            status = "confirmed"
        row.status = status
        subject = s.get(t.Subject, row.subject_id) if row.subject_id else None
        subject_ref: str | None = None
        if status == "confirmed":
            if subject is None:
                raise NotFound("the matched person has since been erased")
            subject_ref = core.keyring.open_ref(dep, subject)
        reviewers = [str(r["reviewer"]) for r in row.reviewers]
        rec = core.record(
            s,
            Event(
                Kind.IDENTIFICATION_REVIEWED,
                now,
                operator=dep.operator_id,
                deployment=dep.id,
                subject=subject.pseudonym if subject else None,
                rule_ids=rules,
                by=actor.principal_id,
                details={
                    "identification_id": row.id,
                    "status": status,
                    "use_start": aware(row.started_at).isoformat(),
                    "use_end": aware(row.ended_at).isoformat(),
                    "reference_database": f"deployment {dep.id} gallery",
                    "gallery_size": row.gallery_size,
                    "matched_input_sha256": row.input_sha256,
                    "reviewers": reviewers,
                },
            ),
        )
        return ReviewResult(
            identification_id=row.id,
            status=status,
            reviewers=reviewers,
            subject_ref=subject_ref,
            score=row.score,
            event_id=rec[0].event_id,
        )


def pending(core: Core, actor: Actor) -> list[dict[str, object]]:
    """Matches awaiting review in the actor's deployments, oldest first (no one is named)."""
    require(actor, "read", "see the review queue")
    with core.db.read() as s:
        rows = s.execute(
            select(t.Identification)
            .join(t.Deployment, t.Deployment.id == t.Identification.deployment_id)
            .where(
                t.Deployment.operator_id == actor.operator_id,
                t.Identification.status == "pending",
            )
            .order_by(t.Identification.started_at)
        ).scalars()
        return [
            {
                "identification_id": r.id,
                "deployment_id": r.deployment_id,
                "score": r.score,
                "started_at": aware(r.started_at).isoformat(),
                "reviewers": [str(x["reviewer"]) for x in r.reviewers],
            }
            for r in rows
        ]


def _may_act(core: Core, actor: Actor, identification_id: str, *, now: datetime) -> tuple[str, ...]:
    """If this confirmation would name the person, ask the packs whether acting on the
    match is allowed (EU-AI-14: two distinct reviewers); a refusal is recorded and raised.
    Returns the rule ids consulted, or () when the match stays pending either way."""
    with core.db.read() as s:
        row = s.get(t.Identification, identification_id)
        if row is None or row.status != "pending":
            return ()  # the write below raises the precise error
        confirmed = {str(r["reviewer"]) for r in row.reviewers if r["confirm"]}
        confirmed.add(actor.principal_id)
        if len(confirmed) < REVIEWERS_NEEDED:
            return ()
        dep = core.deployment(s, row.deployment_id, actor.operator_id)
        facts = ReviewFacts(
            reviewers=tuple(sorted(confirmed)),
            unqualified=(),
            input_sha256=row.input_sha256,
            reference_database=f"deployment {dep.id} gallery",
            started_at=aware(row.started_at),
        )
        event = Event(
            Kind.IDENTIFICATION_REVIEWED,
            now,
            operator=dep.operator_id,
            deployment=dep.id,
            by=actor.principal_id,
            details={"identification_id": row.id},
        )
        return enforce(core, s, dep, Act.ACT_ON_MATCH, event, now=now, review=facts).rule_ids


def _judge_unqualified(core: Core, actor: Actor, identification_id: str, *, now: datetime) -> None:
    with core.db.read() as s:
        row = s.get(t.Identification, identification_id) if len(identification_id) <= 40 else None
        dep = s.get(t.Deployment, row.deployment_id) if row is not None else None
        if row is None or dep is None or dep.operator_id != actor.operator_id:
            raise NotFound(f"no identification {identification_id!r}")
        facts = ReviewFacts(
            reviewers=(actor.principal_id,),
            unqualified=(actor.principal_id,),
            input_sha256=row.input_sha256,
            reference_database=f"deployment {dep.id} gallery",
            started_at=aware(row.started_at),
        )
        event = Event(
            Kind.IDENTIFICATION_REVIEWED,
            now,
            operator=dep.operator_id,
            deployment=dep.id,
            by=actor.principal_id,
            details={"identification_id": row.id, "role": actor.role},
        )
        enforce(core, s, dep, Act.ACT_ON_MATCH, event, now=now, review=facts)
