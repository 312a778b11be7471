"""Share and export: face data leaving for a recipient, decided person by person.

``share`` discloses to a recipient (Act.SHARE; also Act.EXPORT when the recipient is
abroad); ``export`` moves data off the device or abroad (Act.EXPORT; also Act.SHARE when the
recipient is a controller, a third party with purposes of its own). Each act is decided for
each person through the policy door, with their consent facts (the deployment consent, and
any consent they gave to this recipient) and the transfer's facts: the recorded agreement
(in force, its terms), the yearly count of people sent abroad by all of the operator's
exports this calendar year, and that the templates are re-protected. One refusal refuses the
whole act (ledgered, citing the rule, naming the person to the operator). A bulk export
beyond the people the agreement allows is stopped with an alert.

The file holds the people's templates re-protected under a fresh export key, with canaries,
ids only this export uses, and the agreement's reference; one ledger event per person and
one for the act, in the transaction that records the export.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from facegate._internal.canonical import sha256_hex
from facegate._internal.ids import new_id
from facegate.actors import Actor
from facegate.core import Core, aware
from facegate.errors import Conflict, InvalidInput, PolicyDenied
from facegate.flows import facts
from facegate.flows.enforce import decide_or_refuse, enforce, require
from facegate.ledger.events import Event, Kind
from facegate.policy import Act, TransferFacts
from facegate.storage import tables as t
from facegate.templates import get_scheme
from facegate.templates.hazmat import keys
from facegate.transfers import alerts
from facegate.transfers.build import export_rows
from facegate.transfers.fileformat import KEY_FORMAT, export_document
from facegate.transfers.keys import new_export_key
from facegate.transfers.recipients import recipient_row
from facegate.transfers.reprotect import ExportKeys, supports
from facegate.transfers.results import TransferResult
from facegate.transfers.selection import Person, people_abroad, received_by, select_people
from facegate.transfers.specs import TransferRequest, is_cross_border

__all__ = ["transfer"]

Verb = Literal["share", "export"]


@dataclasses.dataclass(frozen=True)
class _Plan:
    """A transfer the packs allowed for everyone in it."""

    verb: Verb
    dep: t.Deployment
    rec: t.TransferRecipient
    people: list[Person]
    cross_border: bool
    abroad: int
    rules: dict[str, tuple[str, ...]]
    now: datetime


def transfer(
    core: Core, actor: Actor, deployment_id: str, request: TransferRequest, verb: Verb
) -> TransferResult:
    require(actor, "manage_deployments", f"{verb} face data")
    if request.everyone == bool(request.subjects):
        raise InvalidInput(
            "name the people who leave (subjects) or say everyone, one of the two",
            advice="--subject REF (repeatable) or --everyone.",
        )
    plan = _decide(core, actor, deployment_id, request, verb)
    export_id = new_id("exp", core.entropy)
    export_key, wrapped = new_export_key(core, export_id)
    ek = ExportKeys.of(export_key)
    people = [(p.subject_id, p.pseudonym) for p in plan.people]
    rows, canaries = export_rows(core, plan.dep, people, ek)
    rec = plan.rec
    document = export_document(
        export_id=export_id,
        act=verb,
        agreement={
            "recipient_id": rec.id,
            "recipient": rec.name,
            "agreement_sha256": rec.agreement_sha256,
            "purpose": rec.purpose,
            "retention_days": rec.retention_days,
            "ends_at": aware(rec.agreement_ends_at).isoformat(),
        },
        scheme=plan.dep.scheme,
        threshold=plan.dep.threshold,
        created_at=plan.now,
        rows=rows,
    )
    made = _Made(export_id, export_key, wrapped, document, _key_document(export_id, plan, ek))
    return _record(core, actor, plan, made, rows=len(rows), canaries=canaries)


def _decide(
    core: Core, actor: Actor, deployment_id: str, request: TransferRequest, verb: Verb
) -> _Plan:
    now = core.clock()
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, actor.operator_id)
        if dep.status != "live":
            raise Conflict(
                f"deployment {dep.id} is {dep.status}: only a live deployment's data may leave",
                advice="Have the DPO sign its assessment first.",
            )
        rec = recipient_row(s, request.recipient_id, actor.operator_id, deployment_id=dep.id)
        people = select_people(core, s, dep, rec, request, now=now)
        cross_border = is_cross_border(dep.jurisdiction, rec.country)
        abroad = people_abroad(s, dep.operator_id, now)
        if cross_border:
            abroad |= {p.pseudonym for p in people}
        plan = _Plan(verb, dep, rec, people, cross_border, len(abroad), {}, now)
        _within_agreement(core, actor, s, plan)
        rules = _judge(core, actor, s, plan)
        s.expunge_all()
    return dataclasses.replace(plan, rules=rules)


def _facts(plan: _Plan) -> TransferFacts:
    rec = plan.rec
    return TransferFacts(
        recipient=rec.name,
        people=len(plan.people),
        cross_border=plan.cross_border,
        destination=rec.country,
        mechanism=rec.mechanism,
        people_abroad_this_year=plan.abroad,
        for_profit=rec.for_profit,
        same_purpose=rec.same_purpose,
        # an agreement revoked or past its end is no agreement (CN-SPC-7)
        agreement_recorded=rec.revoked_at is None and aware(rec.agreement_ends_at) > plan.now,
        terms_irrevocable=rec.irrevocable,
        terms_unlimited=rec.retention_days is None,
        reprotected=supports(get_scheme(plan.dep.scheme)),
    )


def _acts(plan: _Plan) -> list[Act]:
    """A share abroad is an export too; an export to a controller, or for a purpose other
    than the deployment's, is a disclosure too: no act escapes the rules of the other."""
    if plan.verb == "share":
        return [Act.SHARE, Act.EXPORT] if plan.cross_border else [Act.SHARE]
    disclosure = plan.rec.role == "controller" or not plan.rec.same_purpose
    return [Act.EXPORT, Act.SHARE] if disclosure else [Act.EXPORT]


