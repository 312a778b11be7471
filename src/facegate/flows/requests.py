"""People's requests as the operator handles them: the open ones with their deadlines, and
the answer (a decided act: an answer without reasons, or an erasure refused without a legal
ground, is refused citing CN-PIPL-44 / EU-GDPR-17); and the holder's own view of theirs."""

from __future__ import annotations

from sqlalchemy import select

from facegate._internal.canonical import sha256_hex
from facegate.actors import Actor
from facegate.core import Core, aware
from facegate.errors import Conflict, InvalidInput, NotFound
from facegate.flows.enforce import enforce, require
from facegate.flows.sealing import try_open_text
from facegate.flows.subjects import _RIGHT, RequestRecord, _record, holder
from facegate.ledger.events import Event, Kind
from facegate.policy import Act
from facegate.policy.facts import RequestFacts
from facegate.storage import tables as t


def answer(
    core: Core,
    actor: Actor,
    request_id: str,
    *,
    refuse: bool,
    reason: str,
    exemption: str = "",
) -> RequestRecord:
    """The operator answers (or refuses, with reasons and, for an erasure, its legal ground)
    an open request; the packs judge the answer (CN-PIPL-44, EU-GDPR-17)."""
    require(actor, "answer_requests", "answer people's requests")
    reason = reason.strip()
    if len(reason) > 5000:
        raise InvalidInput("an answer is at most 5000 characters")
    now = core.clock()
    with core.db.read() as s:
        req = s.get(t.SubjectRequest, request_id) if len(request_id) <= 40 else None
        dep = s.get(t.Deployment, req.deployment_id) if req is not None else None
        if req is None or dep is None or dep.operator_id != actor.operator_id:
            raise NotFound(f"no request {request_id!r}")
        facts = RequestFacts(
            right=_RIGHT[req.kind],
            received_at=aware(req.received_at),
            refused=refuse,
            reasons=reason,
            exemption=exemption.strip(),
        )
        event = Event(
            Kind.SUBJECT_REQUEST,
            now,
            operator=dep.operator_id,
            deployment=dep.id,
            subject=req.pseudonym,
            by=actor.principal_id,
            details={"request_id": request_id},
        )
        decision = enforce(core, s, dep, Act.ANSWER_REQUEST, event, now=now, request=facts)
    with core.db.transaction() as s:
        req = s.get(t.SubjectRequest, request_id, with_for_update=True)
        if req is None:
            raise NotFound(f"no request {request_id!r}")
        if req.status != "open":
            raise Conflict(f"request {request_id} was already {req.status}")
        req.status = "refused" if refuse else "answered"
        req.reason = reason
        req.answered_at = now
        rec = core.record(
            s,
            Event(
                Kind.SUBJECT_REQUEST,
                now,
                operator=dep.operator_id,
                deployment=dep.id,
                subject=req.pseudonym,
                rule_ids=decision.rule_ids,
                by=actor.principal_id,
                details={
                    "request_id": request_id,
                    "request": req.kind,
                    "status": req.status,
                    "late": now > aware(req.due_at),
                    "answer_sha256": sha256_hex(reason),
                },
            ),
        )
        return _record(req, rec[0].event_id)


def open_requests(core: Core, actor: Actor) -> list[dict[str, object]]:
    """People's open requests, soonest deadline first, with their words while the person
    is still held (shredded with them otherwise)."""
    require(actor, "read", "read people's requests")
    out: list[dict[str, object]] = []
    with core.db.read() as s:
        q = (
            select(t.SubjectRequest, t.Deployment, t.Subject.id)
            .join(t.Deployment, t.Deployment.id == t.SubjectRequest.deployment_id)
            .outerjoin(t.Subject, t.Subject.pseudonym == t.SubjectRequest.pseudonym)
            .where(
                t.SubjectRequest.status == "open",
                t.Deployment.operator_id == actor.operator_id,
            )
            .order_by(t.SubjectRequest.due_at)
        )
        for req, dep, subject_id in s.execute(q).all():
            words = try_open_text(core, dep, subject_id, "request", req.text_sealed)
            out.append(
                {
                    **_record(req).to_dict(),
                    "deployment_id": dep.id,
                    "text": words if words is not None else (req.text or None),
                }
            )
    return out


def requests_of(core: Core, code: str) -> list[dict[str, object]]:
    """The access code holder's requests, newest first, with their own words (opened under
    their key) and the operator's answers."""
    h = holder(core, code)
    with core.db.read() as s:
        dep = s.get(t.Deployment, h.deployment_id)
        rows = s.scalars(
            select(t.SubjectRequest)
            .where(t.SubjectRequest.pseudonym == h.pseudonym)
            .order_by(t.SubjectRequest.received_at.desc())
        ).all()
        assert dep is not None
        return [
            {
                **_record(r).to_dict(),
                "text": try_open_text(core, dep, h.subject_id, "request", r.text_sealed)
                or r.text
                or None,
                "answered_at": aware(r.answered_at).isoformat() if r.answered_at else None,
            }
            for r in rows
        ]
