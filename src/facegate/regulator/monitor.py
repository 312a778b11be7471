"""The monitor: rules run over the mirrored stream, and over time.

:func:`replay` runs inside the witness's transaction, over the entries it is about to cosign,
so the monitor has seen exactly what the witness vouched for. It keeps per log what the
stream declared (deployments and their capabilities, pseudonyms with a consent in force and
the time since which a template is held, deadlines the log announced, counts per day) and
raises findings:

* ``consent_missing``: an enroll, verify or identify of a pseudonym with no consent in force
  (no ``consent.given`` before it, or a withdrawal or erasure since);
* ``capability_undeclared``: an act the deployment did not declare at registration
  (``deployment.created`` details ``capabilities``), or on a deployment never declared;
* ``unreadable_entry``: an entry that is not a facegate event.

:func:`sweep` (periodically, in ``facegate regulator serve``) adds the rules that depend on
the clock: ``retention_overdue``, ``filing_missing`` (the filing threshold passed without a
``filing.opened``), ``obligation_overdue`` (an incident notification or filing past the due
date the log announced) and ``stale`` (no checkpoint pushed within the agreed interval).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from facegate.regulator.common import RegCore, aware
from facegate.regulator.findings import raise_finding, resolve
from facegate.regulator.tables import (
    RegCount,
    RegDeployment,
    RegLog,
    RegObligation,
    RegSubject,
)

__all__ = ["FILING_GRACE", "replay", "sweep"]

#: how long after the threshold is passed the log must show ``filing.opened``
FILING_GRACE = timedelta(days=1)
_PROCESSING = {"enroll", "verify", "identify"}
_SEARCHING = {"identify", "remote_identification", "realtime_remote_identification"}
_NEEDS = {"verify": {"verify"}, "identify": _SEARCHING, "enroll": {"verify"} | _SEARCHING}


@dataclass(frozen=True, slots=True)
class _Event:
    index: int
    kind: str
    at: datetime
    deployment: str | None
    subject: str | None
    details: dict[str, Any]


def _parse(index: int, data: bytes) -> _Event | None:
    try:
        doc = json.loads(data)
        at = aware(datetime.fromisoformat(str(doc["at"])))
        details = doc.get("details") or {}
        if not isinstance(details, dict):
            return None
        return _Event(
            index, str(doc["kind"]), at, doc.get("deployment"), doc.get("subject"), details
        )
    except (ValueError, KeyError, TypeError):
        return None


class _Replay:
    """One batch of entries of one log, in one transaction."""

    def __init__(self, core: RegCore, s: Session, log: RegLog, events: list[_Event]) -> None:
        self.core, self.s, self.log = core, s, log
        self.deployments = {
            d.deployment_id: d
            for d in s.scalars(select(RegDeployment).where(RegDeployment.log_id == log.id))
        }
        self.subjects: dict[tuple[str, str], RegSubject] = {}
        keys = {(e.deployment, e.subject) for e in events if e.deployment and e.subject}
        pseudonyms = sorted({p for _, p in keys})
        for lo in range(0, len(pseudonyms), 500):
            for row in s.scalars(
                select(RegSubject).where(
                    RegSubject.log_id == log.id, RegSubject.pseudonym.in_(pseudonyms[lo : lo + 500])
                )
            ):
                self.subjects[(row.deployment_id, row.pseudonym)] = row
        self.counts: Counter[tuple[str, str]] = Counter()
        self.people = log.people

    def subject(self, dep: str, pseudonym: str) -> RegSubject:
        row = self.subjects.get((dep, pseudonym))
        if row is None:
            row = RegSubject(
                log_id=self.log.id,
                deployment_id=dep,
                pseudonym=pseudonym,
                consent=False,
                holding_since=None,
            )
            self.s.add(row)
            self.subjects[(dep, pseudonym)] = row
        return row

    def finding(self, e: _Event, rule: str, key: str, severity: str, message: str) -> None:
        raise_finding(
            self.s,
            self.log.id,
            rule=rule,
            key=key,
            severity=severity,  # type: ignore[arg-type]
            message=message,
            now=self.core.now(),
            entropy=self.core.entropy,
            details={
                "kind": e.kind,
                "deployment": e.deployment,
                "index": e.index,
                "at": e.at.isoformat(),
            },
            entry_index=e.index,
        )

    def apply(self, e: _Event) -> None:
        self.counts[(e.at.date().isoformat(), e.kind[:40])] += 1
        if e.kind in ("deployment.created", "deployment.changed") and e.deployment:
            self.declare(e)  # a change (signed again before use) replaces the declaration
        elif e.kind in _PROCESSING:
            self.processing(e)
        elif e.deployment and e.subject:
            self.consent_change(e)
        if e.kind.startswith(("filing.", "incident.")):
            self.obligations(e)

    def declare(self, e: _Event) -> None:
        caps = [str(c) for c in e.details.get("capabilities") or []]
        days = e.details.get("retention_days")
        row = self.deployments.get(str(e.deployment))
        if row is None:
            row = RegDeployment(
                log_id=self.log.id,
                deployment_id=str(e.deployment),
                capabilities=caps,
                created_at=e.at,
            )
            self.s.add(row)
            self.deployments[row.deployment_id] = row
        row.capabilities = caps
        row.retention_days = int(days) if isinstance(days, int) else None

    def processing(self, e: _Event) -> None:
        dep = self.deployments.get(str(e.deployment))
        if dep is None:
            self.finding(
                e,
                "capability_undeclared",
                f"undeclared-deployment:{e.deployment}",
                "breach",
                f"{e.kind} on deployment {e.deployment}, which the log never "
                "declared (no deployment.created)",
            )
        elif not set(dep.capabilities) & _NEEDS[e.kind]:
            self.finding(
                e,
                "capability_undeclared",
                f"capability:{e.deployment}:{e.kind}",
                "breach",
                f"{e.kind} on deployment {e.deployment}, which declared only "
                f"{sorted(dep.capabilities)}",
            )
        if not (e.deployment and e.subject):
            return  # an identification that named nobody
        row = self.subject(e.deployment, e.subject)
        if not row.consent:
            self.finding(
                e,
                "consent_missing",
                f"consent:{e.deployment}:{e.subject}",
                "breach",
                f"{e.kind} of pseudonym {e.subject} in deployment {e.deployment} "
                "without a consent in force",
            )
        if e.kind == "enroll" and row.holding_since is None:
            row.holding_since = e.at
            self.held(+1, e)

    def consent_change(self, e: _Event) -> None:
        assert e.deployment and e.subject
        if e.kind == "consent.given":
            self.subject(e.deployment, e.subject).consent = True
        elif e.kind in {"consent.withdrawn", "erase"}:
            row = self.subject(e.deployment, e.subject)
            if row.holding_since is not None:
                row.holding_since = None
                self.held(-1, e)
            if e.details.get("key_destroyed", True):
                row.consent = False

    def held(self, change: int, e: _Event) -> None:
        """People held (a template stored) go up or down; note when the filing threshold
        was first passed (CN-FR-15 counts from then)."""
        self.people += change
        log = self.log
        if self.people >= log.filing_threshold and log.threshold_reached_at is None:
            log.threshold_reached_at = e.at

    def obligations(self, e: _Event) -> None:
        d = e.details
        if e.kind == "filing.opened":
            self.log.filing_seen_at = self.log.filing_seen_at or e.at
        if e.kind in {"filing.opened", "filing.amended", "filing.cancelled"} and d.get("due_on"):
            due = aware(datetime.fromisoformat(f"{d['due_on']}T23:59:59+08:00"))
            self.owe(f"filing:{d.get('filing_id')}", f"CN-FR-15 filing ({d.get('pending')})", due)
        elif e.kind == "filing.submitted":
            self.done(f"filing:{d.get('filing_id')}", e.at)
        elif e.kind == "incident.opened" and isinstance(d.get("due"), dict):
            for what, when in d["due"].items():
                self.owe(
                    f"incident:{d.get('incident_id')}:{what}",
                    f"incident notice {what}",
                    aware(datetime.fromisoformat(str(when))),
                )
        elif e.kind == "incident.notified":
            prefix = f"incident:{d.get('incident_id')}:"
            for row in self.s.scalars(
                select(RegObligation).where(
                    RegObligation.log_id == self.log.id, RegObligation.key.startswith(prefix)
                )
            ):
                if row.key.endswith("/" + str(d.get("audience"))) and row.done_at is None:
                    row.done_at = e.at

    def owe(self, key: str, what: str, due: datetime) -> None:
        row = self.s.get(RegObligation, (self.log.id, key[:120]))
        if row is None:
            self.s.add(
                RegObligation(log_id=self.log.id, key=key[:120], what=what[:200], due_at=due)
            )
        elif row.done_at is None:
            row.due_at = due

    def done(self, key: str, at: datetime) -> None:
        row = self.s.get(RegObligation, (self.log.id, key[:120]))
        if row is not None and row.done_at is None:
            row.done_at = at

    def flush_counts(self) -> None:
        for (day, kind), n in self.counts.items():
            row = self.s.get(RegCount, (self.log.id, day, kind))
            if row is None:
                self.s.add(RegCount(log_id=self.log.id, day=day, kind=kind, n=n))
            else:
                row.n += n


def replay(core: RegCore, s: Session, log: RegLog, start: int, leaves: Sequence[bytes]) -> int:
    """Run the stream rules over entries ``[start, start + len(leaves))``; returns how many
    were facegate events."""
    events: list[_Event] = []
    for i, data in enumerate(leaves):
        e = _parse(start + i, data)
        if e is None:
            raise_finding(
                s,
                log.id,
                rule="unreadable_entry",
                key=f"unreadable:{start + i}",
                severity="warning",
                message=f"entry {start + i} is not a facegate event the monitor can read",
                now=core.now(),
                entropy=core.entropy,
                entry_index=start + i,
            )
        else:
            events.append(e)
    run = _Replay(core, s, log, events)
    for e in events:
        run.apply(e)
    run.flush_counts()
    log.people = run.people
    return len(events)


def sweep(core: RegCore, logs: Iterable[RegLog] | None = None) -> int:
    """The clock-driven rules, for every witnessed log; returns the findings raised."""
    now = core.now()
    raised = 0
    with core.db.transaction() as s:
        rows = (
            list(logs)
            if logs is not None
            else list(s.scalars(select(RegLog).where(RegLog.state.in_(("active", "suspended")))))
        )
        for row in rows:
            raised += _sweep_log(core, s, s.merge(row), now)
    return raised


def _sweep_log(core: RegCore, s: Session, log: RegLog, now: datetime) -> int:
    found: list[tuple[str, str, str, str]] = []
    for dep in s.scalars(
        select(RegDeployment).where(
            RegDeployment.log_id == log.id, RegDeployment.retention_days.is_not(None)
        )
    ):
        cutoff = now - timedelta(days=int(dep.retention_days or 0))
        held = (
            s.scalar(
                select(func.count())
                .select_from(RegSubject)
                .where(
                    RegSubject.log_id == log.id,
                    RegSubject.deployment_id == dep.deployment_id,
                    RegSubject.holding_since < cutoff,
                )
            )
            or 0
        )
        if held:
            found.append(
                (
                    "retention_overdue",
                    f"retention:{dep.deployment_id}",
                    "overdue",
                    f"{held} pseudonym(s) in deployment {dep.deployment_id} still held "
                    f"after the declared {dep.retention_days} days",
                )
            )
    reached = log.threshold_reached_at
    if reached is not None and log.filing_seen_at is None and now - aware(reached) > FILING_GRACE:
        found.append(
            (
                "filing_missing",
                "filing-threshold",
                "overdue",
                f"{log.people} people held (threshold {log.filing_threshold}) since "
                f"{aware(reached).isoformat()} and no filing.opened in the log (CN-FR-15)",
            )
        )
    for ob in s.scalars(
        select(RegObligation).where(
            RegObligation.log_id == log.id,
            RegObligation.done_at.is_(None),
            RegObligation.due_at < now,
        )
    ):
        found.append(
            (
                "obligation_overdue",
                f"obligation:{ob.key}",
                "overdue",
                f"{ob.what} was due {aware(ob.due_at).isoformat()} and is not done",
            )
        )
    last = log.cosigned_at
    stale = last is None or (now - aware(last)).total_seconds() > log.push_interval_s
    if stale and log.size:
        found.append(
            (
                "stale",
                "stale",
                "warning",
                "no checkpoint cosigned for longer than the "
                f"agreed {log.push_interval_s} s (last {last.isoformat() if last else '-'})",
            )
        )
    elif not stale:
        resolve(s, log.id, "stale", now=now)
    for rule, key, severity, message in found:
        raise_finding(
            s,
            log.id,
            rule=rule,
            key=key,
            severity=severity,  # type: ignore[arg-type]
            message=message,
            now=now,
            entropy=core.entropy,
        )
    return len(found)