def _judge(core: Core, actor: Actor, s: Session, plan: _Plan) -> dict[str, tuple[str, ...]]:
    """Each act for each person through the door: the first through :func:`enforce` (with
    its gatekeepers: orders), the rest on the same context with the person's consent."""
    dep, tf, now = plan.dep, _facts(plan), plan.now
    rules: dict[str, tuple[str, ...]] = {p.pseudonym: () for p in plan.people}
    for act in _acts(plan):
        ctx = facts.context(s, dep, act, now, consent=plan.people[0].consent, transfer=tf)
        for i, person in enumerate(plan.people):
            event = Event(
                Kind.TRANSFERRED,
                now,
                operator=dep.operator_id,
                deployment=dep.id,
                subject=person.pseudonym,
                by=actor.principal_id,
                details={"recipient_id": plan.rec.id, "act": str(act)},
            )
            try:
                if i == 0:
                    decision = enforce(
                        core, s, dep, act, event, now=now, consent=person.consent, transfer=tf
                    )
                else:
                    ctx = dataclasses.replace(ctx, consent=person.consent)
                    decision = decide_or_refuse(core, ctx, event)
            except PolicyDenied as err:
                raise _naming(core, s, dep, person, err) from err
            both = (*rules[person.pseudonym], *decision.rule_ids)
            rules[person.pseudonym] = tuple(dict.fromkeys(both))
    return rules


def _naming(
    core: Core, s: Session, dep: t.Deployment, person: Person, err: PolicyDenied
) -> PolicyDenied:
    """The refusal, saying which of the operator's people it is about."""
    ref = person.ref
    if ref is None:
        subject = s.get(t.Subject, person.subject_id)
        ref = core.keyring.open_ref(dep, subject) if subject is not None else person.pseudonym
    reason = err.message.rsplit(" [", 1)[0]
    return PolicyDenied(
        f"{ref}: {reason}; nothing was sent",
        rule_id=err.rule_id,
        rule_ids=err.rule_ids,
        advice=err.advice,
    )


def _within_agreement(core: Core, actor: Actor, s: Session, plan: _Plan) -> None:
    """A bulk transfer beyond the people the agreement allows is stopped, with an alert."""
    dep, rec = plan.dep, plan.rec
    total = len(received_by(s, rec.id) | {p.pseudonym for p in plan.people})
    if total <= rec.max_people:
        return
    why = f"{total} people would have gone to {rec.name}; the agreement allows {rec.max_people}"
    alerts.raise_alert(
        core,
        operator_id=dep.operator_id,
        deployment_id=dep.id,
        kind="bulk_export",
        rule_ids=alerts.security_rules(dep.jurisdiction),
        details={"why": why, "recipient_id": rec.id, "act": plan.verb},
        principal_id=actor.principal_id,
    )
    err = alerts.refusal(
        dep.jurisdiction,
        f"this {plan.verb} goes beyond the agreement: {why}",
        "Send only the people the agreement covers, or record a new agreement first.",
    )
    event = Event(
        Kind.SHARED if plan.verb == "share" else Kind.EXPORTED,
        plan.now,
        operator=dep.operator_id,
        deployment=dep.id,
        by=actor.principal_id,
        details={"recipient_id": rec.id, "people": len(plan.people)},
    )
    core.record_denial(err, event)
    raise err


