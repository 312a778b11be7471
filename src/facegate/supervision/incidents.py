"""Personal-information security incidents (breaches) and their notification clocks.

- CN-PIPL-57: on a breach (leak, tampering, loss) the processor remedies at once and
  notifies the regulator and the individuals *immediately*. The law sets no hours, so the
  obligation is due from the moment of discovery and shows as "due now" until it is met.
  (Individuals may go unnotified where the measures taken effectively avoid harm, unless the
  regulator asks; facegate still lists the obligation for a person to decide.)
- EU-GDPR-33: notify the supervisory authority within 72 hours of becoming aware (Art. 33),
  and the individuals without undue delay where the risk to them is high (Art. 34).

Which clocks run follows the policy packs of the affected deployments. Each step (opened,
notified, closed) is a ledger event written in the same transaction; the ledger holds the
description's hash, never its text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from facegate._internal.canonical import sha256_hex
from facegate._internal.ids import new_id
from facegate.core import Core, aware, packs_of
from facegate.errors import Conflict, InvalidInput, NotFound, PolicyDenied
from facegate.flows.facts import deployment_facts
from facegate.flows.operators import LOCAL_OPERATOR
from facegate.ledger.events import Event, Kind
from facegate.policy import Act, Context, Decision, Finding, IncidentFacts, decide, rules_for
from facegate.storage import tables as t
from facegate.supervision.results import (
    Audience,
    IncidentInfo,
    IncidentStatus,
    Obligation,
    ObligationState,
)

PIPL = "CN-PIPL-57"
GDPR = "EU-GDPR-33"
GDPR_HOURS = 72
MAX_DESCRIPTION = 10_000


def obligations(
    jurisdictions: Iterable[str],
    *,
    discovered_at: datetime,
    high_risk: bool,
    regulator_at: datetime | None,
    individuals_at: datetime | None,
    now: datetime,
    harm_avoided: bool = False,
) -> tuple[Obligation, ...]:
    """The notifications the affected deployments' packs call for, and their state now."""
    families = {j.split("-")[0] for j in jurisdictions}
    out: list[Obligation] = []
    if "cn" in families:
        pairs: tuple[tuple[Audience, datetime | None], ...] = (
            ("regulator", regulator_at),
            ("individuals", individuals_at),
        )
        for audience, done in pairs:
            ob = _obligation(
                PIPL,
                audience,
                when="immediately (PIPL Art 57 sets no hours)",
                due_at=discovered_at,
                immediate=True,
                done_at=done,
                now=now,
            )
            if audience == "individuals" and harm_avoided and done is None:
                ob = ob.model_copy(
                    update={
                        "state": "waived",
                        "when": "not needed: the measures taken effectively avoid harm "
                        "(PIPL Art 57), unless the authority asks",
                    }
                )
            out.append(ob)
    if "eu" in families:
        out.append(
            _obligation(
                GDPR,
                "regulator",
                when=f"within {GDPR_HOURS} hours of becoming aware (GDPR Art 33)",
                due_at=discovered_at + timedelta(hours=GDPR_HOURS),
                immediate=False,
                done_at=regulator_at,
                now=now,
            )
        )
        if high_risk:
            out.append(
                _obligation(
                    GDPR,
                    "individuals",
                    when="without undue delay, as the risk is high (GDPR Art 34)",
                    due_at=discovered_at,
                    immediate=True,
                    done_at=individuals_at,
                    now=now,
                )
            )
    return tuple(out)


def open_incident(
    core: Core,
    *,
    discovered_at: datetime,
    description: str,
    people_estimate: int,
    deployments: Sequence[str] = (),
    high_risk: bool = False,
    operator_id: str = LOCAL_OPERATOR,
    now: datetime | None = None,
) -> IncidentInfo:
    """Record a breach. ``deployments`` empty means every deployment of the operator."""
    now = now or core.clock()
    discovered_at = aware(discovered_at).astimezone(UTC)
    description = description.strip()
    if not description or len(description) > MAX_DESCRIPTION:
        raise InvalidInput(
            f"describe the incident in 1 to {MAX_DESCRIPTION} characters",
            advice="Say what happened, which data and systems, and what was done at once.",
        )
    if discovered_at > now:
        raise InvalidInput(
            f"the incident cannot be discovered in the future ({discovered_at.isoformat()})",
            advice="Give the moment the breach became known, in ISO 8601 with a time zone.",
        )
    if people_estimate < 0:
        raise InvalidInput("the estimated number of people affected cannot be negative")
    with core.db.transaction() as s:
        deps = _deployments(core, s, deployments, operator_id)
        jurisdictions = sorted({p for d in deps for p in packs_of(d.jurisdiction)})
        row = t.Incident(
            id=new_id("inc", core.entropy),
            operator_id=operator_id,
            discovered_at=discovered_at,
            description=description,
            deployments=[d.id for d in deps],
            jurisdictions=jurisdictions,
            people_estimate=people_estimate,
            high_risk=high_risk,
            status="open",
            regulator_reference="",
            delay_reason="",
            harm_avoided=False,
            resolution="",
            created_at=now,
        )
        s.add(row)
        info = _info(row, now=now)
        recorded = core.record(
            s,
            _event(
                Kind.INCIDENT_OPENED,
                row,
                info,
                now,
                description_sha256=sha256_hex(description),
                people_estimate=people_estimate,
                high_risk=high_risk,
                discovered_at=discovered_at.isoformat(),
                due={f"{o.rule_id}/{o.audience}": o.due_at.isoformat() for o in info.obligations},
            ),
        )
    return info.model_copy(update={"event_id": recorded[0].event_id})


