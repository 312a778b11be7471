"""The risk view: per operator, what the regulator knows now, as JSON.

For each supervised log: its open findings by severity and rule, the obligations past due
(deadlines the log announced, rectify orders not acknowledged by their date), the witness's
freshness (size, last cosignature, seconds since, the agreed interval), people held against
the filing threshold, and events per day. The score is a plain weighted count, so that an
official can see why a log ranks where it does: 100 per open alarm, 10 per breach, 5 per
overdue item, 1 per warning, 20 if the witness is stale.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from facegate.regulator.common import RegCore, aware
from facegate.regulator.tables import RegCount, RegFinding, RegLog, RegObligation, RegOrder

__all__ = ["WEIGHTS", "risk_view"]

WEIGHTS: Final = {"alarm": 100, "breach": 10, "overdue": 5, "warning": 1}
STALE_WEIGHT: Final = 20
COUNT_DAYS: Final = 90


def risk_view(core: RegCore, origin: str | None = None) -> list[dict[str, Any]]:
    """The view of every log (or of ``origin``), highest score first."""
    now = core.now()
    with core.db.read() as s:
        q = select(RegLog).order_by(RegLog.origin)
        if origin is not None:
            q = q.where(RegLog.origin == origin)
        views = [_view(s, log, now) for log in s.scalars(q)]
    return sorted(views, key=lambda v: -int(v["score"]))


def _view(s: Session, log: RegLog, now: datetime) -> dict[str, Any]:
    open_findings = list(
        s.scalars(
            select(RegFinding).where(RegFinding.log_id == log.id, RegFinding.resolved_at.is_(None))
        )
    )
    by_severity = Counter(f.severity for f in open_findings)
    by_rule = Counter(f.rule for f in open_findings)
    overdue = _overdue(s, log, now)
    witness = _freshness(log, now)
    score = sum(WEIGHTS.get(k, 1) * n for k, n in by_severity.items())
    score += WEIGHTS["overdue"] * len(overdue) + (STALE_WEIGHT if witness["stale"] else 0)
    return {
        "origin": log.origin,
        "operator": log.operator_name,
        "contact": log.contact,
        "state": log.state,
        "score": score,
        "level": "red" if by_severity["alarm"] or score >= 100 else "amber" if score else "green",
        "findings": {
            "open": len(open_findings),
            "by_severity": dict(by_severity),
            "by_rule": dict(by_rule),
        },
        "overdue": overdue,
        "witness": witness,
        "people": {
            "held": log.people,
            "filing_threshold": log.filing_threshold,
            "threshold_reached_at": _iso(log.threshold_reached_at),
            "filing_seen_at": _iso(log.filing_seen_at),
        },
        "counts": _counts(s, log, now),
    }


def _overdue(s: Session, log: RegLog, now: datetime) -> list[dict[str, Any]]:
    out = [
        {"what": ob.what, "key": ob.key, "due_at": _iso(ob.due_at)}
        for ob in s.scalars(
            select(RegObligation).where(
                RegObligation.log_id == log.id,
                RegObligation.done_at.is_(None),
                RegObligation.due_at < now,
            )
        )
    ]
    for order in s.scalars(
        select(RegOrder).where(
            RegOrder.log_id == log.id,
            RegOrder.acknowledged_at.is_(None),
            RegOrder.due_at.is_not(None),
            RegOrder.due_at < now,
        )
    ):
        out.append(
            {
                "what": f"{order.kind} order {order.id}",
                "key": f"order:{order.id}",
                "due_at": _iso(order.due_at),
            }
        )
    return out


def _freshness(log: RegLog, now: datetime) -> dict[str, Any]:
    last = aware(log.cosigned_at) if log.cosigned_at else None
    since = round((now - last).total_seconds(), 3) if last else None
    return {
        "size": log.size,
        "cosigned_at": _iso(last),
        "seconds_since": since,
        "push_interval_s": log.push_interval_s,
        "stale": log.state in {"active", "suspended"}
        and (since is None or since > log.push_interval_s),
    }


def _counts(s: Session, log: RegLog, now: datetime) -> dict[str, dict[str, int]]:
    first = (now - timedelta(days=COUNT_DAYS)).date().isoformat()
    days: dict[str, dict[str, int]] = defaultdict(dict)
    for day, kind, n in s.execute(
        select(RegCount.day, RegCount.kind, RegCount.n)
        .where(RegCount.log_id == log.id, RegCount.day >= first)
        .order_by(RegCount.day, RegCount.kind)
    ):
        days[day][kind] = n
    return dict(days)


def _iso(value: datetime | None) -> str | None:
    return aware(value).isoformat() if value is not None else None
