"""What the regulator console shows, read from the regulator's own database: every
supervised operator with its state, risk and witness freshness (:mod:`.risk`), and for one
operator its findings, filings and incident notifications, the orders issued to it and
whether they were acknowledged, and figures over time (events per day, consents and
withdrawals, refusals by rule) from the entries its witness mirrored.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final

from sqlalchemy import select

from facegate.errors import NotFound
from facegate.regulator.common import aware
from facegate.regulator.node import Regulator
from facegate.regulator.registry import log_by_origin
from facegate.regulator.tables import RegCount, RegEntry, RegLog, RegOrder
from facegate.web.stats import DENIED, GIVEN, WITHDRAWN, Figures

#: the most mirrored entries read for refusals by rule (the newest ones)
WINDOW: Final = 5000


@dataclass(frozen=True)
class OrderView:
    id: str
    kind: str
    deployment_id: str | None
    reason: str
    issued_at: datetime
    due_at: datetime | None
    acknowledged_at: datetime | None
    overdue: bool


def overview(reg: Regulator) -> list[dict[str, Any]]:
    """The risk view of every log, highest score first, each with its id (for links)."""
    with reg.core.db.read() as s:
        ids = {origin: log_id for origin, log_id in s.execute(select(RegLog.origin, RegLog.id))}
    return [{**view, "id": ids.get(view["origin"], "")} for view in reg.risk()]


def origin_of(reg: Regulator, log_id: str) -> str:
    """The origin of the log with this id; :class:`NotFound` for any other value."""
    with reg.core.db.read() as s:
        row = s.get(RegLog, log_id[:40])
        if row is None:
            raise NotFound("there is no such operator here")
        return row.origin


def orders_of(reg: Regulator, origin: str) -> list[OrderView]:
    now = reg.core.now()
    with reg.core.db.read() as s:
        log = log_by_origin(s, origin)
        rows = s.scalars(select(RegOrder).where(RegOrder.log_id == log.id).order_by(RegOrder.seq))
        return [
            OrderView(
                id=o.id,
                kind=o.kind,
                deployment_id=o.deployment_id,
                reason=o.reason,
                issued_at=aware(o.issued_at),
                due_at=aware(o.due_at) if o.due_at else None,
                acknowledged_at=aware(o.acknowledged_at) if o.acknowledged_at else None,
                overdue=o.acknowledged_at is None
                and o.due_at is not None
                and aware(o.due_at) < now,
            )
            for o in rows
        ]


def figures(reg: Regulator, origin: str, *, days: int = 14, today: date | None = None) -> Figures:
    """Figures over the last ``days`` days: per-day counts the monitor kept while replaying
    the log, and refusals by rule from the newest mirrored entries."""
    today = today or reg.core.now().date()
    span = tuple(today - timedelta(days=days - 1 - k) for k in range(days))
    first = span[0].isoformat()
    per_day: Counter[str] = Counter()
    given: Counter[str] = Counter()
    withdrawn: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    refusals: Counter[str] = Counter()
    with reg.core.db.read() as s:
        log = log_by_origin(s, origin)
        for day, kind, n in s.execute(
            select(RegCount.day, RegCount.kind, RegCount.n).where(
                RegCount.log_id == log.id, RegCount.day >= first
            )
        ):
            per_day[day] += n
            kinds[kind] += n
            given[day] += n if kind == GIVEN else 0
            withdrawn[day] += n if kind == WITHDRAWN else 0
        low = max(0, log.size - WINDOW)
        read = 0
        for data in s.scalars(
            select(RegEntry.data).where(  # verified entries only, not staged ones
                RegEntry.log_id == log.id, RegEntry.idx >= low, RegEntry.idx < log.size
            )
        ):
            read += 1
            event = json.loads(bytes(data))
            if event.get("kind") == DENIED:
                refusals.update(str(r) for r in event.get("rules") or ())
        size = log.size
    keys = [d.isoformat() for d in span]
    return Figures(
        size=size,
        read=read,
        days=span,
        events_per_day=tuple(per_day[k] for k in keys),
        consents_per_day=tuple(given[k] for k in keys),
        withdrawals_per_day=tuple(withdrawn[k] for k in keys),
        refusals_by_rule=tuple(sorted(refusals.items(), key=lambda kv: (-kv[1], kv[0]))[:12]),
        kinds=tuple(sorted(kinds.items())),
    )
