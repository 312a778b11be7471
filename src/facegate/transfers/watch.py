"""The watch: every act that touches a face is looked at for harvesting and attack.

Two places, both stopping the act with a refusal that cites the security control
(:func:`facegate.transfers.alerts.security_rules`) and raising an alert (ledgered, sent to
the regulator):

* :func:`gatekeeper`, at the policy door, before the photo is decoded: a person whose
  template is being hill-climbed (:func:`facegate.transfers.detect.hill_climb`, read from
  the ledger's own records of the last probes and their scores), or a principal sweeping
  strangers with 1:N searches, is stopped, and stays stopped for a day unless a supervisor
  clears the alert;
* :func:`watch_probe`, on the probe's embedding in memory, before it is compared: a wolf
  probe (the public mean face, an attack's first guess) and a probe matching any export's
  canary (:mod:`facegate.transfers.canaries`) under that export's key, on every deployment
  of this installation. The canary alarm names the export.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from facegate.actors import Actor
from facegate.core import Core
from facegate.ledger.events import Event, Kind
from facegate.policy import Act
from facegate.storage import tables as t
from facegate.templates import TemplateScheme, get_scheme
from facegate.templates.hazmat import hamming
from facegate.transfers import alerts, detect
from facegate.transfers.canaries import canary_embeddings, distance_from_mean
from facegate.transfers.keys import open_export_key
from facegate.transfers.recent import recent
from facegate.transfers.reprotect import ExportKeys, Transform, transform_of

__all__ = ["CanaryWatch", "canary_watch", "gatekeeper", "watch_probe"]

F32 = npt.NDArray[np.float32]
_KIND = {Act.VERIFY: Kind.VERIFIED, Act.ENROLL: Kind.ENROLLED, Act.SCAN: Kind.IDENTIFIED}


# --- at the door -------------------------------------------------------------------------


def gatekeeper(core: Core, s: Session, dep: t.Deployment, act: Act, event: Event) -> None:
    """Refuse a 1:1 act on a person under attack, or a 1:N search by a principal sweeping
    strangers (registered in :mod:`facegate.flows.enforce`)."""
    now = core.clock()
    if act in {Act.VERIFY, Act.ENROLL} and event.subject:
        _hill_climb(core, s, dep, act, event, now=now)
    elif act is Act.SCAN and event.by:
        _sweep(core, s, dep, event, now=now)


def _hill_climb(
    core: Core, s: Session, dep: t.Deployment, act: Act, event: Event, *, now: datetime
) -> None:
    subject = event.subject
    advice = (
        "The person can use the deployment's alternative meanwhile. A supervisor (admin or\n"
        "DPO) who finds the probes innocent lifts the block: 'facegate alert clear ID'."
    )
    blocked, since = alerts.block_state(s, dep.id, "hill_climb", now, subject=subject)
    if blocked:
        raise alerts.refusal(
            dep.jurisdiction, "probes of this person are stopped: an attack was detected", advice
        )
    if act is not Act.VERIFY:
        return
    probes = [
        p for p in recent(core, s, dep.id).of_person(str(subject)) if since is None or p.at > since
    ]
    why = detect.hill_climb(probes, threshold=dep.threshold, now=now)
    if why is None:
        return
    alerts.raise_alert(
        core,
        operator_id=dep.operator_id,
        deployment_id=dep.id,
        kind="hill_climb",
        rule_ids=alerts.security_rules(dep.jurisdiction),
        details={"why": why, "probes": len(probes)},
        subject=subject,
        principal_id=event.by,
        blocks_until=now + detect.BLOCK,
    )
    raise alerts.refusal(dep.jurisdiction, f"probes of this person stopped: {why}", advice)


def _sweep(core: Core, s: Session, dep: t.Deployment, event: Event, *, now: datetime) -> None:
    advice = (
        "A 1:N search is for people who chose to use their face, not for the crowd. A\n"
        "supervisor who finds the searches innocent lifts the block: 'facegate alert clear ID'."
    )
    by = event.by
    blocked, since = alerts.block_state(s, dep.id, "sweep", now, principal_id=by)
    if blocked:
        raise alerts.refusal(
            dep.jurisdiction, "this principal's searches are stopped: a sweep was detected", advice
        )
    searches = [
        p for p in recent(core, s, dep.id).of_principal(str(by)) if since is None or p.at > since
    ]
    why = detect.sweep(searches, now=now)
    if why is None:
        return
    alerts.raise_alert(
        core,
        operator_id=dep.operator_id,
        deployment_id=dep.id,
        kind="sweep",
        rule_ids=alerts.security_rules(dep.jurisdiction),
        details={"why": why},
        principal_id=by,
        blocks_until=now + detect.BLOCK,
    )
    raise alerts.refusal(dep.jurisdiction, f"searches stopped: {why}", advice)


# --- on the probe --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class _Watched:
    export_id: str
    operator_id: str
    deployment_id: str
    recipient_id: str
    scheme: TemplateScheme
    transform: Transform
    canaries: npt.NDArray[np.uint8]


class CanaryWatch:
    """Every export's canaries, under each export's key, ready to compare a probe with."""

    def __init__(self, watched: list[_Watched], stamp: tuple[int, str]) -> None:
        self.watched = watched
        self.stamp = stamp

    def hits(self, embedding: npt.ArrayLike) -> list[tuple[_Watched, float]]:
        """The exports one of whose canaries ``embedding`` matches, with the similarity."""
        out = []
        for w in self.watched:
            probe = w.transform.protect_many(np.asarray(embedding, dtype=np.float64)[None, :])
            best = float(hamming.similarity_many(probe[0], w.canaries).max())
            if best >= w.scheme.default_threshold:
                out.append((w, best))
        return out


def _stamp(s: Session) -> tuple[int, str]:
    n, last = s.execute(
        select(func.count(), func.max(t.TransferExport.created_at)).where(
            t.TransferExport.canaries > 0
        )
    ).one()
    return int(n or 0), str(last)


def canary_watch(core: Core) -> CanaryWatch:
    """The installation's watch, rebuilt when an export was made (by any process)."""
    cached: CanaryWatch | None = core.__dict__.get("_transfer_canary_watch")
    with core.db.read() as s:
        stamp = _stamp(s)
        if cached is not None and cached.stamp == stamp:
            return cached
        rows = list(s.scalars(select(t.TransferExport).where(t.TransferExport.canaries > 0)))
    watched = []
    for row in rows:
        scheme = get_scheme(row.scheme)
        ek = ExportKeys.of(open_export_key(core, row))
        transform = transform_of(scheme, ek.transform_seed)
        planted = transform.protect_many(canary_embeddings(ek.canary_seed, row.canaries))
        watched.append(
            _Watched(
                row.id,
                row.operator_id,
                row.deployment_id,
                row.recipient_id,
                scheme,
                transform,
                planted,
            )
        )
    fresh = CanaryWatch(watched, stamp)
    core.__dict__["_transfer_canary_watch"] = fresh
    return fresh


