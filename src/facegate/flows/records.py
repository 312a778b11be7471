"""Deleting records the law makes the operator keep for a while: impact assessments
(CN-FR-9: at least 3 years) and the logs of remote identification (EU-AI-19: at least six
months). Each deletion is decided by the packs and ledgered; the ledger itself is never
pruned."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from facegate.actors import Actor
from facegate.core import Core, aware
from facegate.errors import Conflict, NotFound
from facegate.flows.enforce import enforce, require
from facegate.ledger.events import Event, Kind
from facegate.policy import Act, RecordFacts
from facegate.storage import tables as t


def delete_pia(core: Core, actor: Actor, deployment_id: str, version: int) -> str:
    """Delete an impact assessment no longer in force, once the packs allow it."""
    require(actor, "supervise", "delete impact assessments")
    now = core.clock()
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, actor.operator_id)
        row = s.scalar(select(t.Pia).where(t.Pia.deployment_id == dep.id, t.Pia.version == version))
        if row is None:
            raise NotFound(f"no impact assessment version {version} of {deployment_id}")
        newest = s.scalar(
            select(t.Pia.version)
            .where(t.Pia.deployment_id == dep.id)
            .order_by(t.Pia.version.desc())
            .limit(1)
        )
        if newest == version and dep.status != "ended":
            raise Conflict("this is the assessment in force; it cannot be deleted")
        record = RecordFacts(kind="pia", created_at=aware(row.completed_at))
        event = _event(now, dep, actor, {"record": "pia", "version": version})
        decision = enforce(core, s, dep, Act.DELETE_RECORD, event, now=now, record=record)
    with core.db.transaction() as s:
        s.execute(delete(t.Pia).where(t.Pia.deployment_id == dep.id, t.Pia.version == version))
        return core.record(
            s, _event(now, dep, actor, {"record": "pia", "version": version}, decision.rule_ids)
        )[0].event_id


def purge_identification_logs(
    core: Core, actor: Actor, deployment_id: str, *, before: datetime
) -> tuple[int, str]:
    """Delete the remote-identification logs (EU-AI-12) of uses started before ``before``,
    once the packs allow it (EU-AI-19: kept at least six months)."""
    require(actor, "supervise", "purge identification logs")
    now = core.clock()
    before = aware(before)
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, actor.operator_id)
        oldest = s.scalar(
            select(t.Identification.started_at)
            .where(t.Identification.deployment_id == dep.id, t.Identification.started_at < before)
            .order_by(t.Identification.started_at.desc())
            .limit(1)
        )
        if oldest is None:
            raise NotFound("no identification logs of this deployment before that date")
        # the newest log that would go decides: it is the one kept the shortest
        record = RecordFacts(kind="log", created_at=aware(oldest))
        details: dict[str, object] = {
            "record": "identification_logs",
            "before": before.isoformat(),
        }
        decision = enforce(
            core,
            s,
            dep,
            Act.DELETE_RECORD,
            _event(now, dep, actor, details),
            now=now,
            record=record,
        )
    with core.db.transaction() as s:
        gone = s.execute(
            delete(t.Identification).where(
                t.Identification.deployment_id == dep.id, t.Identification.started_at < before
            )
        )
        n = int(getattr(gone, "rowcount", 0) or 0)
        event_id = core.record(
            s, _event(now, dep, actor, {**details, "deleted": n}, decision.rule_ids)
        )[0].event_id
    return n, event_id


def _event(
    now: datetime,
    dep: t.Deployment,
    actor: Actor,
    details: dict[str, object],
    rule_ids: tuple[str, ...] = (),
) -> Event:
    return Event(
        Kind.RECORD_DELETED,
        now,
        operator=dep.operator_id,
        deployment=dep.id,
        by=actor.principal_id,
        rule_ids=rule_ids,
        details=details,
    )