def notify_incident(
    core: Core,
    incident_id: str,
    *,
    audience: Audience,
    reference: str = "",
    delay_reason: str = "",
    at: datetime | None = None,
    operator_id: str | None = None,
    now: datetime | None = None,
) -> IncidentInfo:
    """Record that the regulator (or the individuals) were notified, at ``at`` (default now).
    A regulator told more than 72 hours after discovery under the GDPR needs
    ``delay_reason`` (EU-GDPR-33); it is kept with the incident."""
    now = now or core.clock()
    at = aware(at).astimezone(UTC) if at is not None else now
    with core.db.transaction() as s:
        row = _incident(s, incident_id, operator_id)
        if row.status == "closed":
            raise Conflict(f"incident {row.id} is closed")
        if at > now or at < aware(row.discovered_at):
            raise InvalidInput(
                "a notification time must lie between the discovery and now",
                advice=f"The incident was discovered at {aware(row.discovered_at).isoformat()}.",
            )
        done = row.regulator_notified_at if audience == "regulator" else row.individuals_notified_at
        if done is not None:
            raise Conflict(
                f"the {audience} of incident {row.id} were already notified at "
                f"{aware(done).isoformat()}"
            )
        if audience == "regulator":
            row.regulator_notified_at = at
            row.regulator_reference = reference.strip()[:200]
            row.delay_reason = delay_reason.strip()
            row.status = "notified"
        else:
            row.individuals_notified_at = at
        info = _info(row, now=now)
        met = [o for o in info.obligations if o.audience == audience]
        recorded = core.record(
            s,
            _event(
                Kind.INCIDENT_NOTIFIED,
                row,
                info,
                now,
                audience=audience,
                at=at.isoformat(),
                reference=row.regulator_reference if audience == "regulator" else "",
                on_time={o.rule_id: o.state == "done" for o in met},
            ),
        )
    return info.model_copy(update={"event_id": recorded[0].event_id})


def close_incident(
    core: Core,
    incident_id: str,
    *,
    resolution: str,
    harm_avoided: bool = False,
    operator_id: str | None = None,
    now: datetime | None = None,
) -> IncidentInfo:
    """Close a remedied incident. The affected deployments' packs decide (CN-PIPL-57,
    EU-GDPR-33): closing is refused, and the refusal recorded, while the regulator or the
    people affected are still owed notice. ``harm_avoided``: the measures taken effectively
    avoid harm, so under the PIPL the individuals need not be told."""
    now = now or core.clock()
    resolution = resolution.strip()
    if not resolution or len(resolution) > MAX_DESCRIPTION:
        raise InvalidInput(f"say how the incident was resolved (1 to {MAX_DESCRIPTION} characters)")
    with core.db.read() as s:
        row = _incident(s, incident_id, operator_id)
        if row.status == "closed":
            raise Conflict(f"incident {row.id} is already closed")
        decision = _close_decision(core, s, row, harm_avoided=harm_avoided, now=now)
        closing = _event(Kind.INCIDENT_CLOSED, row, _info(row, now=now), now)
    try:
        decision.raise_if_denied()
    except PolicyDenied as err:
        err.advice = (
            f"{err.advice}\nThen: facegate incident notify --incident {incident_id} "
            "--to regulator|individuals"
        ).strip()
        core.record_denial(err, closing)
        raise
    with core.db.transaction() as s:
        row = _incident(s, incident_id, operator_id)
        if row.status == "closed":  # closed meanwhile
            raise Conflict(f"incident {row.id} is already closed")
        row.status = "closed"
        row.resolution = resolution
        row.harm_avoided = harm_avoided
        row.closed_at = now
        info = _info(row, now=now)
        event = _event(
            Kind.INCIDENT_CLOSED,
            row,
            info,
            now,
            resolution_sha256=sha256_hex(resolution),
            harm_avoided=harm_avoided,
        )
        recorded = core.record(s, replace(event, rule_ids=decision.rule_ids or event.rule_ids))
    return info.model_copy(update={"event_id": recorded[0].event_id})