def _key_document(export_id: str, plan: _Plan, ek: ExportKeys) -> bytes:
    return json.dumps(
        {
            "format": KEY_FORMAT,
            "export_id": export_id,
            "scheme": plan.dep.scheme,
            "threshold": plan.dep.threshold,
            "transform_seed": base64.b64encode(ek.transform_seed).decode(),
            "note": "The transform seed of this export: probes made with it match its templates."
            " Keep it apart from the export file; it is as sensitive as the file.",
        },
        sort_keys=True,
        indent=2,
    ).encode()


@dataclasses.dataclass(frozen=True)
class _Made:
    export_id: str
    key: bytes
    wrapped: bytes
    document: bytes
    key_file: bytes


def _record(
    core: Core, actor: Actor, plan: _Plan, made: _Made, *, rows: int, canaries: int
) -> TransferResult:
    """The export row, the people it carried, an event each and one for the act, in one
    transaction; each person still there (and held there until the commit)."""
    dep, rec = plan.dep, plan.rec
    file_sha256, key_id = sha256_hex(made.document), keys.key_id(made.key)
    with core.db.transaction() as s:
        for p in plan.people:
            if s.get(t.Subject, p.subject_id, with_for_update=True) is None:
                raise Conflict(f"{p.ref or p.pseudonym} withdrew or was erased meanwhile")
        recorded = core.record(s, *_events(actor, plan, made, file_sha256, key_id))
        s.add(
            t.TransferExport(
                id=made.export_id,
                operator_id=dep.operator_id,
                deployment_id=dep.id,
                recipient_id=rec.id,
                act=plan.verb,
                people=len(plan.people),
                rows=rows,
                canaries=canaries,
                cross_border=plan.cross_border,
                scheme=dep.scheme,
                key_id=key_id,
                wrapped_key=made.wrapped,
                file_sha256=file_sha256,
                created_at=plan.now,
                created_by=actor.principal_id,
                event_id=recorded[-1].event_id,
            )
        )
        s.flush()
        s.add_all(
            t.TransferItem(export_id=made.export_id, pseudonym=p.pseudonym, event_id=r.event_id)
            for p, r in zip(plan.people, recorded, strict=False)
        )
    return TransferResult(
        export_id=made.export_id,
        act=plan.verb,
        deployment_id=dep.id,
        recipient_id=rec.id,
        people=len(plan.people),
        rows=rows,
        cross_border=plan.cross_border,
        people_abroad_this_year=plan.abroad,
        scheme=dep.scheme,
        key_id=key_id,
        file_sha256=file_sha256,
        rule_ids=recorded_rules(plan),
        event_id=recorded[-1].event_id,
        file=made.document,
        key_file=made.key_file,
    )


def recorded_rules(plan: _Plan) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r for p in plan.people for r in plan.rules[p.pseudonym]))


def _events(actor: Actor, plan: _Plan, made: _Made, file_sha256: str, key_id: str) -> list[Event]:
    """One event per person carried (their pseudonym, their decision's rules), then one for
    the act (the agreement, the file's hash, the key's id, the year's count abroad)."""
    dep, rec = plan.dep, plan.rec
    common = {"export_id": made.export_id, "act": plan.verb, "recipient_id": rec.id}
    events = [
        Event(
            Kind.TRANSFERRED,
            plan.now,
            operator=dep.operator_id,
            deployment=dep.id,
            subject=p.pseudonym,
            rule_ids=plan.rules[p.pseudonym],
            by=actor.principal_id,
            details={**common, "destination": rec.country, "cross_border": plan.cross_border},
        )
        for p in plan.people
    ]
    details = {
        **common,
        "agreement_sha256": rec.agreement_sha256,
        "people": len(plan.people),
        "file_sha256": file_sha256,
        "key_id": key_id,
        "scheme": dep.scheme,
        "cross_border": plan.cross_border,
        "destination": rec.country,
        "mechanism": rec.mechanism,
        "people_abroad_this_year": plan.abroad,
    }
    kind = Kind.SHARED if plan.verb == "share" else Kind.EXPORTED
    return [
        *events,
        Event(
            kind,
            plan.now,
            operator=dep.operator_id,
            deployment=dep.id,
            rule_ids=recorded_rules(plan),
            by=actor.principal_id,
            details=details,
        ),
    ]
