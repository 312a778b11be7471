"""Alerts: harvesting or an attack detected, stopped, ledgered and sent to the regulator.

An alert is a row (what was seen, what it blocks and until when) and a ledger event in one
transaction; the link's loop in ``facegate serve`` then delivers it to the regulator at its
next round (signed receipt kept and ledgered, as filings and incident notices are), never
inside the request that raised it, so an unreachable regulator slows no one. A regulator out
of reach leaves it pending for the next round; ``facegate alert deliver`` sends what is
pending by hand. A block is lifted early
only by a supervising principal (admin or DPO), with reasons, ledgered too.

A refusal because of an alert cites the security control it rests on: ISO-24745 (templates'
confidentiality and irreversibility, under every pack) and, under the ``cn`` pack, CN-FR-14
(intrusion detection).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from facegate._internal.ids import new_id
from facegate.actors import Actor
from facegate.core import Core, aware, packs_of
from facegate.errors import Conflict, InvalidInput, NotFound, PolicyDenied
from facegate.ledger.events import Event, Kind
from facegate.regulator.link_client import RegulatorClient
from facegate.storage import tables as t

__all__ = [
    "AlertInfo",
    "block_state",
    "clear_alert",
    "deliver_pending",
    "list_alerts",
    "raise_alert",
    "refusal",
    "security_rules",
]

_log = logging.getLogger("facegate.transfers")


@dataclass(frozen=True)
class AlertInfo:
    id: str
    kind: str
    deployment_id: str | None
    subject: str | None
    principal_id: str | None
    export_id: str | None
    raised_at: datetime
    blocks_until: datetime | None
    details: dict[str, Any]
    event_id: str
    delivered_at: datetime | None
    receipt_id: str | None
    cleared_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        for k, v in out.items():
            if isinstance(v, datetime):
                out[k] = v.isoformat()
        return out


def security_rules(jurisdiction: str) -> tuple[str, ...]:
    """The rules a security refusal cites under a deployment's packs."""
    return ("CN-FR-14", "ISO-24745") if "cn" in packs_of(jurisdiction) else ("ISO-24745",)


def refusal(jurisdiction: str, reason: str, advice: str) -> PolicyDenied:
    rules = security_rules(jurisdiction)
    return PolicyDenied(reason, rule_id=rules[0], rule_ids=rules, advice=advice)


def block_state(
    s: Session,
    deployment_id: str,
    kind: str,
    now: datetime,
    *,
    subject: str | None = None,
    principal_id: str | None = None,
) -> tuple[bool, datetime | None]:
    """Whether such a block stops this person (or principal) now, and when a supervisor last
    lifted one (what came before it no longer counts): one query, for the door."""
    q = select(t.TransferAlert.blocks_until, t.TransferAlert.cleared_at).where(
        t.TransferAlert.deployment_id == deployment_id, t.TransferAlert.kind == kind
    )
    if subject is not None:
        q = q.where(t.TransferAlert.subject == subject)
    if principal_id is not None:
        q = q.where(t.TransferAlert.principal_id == principal_id)
    rows = s.execute(q).all()
    blocked = any(c is None and u is not None and aware(u) > now for u, c in rows)
    cleared = [aware(c) for _, c in rows if c is not None]
    return blocked, max(cleared) if cleared else None


def raise_alert(
    core: Core,
    *,
    operator_id: str,
    deployment_id: str | None,
    kind: str,
    rule_ids: tuple[str, ...],
    details: dict[str, Any],
    subject: str | None = None,
    principal_id: str | None = None,
    export_id: str | None = None,
    blocks_until: datetime | None = None,
) -> AlertInfo:
    """Record the alert and its ledger event, then try to deliver it to the regulator."""
    now = core.clock()
    alert_id = new_id("alr", core.entropy)
    with core.db.transaction() as s:
        recorded = core.record(
            s,
            Event(
                Kind.ABUSE_ALERT,
                now,
                operator=operator_id,
                deployment=deployment_id,
                subject=subject,
                rule_ids=rule_ids,
                details={
                    "alert_id": alert_id,
                    "alert": kind,
                    "principal": principal_id,
                    "export_id": export_id,
                    "blocks_until": blocks_until.isoformat() if blocks_until else None,
                    **details,
                },
            ),
        )
        s.add(
            t.TransferAlert(
                id=alert_id,
                operator_id=operator_id,
                deployment_id=deployment_id,
                kind=kind,
                subject=subject,
                principal_id=principal_id,
                export_id=export_id,
                raised_at=now,
                blocks_until=blocks_until,
                details=details,
                event_id=recorded[0].event_id,
            )
        )
    _log.warning("alert %s (%s) on %s: %s", alert_id, kind, deployment_id, details.get("why"))
    return _get(core, alert_id)