def watch_probe(
    core: Core,
    actor: Actor,
    dep: t.Deployment,
    embedding: F32,
    act: Act,
    *,
    subject: str | None = None,
) -> None:
    """Refuse (ledgered, with an alert) a wolf probe or a probe matching a canary; called
    by the flows right after the embedding is made, before it is compared or stored."""
    radius = distance_from_mean(embedding)
    if radius < detect.WOLF_RADIUS:
        why = f"the probe lies {radius:.3f} from the public mean face (faces: 0.45 and more)"
        _stop(core, actor, dep, act, subject=subject, kind="wolf_probe", why=why, export=None)
    for hit, similarity in canary_watch(core).hits(embedding):
        why = f"the probe matches a canary planted in export {hit.export_id} ({similarity:.3f})"
        _stop(core, actor, dep, act, subject=subject, kind="canary", why=why, export=hit)


def _stop(
    core: Core,
    actor: Actor,
    dep: t.Deployment,
    act: Act,
    *,
    subject: str | None,
    kind: str,
    why: str,
    export: _Watched | None,
) -> None:
    now = core.clock()
    export_id = export.export_id if export is not None else None
    with core.db.read() as s:
        recent = s.scalar(
            select(func.count())
            .select_from(t.TransferAlert)
            .where(
                t.TransferAlert.deployment_id == dep.id,
                t.TransferAlert.kind == kind,
                t.TransferAlert.principal_id == actor.principal_id,
                t.TransferAlert.raised_at >= now - detect.WINDOW,
                (t.TransferAlert.export_id == export_id)
                if export_id
                else t.TransferAlert.export_id.is_(None),
            )
        )
    details: dict[str, object] = {"why": why, "act": str(act)}
    if export is not None:
        details |= {"recipient_id": export.recipient_id, "from_deployment": export.deployment_id}
    if not recent:  # one alert per principal and export an hour; each refusal is ledgered
        alerts.raise_alert(
            core,
            operator_id=dep.operator_id,
            deployment_id=dep.id,
            kind=kind,
            rule_ids=alerts.security_rules(dep.jurisdiction),
            details=details,
            subject=subject,
            principal_id=actor.principal_id,
            export_id=export_id,
        )
    err = alerts.refusal(
        dep.jurisdiction,
        f"this probe is refused: {why}",
        "A probe made from a leaked template or a public average face is an attack; the\n"
        "alert went to the regulator. Photograph the person instead.",
    )
    event = Event(
        _KIND[act],
        now,
        operator=dep.operator_id,
        deployment=dep.id,
        subject=subject,
        by=actor.principal_id,
        details=details,
    )
    core.record_denial(err, event)
    raise err
