"""Human review of remote-identification matches (EU-AI-14, EU-AI-12).

A match in a remote-identification deployment is "pending" until two distinct, competent
people confirm it; one rejection closes it. Each review is a ledger event carrying the
Art. 12(3) fields (use start and end, reference database, matched input hash, reviewers).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from facegate.core import Core, aware
from facegate.errors import Conflict, InvalidInput, NotFound
from facegate.ledger.events import Event, Kind
from facegate.policy import Act
from facegate.policy.facts import ReviewFacts
from facegate.results import ReviewResult
from facegate.storage import tables as t

REVIEWERS_NEEDED = 2


def review(
    core: Core,
    identification_id: str,
    *,
    reviewer: str,
    confirm: bool,
    operator_id: str | None = None,
) -> ReviewResult:
    reviewer = reviewer.strip()
    if not 1 <= len(reviewer) <= 100:
        raise InvalidInput("a review must name its reviewer (1 to 100 characters)")
    now = core.clock()
    subject_ref: str | None = None
    rules: tuple[str, ...] = ("EU-AI-14", "EU-AI-12")
    if confirm:
        rules = (
            _may_act(core, identification_id, reviewer=reviewer, now=now, operator_id=operator_id)
            or rules
        )
    with core.db.transaction() as s:
        row = s.get(t.Identification, identification_id)
        if row is None:
            raise NotFound(f"no identification {identification_id!r}")
        dep = core.deployment(s, row.deployment_id, operator_id)
        if row.status != "pending":
            raise Conflict(f"identification {identification_id} is already {row.status}")
        names = [str(r["reviewer"]) for r in row.reviewers]
        if reviewer in names:
            raise Conflict(
                "this reviewer already reviewed this match",
                advice="A second, different person must confirm it (EU-AI-14).",
            )
        row.reviewers = [
            *row.reviewers,
            {"reviewer": reviewer, "confirm": confirm, "at": now.isoformat()},
        ]
        status: Literal["pending", "confirmed", "rejected"] = "pending"
        if not confirm:
            status = "rejected"
        elif sum(1 for r in row.reviewers if r["confirm"]) >= REVIEWERS_NEEDED:
            status = "confirmed"
        row.status = status
        subject = s.get(t.Subject, row.subject_id) if row.subject_id else None
        if status == "confirmed":
            if subject is None:
                raise NotFound("the matched person has since been erased")
            subject_ref = core.keyring.open_ref(dep, subject)
        rec = core.record(
            s,
            Event(
                Kind.IDENTIFICATION_REVIEWED,
                now,
                operator=dep.operator_id,
                deployment=dep.id,
                subject=subject.pseudonym if subject else None,
                rule_ids=("EU-AI-14", "EU-AI-12"),
                details={
                    "identification_id": row.id,
                    "status": status,
                    "use_start": aware(row.started_at).isoformat(),
                    "use_end": aware(row.ended_at).isoformat(),
                    "reference_database": f"deployment {dep.id} gallery",
                    "gallery_size": row.gallery_size,
                    "matched_input_sha256": row.input_sha256,
                    "reviewers": [str(r["reviewer"]) for r in row.reviewers],
                },
            ),
        )
        return ReviewResult(
            identification_id=row.id,
            status=status,
            reviewers=[str(r["reviewer"]) for r in row.reviewers],
            subject_ref=subject_ref,
            score=row.score,
            event_id=rec[0].event_id,
        )


def _may_act(
    core: Core,
    identification_id: str,
    *,
    reviewer: str,
    now: datetime,
    operator_id: str | None,
) -> tuple[str, ...]:
    """If this confirmation would name the person, ask the packs whether acting on the
    match is allowed (EU-AI-14: two distinct reviewers); a refusal is recorded and raised.
    Returns the rule ids consulted, or () when the match stays pending either way."""
    with core.db.read() as s:
        row = s.get(t.Identification, identification_id)
        if row is None or row.status != "pending":
            return ()  # the write below raises the precise error
        confirmed = {str(r["reviewer"]) for r in row.reviewers if r["confirm"]} | {reviewer}
        if len(confirmed) < REVIEWERS_NEEDED:
            return ()
        dep = core.deployment(s, row.deployment_id, operator_id)
        facts = ReviewFacts(
            reviewers=tuple(sorted(confirmed)),
            input_sha256=row.input_sha256,
            reference_database=f"deployment {dep.id} gallery",
            started_at=aware(row.started_at),
        )
        event = Event(
            Kind.IDENTIFICATION_REVIEWED,
            now,
            operator=dep.operator_id,
            deployment=dep.id,
            details={"identification_id": row.id},
        )
        return core.check(s, dep, None, act=Act.ACT_ON_MATCH, event=event, review=facts)