def deliver(
    core: Core, alert_id: str, *, url: str | None = None, client: RegulatorClient | None = None
) -> AlertInfo:
    """Send one alert to the regulator and keep its signed receipt (ledgered)."""
    from facegate.regulator.link import client_for, link_for, store_receipt

    with core.db.read() as s:
        link = link_for(s, url)
        row = s.get(t.TransferAlert, alert_id)
        if row is None:
            raise NotFound(f"no alert {alert_id!r}")
        document = {"rules": _rules_of(s, row), "alert": _info(row).to_dict()}
    own = client is None
    client = client or client_for(core, link)
    try:
        receipt = client.deliver("alert", alert_id, document)
    finally:
        if own:
            client.close()
    with core.db.transaction() as s:
        link_row = s.get(t.RegulatorLink, link.id)
        row = s.get(t.TransferAlert, alert_id)
        assert link_row is not None and row is not None
        kept = store_receipt(
            core, s, link_row, receipt, what="alert", ref=alert_id, document=document
        )
        row.delivered_at = core.clock()
        row.receipt_id = kept.id
    return _get(core, alert_id)


def deliver_pending(
    core: Core, actor: Actor, *, url: str | None = None, client: RegulatorClient | None = None
) -> list[AlertInfo]:
    """Deliver every alert of the actor's operator not yet delivered."""
    require(actor, "supervise", "deliver alerts to the regulator")
    ids = _pending_ids(core, actor.operator_id)
    return [deliver(core, alert_id, url=url, client=client) for alert_id in ids]


def deliver_waiting(core: Core, *, url: str, client: RegulatorClient) -> int:
    """The link loop's round: deliver every pending alert of the installation through
    ``client``; returns how many went. The first failure ends the round (retried next)."""
    sent = 0
    for alert_id in _pending_ids(core, None):
        deliver(core, alert_id, url=url, client=client)
        sent += 1
    return sent


def _pending_ids(core: Core, operator_id: str | None) -> list[str]:
    query = select(t.TransferAlert.id).where(t.TransferAlert.delivered_at.is_(None))
    if operator_id is not None:
        query = query.where(t.TransferAlert.operator_id == operator_id)
    with core.db.read() as s:
        return list(s.scalars(query.order_by(t.TransferAlert.raised_at)))


def list_alerts(core: Core, actor: Actor, *, open_only: bool = False) -> list[AlertInfo]:
    require(actor, "read", "read alerts")
    with core.db.read() as s:
        q = select(t.TransferAlert).where(t.TransferAlert.operator_id == actor.operator_id)
        if open_only:
            q = q.where(
                t.TransferAlert.cleared_at.is_(None),
                or_(
                    t.TransferAlert.delivered_at.is_(None),
                    t.TransferAlert.blocks_until > core.clock(),
                ),
            )
        return [_info(r) for r in s.scalars(q.order_by(t.TransferAlert.raised_at.desc()))]


def clear_alert(core: Core, actor: Actor, alert_id: str, *, reason: str) -> AlertInfo:
    """Lift an alert's block early, with reasons (the alert itself stays on record)."""
    require(actor, "supervise", "clear alerts")
    reason = reason.strip()
    if not 10 <= len(reason) <= 500:
        raise InvalidInput("say why the block is lifted, in 10 to 500 characters")
    now = core.clock()
    with core.db.transaction() as s:
        row = s.get(t.TransferAlert, alert_id) if len(alert_id) <= 40 else None
        if row is None or row.operator_id != actor.operator_id:
            raise NotFound(f"no alert {alert_id!r}", advice="List them: 'facegate alert list'.")
        if row.cleared_at is not None:
            raise Conflict(f"alert {alert_id} was already cleared")
        row.cleared_at, row.cleared_by, row.cleared_reason = now, actor.principal_id, reason
        core.record(
            s,
            Event(
                Kind.ALERT_CLEARED,
                now,
                operator=row.operator_id,
                deployment=row.deployment_id,
                subject=row.subject,
                by=actor.principal_id,
                details={"alert_id": alert_id, "reason": reason},
            ),
        )
    return _get(core, alert_id)


def require(actor: Actor, permission: str, what: str) -> None:
    # imported here: the policy door imports this module (its gatekeeper) at start
    from facegate.flows.enforce import require as door_require

    door_require(actor, permission, what)


def _rules_of(s: Session, row: t.TransferAlert) -> list[str]:
    dep = s.get(t.Deployment, row.deployment_id) if row.deployment_id else None
    return list(security_rules(dep.jurisdiction if dep is not None else ""))


def _get(core: Core, alert_id: str) -> AlertInfo:
    with core.db.read() as s:
        row = s.get(t.TransferAlert, alert_id)
        assert row is not None
        return _info(row)


def _info(row: t.TransferAlert) -> AlertInfo:
    return AlertInfo(
        id=row.id,
        kind=row.kind,
        deployment_id=row.deployment_id,
        subject=row.subject,
        principal_id=row.principal_id,
        export_id=row.export_id,
        raised_at=aware(row.raised_at),
        blocks_until=aware(row.blocks_until) if row.blocks_until else None,
        details=dict(row.details),
        event_id=row.event_id,
        delivered_at=aware(row.delivered_at) if row.delivered_at else None,
        receipt_id=row.receipt_id,
        cleared_at=aware(row.cleared_at) if row.cleared_at else None,
    )
