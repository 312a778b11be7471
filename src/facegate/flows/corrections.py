"""Correcting wrong matches, the threshold report they feed, and the unknown-face alerts.

A person who thinks they were wrongly matched asks through the portal (a correction request,
:func:`facegate.flows.subjects.correct`); an operator who sees a wrong decision flags the
ledger event that took it (a verify, an identify or a compare): ``false_accept`` on a match
(or a named candidate), ``false_reject`` on a no-match or an unknown. The flag is a ledger
event of its own that copies the decision, score and threshold of the event it flags, and
the operator's note only as a hash (it may name people). The threshold report counts, per
deployment and per threshold in use when the decisions were taken, the accepts and rejects
and how many of each were flagged wrong, which is what a DPO needs to see before changing
the threshold. Flagged shares are lower bounds: a mistake nobody noticed is not flagged.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Literal, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from facegate._internal.canonical import sha256_hex
from facegate.actors import Actor
from facegate.core import Core, aware
from facegate.errors import Conflict, InvalidInput, NotFound
from facegate.flows.enforce import require
from facegate.ledger.events import Event, Kind
from facegate.results import FlagResult, ThresholdReport, ThresholdRow, UnknownFaceAlert
from facegate.storage import tables as t

Verdict = Literal["false_accept", "false_reject"]
#: the decisions each verdict may correct
_CORRECTS: dict[str, frozenset[str]] = {
    "false_accept": frozenset({"match", "candidate"}),
    "false_reject": frozenset({"no_match", "unknown"}),
}
_DECISION_KINDS = (str(Kind.VERIFIED), str(Kind.IDENTIFIED), str(Kind.COMPARED))
_ACCEPTS = _CORRECTS["false_accept"]


def _leaves(s: Session, deployment_id: str, kinds: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    rows = s.execute(
        select(t.LedgerEntry.data)
        .where(t.LedgerEntry.deployment_id == deployment_id, t.LedgerEntry.kind.in_(kinds))
        .order_by(t.LedgerEntry.idx)
    ).scalars()
    for data in rows:
        yield json.loads(bytes(data))


def flag(
    core: Core,
    actor: Actor,
    event_id: str,
    verdict: str,
    *,
    note: str = "",
    deployment_id: str | None = None,
) -> FlagResult:
    """Flag the decision of ledger event ``event_id`` (of ``deployment_id``, when given) as
    wrong, once per event."""
    require(actor, "process_faces", "flag wrong matches")
    if verdict not in _CORRECTS:
        raise InvalidInput(f"a flag is 'false_accept' or 'false_reject', not {verdict!r}")
    with core.db.transaction() as s:
        row = s.scalar(select(t.LedgerEntry).where(t.LedgerEntry.event_id == event_id[:40]))
        leaf = json.loads(bytes(row.data)) if row is not None else None
        if (
            leaf is None
            or leaf.get("operator") != actor.operator_id
            or deployment_id not in (None, leaf.get("deployment"))
        ):
            raise NotFound(f"no ledger event {event_id!r} of this operator")
        details = leaf.get("details") or {}
        decision = str(details.get("decision", ""))
        if leaf["kind"] not in _DECISION_KINDS or decision not in _CORRECTS[verdict]:
            raise InvalidInput(
                f"event {event_id} is a {leaf['kind']} decided {decision or 'nothing'!r}; "
                f"{verdict} corrects a decision of " + " or ".join(sorted(_CORRECTS[verdict])),
                advice="Flag the verify, identify or compare event whose decision was wrong.",
            )
        dep_id = str(leaf["deployment"])
        if any(
            (f.get("details") or {}).get("flagged_event_id") == event_id
            for f in _leaves(s, dep_id, (str(Kind.MATCH_FLAGGED),))
        ):
            raise Conflict(f"event {event_id} was flagged already")
        flagged: dict[str, object] = {
            "flagged_event_id": event_id,
            "flagged_kind": leaf["kind"],
            "verdict": verdict,
            "decision": decision,
            "score": details.get("score"),
            "threshold": details.get("threshold"),
        }
        if note.strip():
            flagged["note_sha256"] = sha256_hex(note.strip())
        recorded = core.record(
            s,
            Event(
                Kind.MATCH_FLAGGED,
                core.clock(),
                operator=actor.operator_id,
                deployment=dep_id,
                subject=leaf.get("subject"),
                by=actor.principal_id,
                details=flagged,
            ),
        )
    return FlagResult(
        event_id=recorded[0].event_id,
        flagged_event_id=event_id,
        deployment_id=dep_id,
        verdict=cast(Verdict, verdict),
    )


def threshold_report(core: Core, actor: Actor, deployment_id: str) -> ThresholdReport:
    """Decisions and flagged mistakes per threshold, for one deployment."""
    require(actor, "read", "read threshold reports")
    counts: dict[float, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, actor.operator_id)
        threshold, flags = dep.threshold, 0
        kinds = (*_DECISION_KINDS, str(Kind.MATCH_FLAGGED))
        for leaf in _leaves(s, dep.id, kinds):
            d = leaf.get("details") or {}
            if not isinstance(d.get("threshold"), int | float):
                continue
            row = counts[float(d["threshold"])]
            if leaf["kind"] == str(Kind.MATCH_FLAGGED):
                row[str(d["verdict"])] += 1
                flags += 1
            elif d.get("decision") in _ACCEPTS:
                row["accepts"] += 1
            elif d.get("decision") in _CORRECTS["false_reject"]:
                row["rejects"] += 1
    rows = [_row(at, c) for at, c in sorted(counts.items())]
    return ThresholdReport(deployment_id=dep.id, threshold=threshold, rows=rows, flags=flags)


def _row(threshold: float, c: dict[str, int]) -> ThresholdRow:
    accepts, rejects = c["accepts"], c["rejects"]
    fa, fr = c["false_accept"], c["false_reject"]
    return ThresholdRow(
        threshold=threshold,
        decisions=accepts + rejects,
        accepts=accepts,
        rejects=rejects,
        false_accepts=fa,
        false_rejects=fr,
        false_accept_share=round(fa / accepts, 4) if accepts else None,
        false_reject_share=round(fr / rejects, 4) if rejects else None,
    )


def alerts(
    core: Core, actor: Actor, deployment_id: str, *, since: datetime | None = None
) -> list[UnknownFaceAlert]:
    """The deployment's unknown-face alerts, oldest first (``since``: newer ones only)."""
    require(actor, "read", "read alerts")
    found = []
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, actor.operator_id)
        rows = s.execute(
            select(t.LedgerEntry.event_id, t.LedgerEntry.data)
            .where(
                t.LedgerEntry.deployment_id == dep.id,
                t.LedgerEntry.kind == str(Kind.UNKNOWN_FACE_ALERT),
            )
            .order_by(t.LedgerEntry.idx)
        ).all()
    for event_id, data in rows:
        leaf = json.loads(bytes(data))
        at = aware(datetime.fromisoformat(leaf["at"]))
        if since is not None and at <= aware(since):
            continue
        details = leaf.get("details") or {}
        found.append(
            UnknownFaceAlert(
                event_id=event_id,
                deployment_id=dep.id,
                at=at,
                input_sha256=str(details.get("input_sha256", "")),
                identify_event_id=str(details.get("identify_event_id", "")),
            )
        )
    return found
