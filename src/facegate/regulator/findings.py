"""Findings: what the witness and the monitor found, one row per (log, key).

A finding is raised once and counted when it recurs (the same key), so a rule that keeps
firing on every push does not flood the table; a resolved finding that recurs is reopened.
Severity: ``alarm`` (the log misbehaved: fork, rollback, withheld or substituted entries,
index mismatch), ``breach`` (processing the law forbids: no consent, undeclared capability),
``overdue`` (a deadline passed) and ``warning``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from facegate._internal.clock import Entropy
from facegate._internal.ids import new_id
from facegate.regulator.common import aware
from facegate.regulator.tables import RegFinding

__all__ = ["FindingInfo", "Severity", "info", "list_findings", "raise_finding", "resolve"]

Severity = Literal["alarm", "breach", "overdue", "warning"]


@dataclass(frozen=True, slots=True)
class FindingInfo:
    id: str
    origin: str
    rule: str
    key: str
    severity: str
    message: str
    details: Mapping[str, Any]
    evidence: str
    entry_index: int | None
    count: int
    raised_at: datetime
    updated_at: datetime
    resolved_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__slots__}
        out["details"] = dict(self.details)
        for k in ("raised_at", "updated_at", "resolved_at"):
            out[k] = out[k].isoformat() if out[k] is not None else None
        return out


def raise_finding(
    s: Session,
    log_id: str,
    *,
    rule: str,
    key: str,
    severity: Severity,
    message: str,
    now: datetime,
    entropy: Entropy,
    details: Mapping[str, Any] | None = None,
    evidence: str = "",
    entry_index: int | None = None,
) -> RegFinding:
    """Raise (or count again) the finding ``key`` of one log, in the caller's transaction."""
    row = s.scalar(select(RegFinding).where(RegFinding.log_id == log_id, RegFinding.key == key))
    if row is None:
        row = RegFinding(
            id=new_id("fnd", entropy),
            log_id=log_id,
            rule=rule,
            key=key[:200],
            severity=severity,
            message=message,
            details=dict(details or {}),
            evidence=evidence,
            entry_index=entry_index,
            count=1,
            raised_at=now,
            updated_at=now,
        )
        s.add(row)
        return row
    row.count += 1
    row.updated_at = now
    row.message = message
    row.details = dict(details or row.details)
    if evidence and not row.evidence:
        row.evidence = evidence  # the first evidence stays: it is the earliest proof
    row.resolved_at = None
    return row


def resolve(s: Session, log_id: str, key: str, *, now: datetime) -> bool:
    """Mark a finding resolved (the condition no longer holds); True if one was open."""
    row = s.scalar(select(RegFinding).where(RegFinding.log_id == log_id, RegFinding.key == key))
    if row is None or row.resolved_at is not None:
        return False
    row.resolved_at = now
    return True


def info(row: RegFinding, origin: str) -> FindingInfo:
    return FindingInfo(
        id=row.id,
        origin=origin,
        rule=row.rule,
        key=row.key,
        severity=row.severity,
        message=row.message,
        details=dict(row.details),
        evidence=row.evidence,
        entry_index=row.entry_index,
        count=row.count,
        raised_at=aware(row.raised_at),
        updated_at=aware(row.updated_at),
        resolved_at=aware(row.resolved_at) if row.resolved_at else None,
    )


def list_findings(
    s: Session, log_id: str, origin: str, *, open_only: bool = False
) -> list[FindingInfo]:
    q = select(RegFinding).where(RegFinding.log_id == log_id)
    if open_only:
        q = q.where(RegFinding.resolved_at.is_(None))
    rows = s.scalars(q.order_by(RegFinding.raised_at, RegFinding.id))
    return [info(r, origin) for r in rows]