def list_incidents(
    core: Core, *, operator_id: str | None = None, now: datetime | None = None
) -> list[IncidentInfo]:
    """Every incident, newest discovery first, with its clocks as they stand ``now``."""
    now = now or core.clock()
    with core.db.read() as s:
        q = select(t.Incident).order_by(t.Incident.discovered_at.desc(), t.Incident.id)
        if operator_id is not None:
            q = q.where(t.Incident.operator_id == operator_id)
        return [_info(row, now=now) for row in s.scalars(q)]


def get_incident(
    core: Core, incident_id: str, *, operator_id: str | None = None, now: datetime | None = None
) -> IncidentInfo:
    now = now or core.clock()
    with core.db.read() as s:
        return _info(_incident(s, incident_id, operator_id), now=now)


# --- internals -------------------------------------------------------------------------------


def _obligation(
    rule_id: str,
    audience: Audience,
    *,
    when: str,
    due_at: datetime,
    immediate: bool,
    done_at: datetime | None,
    now: datetime,
) -> Obligation:
    state: ObligationState
    hours_left: float | None = None
    if done_at is not None:
        state = "done_late" if not immediate and done_at > due_at else "done"
    elif immediate:
        state = "due_now"
    else:
        hours_left = round((due_at - now).total_seconds() / 3600, 2)
        state = "overdue" if now > due_at else "pending"
    return Obligation(
        rule_id=rule_id,
        audience=audience,
        when=when,
        due_at=due_at,
        immediate=immediate,
        done_at=done_at,
        state=state,
        hours_left=hours_left,
    )


def _close_decision(
    core: Core, s: Session, row: t.Incident, *, harm_avoided: bool, now: datetime
) -> Decision:
    """Every affected deployment's packs, over the incident as it stands."""
    facts = IncidentFacts(
        detected_at=aware(row.discovered_at),
        regulator_notified_at=aware(row.regulator_notified_at)
        if row.regulator_notified_at
        else None,
        individuals_notified=row.individuals_notified_at is not None,
        high_risk=row.high_risk,
        harm_avoided=harm_avoided,
        delay_reason=row.delay_reason,
    )
    denials: list[Finding] = []
    rule_ids: list[str] = []
    for dep_id in row.deployments:
        dep = s.get(t.Deployment, dep_id)
        if dep is None:  # pragma: no cover - deployments are never deleted
            continue
        decision = decide(
            Context(Act.CLOSE_INCIDENT, deployment_facts(s, dep), now, incident=facts),
            rules_for(packs_of(dep.jurisdiction)),
        )
        denials.extend(decision.denials)
        rule_ids.extend(decision.rule_ids)
    unique = {(f.rule_id, f.reason): f for f in denials}
    return Decision(
        allowed=not unique, rule_ids=tuple(dict.fromkeys(rule_ids)), denials=tuple(unique.values())
    )


def _deployments(
    core: Core, s: Session, ids: Sequence[str], operator_id: str
) -> list[t.Deployment]:
    if ids:
        return [core.deployment(s, dep_id, operator_id) for dep_id in dict.fromkeys(ids)]
    return list(
        s.scalars(
            select(t.Deployment)
            .where(t.Deployment.operator_id == operator_id)
            .order_by(t.Deployment.id)
        )
    )


def _incident(s: Session, incident_id: str, operator_id: str | None) -> t.Incident:
    row = s.get(t.Incident, incident_id)
    if row is None or (operator_id is not None and row.operator_id != operator_id):
        raise NotFound(
            f"no incident {incident_id!r}", advice="List incidents with 'facegate incident list'."
        )
    return row


def _info(row: t.Incident, *, now: datetime) -> IncidentInfo:
    regulator_at = aware(row.regulator_notified_at) if row.regulator_notified_at else None
    individuals_at = aware(row.individuals_notified_at) if row.individuals_notified_at else None
    return IncidentInfo(
        id=row.id,
        operator_id=row.operator_id,
        discovered_at=aware(row.discovered_at),
        description=row.description,
        deployments=tuple(row.deployments),
        jurisdictions=tuple(row.jurisdictions),
        people_estimate=row.people_estimate,
        high_risk=row.high_risk,
        status=cast(IncidentStatus, row.status),
        obligations=obligations(
            row.jurisdictions,
            discovered_at=aware(row.discovered_at),
            high_risk=row.high_risk,
            regulator_at=regulator_at,
            individuals_at=individuals_at,
            now=now,
            harm_avoided=row.harm_avoided,
        ),
        regulator_reference=row.regulator_reference,
        delay_reason=row.delay_reason,
        harm_avoided=row.harm_avoided,
        resolution=row.resolution,
        closed_at=aware(row.closed_at) if row.closed_at else None,
    )


def _event(
    kind: Kind, row: t.Incident, info: IncidentInfo, now: datetime, **details: object
) -> Event:
    return Event(
        kind,
        now,
        operator=row.operator_id,
        deployment=row.deployments[0] if len(row.deployments) == 1 else None,
        rule_ids=tuple(dict.fromkeys(o.rule_id for o in info.obligations)),
        details={
            "incident_id": row.id,
            "deployments": list(row.deployments),
            "status": row.status,
            **details,
        },
    )
