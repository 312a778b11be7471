"""The retention sweeper: nothing is kept past its time (CN-PIPL-19, US-IL-15a, US-TX-503,
EU-GDPR-17).

Every template carries a TTL (``expires_at``) set at enrollment from the deployment's
retention, which the policy packs cap; every consent carries one too (at most the retention).
The sweeper deletes expired templates, and erases people whose consent expired or lapsed
because the notice changed since they consented (CN-PIPL-14: that consent no longer covers
anything). Each deletion is a decided act, so its receipt cites the rules of the packs in
force for that deployment. The ledger itself is never pruned (EU-AI-19).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select

from facegate.core import Core
from facegate.errors import NotFound
from facegate.flows.enforce import enforce
from facegate.flows.erasure import erase_subject
from facegate.ledger.events import Event, Kind
from facegate.policy import Act
from facegate.storage import tables as t
from facegate.sync import feed


@dataclass(frozen=True)
class SweepReport:
    templates_expired: int
    subjects_erased: int
    keys_destroyed: int
    event_ids: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "templates_expired": self.templates_expired,
            "subjects_erased": self.subjects_erased,
            "keys_destroyed": self.keys_destroyed,
            "event_ids": list(self.event_ids),
        }


def sweep(core: Core) -> SweepReport:
    """Delete expired templates and erase people whose consent expired or lapsed."""
    now = core.clock()
    expired, events = _expire_templates(core, now, t.Template)
    sealed, more = _expire_templates(core, now, t.EncryptedTemplate)  # issue 16's ciphertexts
    expired, events = expired + sealed, events + more
    erased = destroyed = 0
    for dep_id, subject_id, reason in _lapsed(core, now):
        try:
            receipt = erase_subject(
                core,
                dep_id,
                subject_id,
                reason=reason,
                act=Act.EXPIRE,
                kind=Kind.ERASED,
                actor=None,
            )
        except NotFound:
            continue  # erased meanwhile
        erased += 1
        destroyed += int(receipt.key_destroyed)
        events.append(receipt.event_id)
    return SweepReport(
        templates_expired=expired,
        subjects_erased=erased,
        keys_destroyed=destroyed,
        event_ids=tuple(events),
    )


def _expire_templates(
    core: Core, now: datetime, table: type[t.Template] | type[t.EncryptedTemplate]
) -> tuple[int, list[str]]:
    in_gallery = table is t.Template  # encrypted templates are in no 1:N gallery
    with core.db.read() as s:
        rows = s.execute(
            select(table.id, table.subject_id, table.deployment_id).where(table.expires_at <= now)
        ).all()
    by_dep: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for template_id, subject_id, dep_id in rows:
        by_dep[dep_id][subject_id].append(template_id)
    events: list[str] = []
    count = 0
    for dep_id, people in sorted(by_dep.items()):
        with core.db.read() as s:
            dep = s.get(t.Deployment, dep_id)
            if dep is None:  # pragma: no cover - deployments are never deleted
                continue
            event = Event(Kind.ERASED, now, operator=dep.operator_id, deployment=dep.id)
            rules = enforce(core, s, dep, Act.EXPIRE, event, now=now).rule_ids
            operator = dep.operator_id
        with core.db.transaction() as s:
            for subject_id, template_ids in sorted(people.items()):
                subject = s.get(t.Subject, subject_id)
                gone = s.execute(delete(table).where(table.id.in_(template_ids)))
                n = int(getattr(gone, "rowcount", 0) or 0)
                if not n:
                    continue
                if in_gallery:
                    feed.templates_removed(s, dep_id, template_ids)
                count += n
                events += [
                    r.event_id
                    for r in core.record(
                        s,
                        Event(
                            Kind.ERASED,
                            now,
                            operator=operator,
                            deployment=dep_id,
                            subject=subject.pseudonym if subject else None,
                            rule_ids=rules,
                            details={
                                "reason": "retention period ended",
                                "templates_erased": n,
                                "key_destroyed": False,
                            },
                        ),
                    )
                ]
        if in_gallery:
            for template_ids in people.values():
                core.galleries.remove_templates(dep_id, template_ids)
            core.caught_up()
    return count, events


def _lapsed(core: Core, now: datetime) -> list[tuple[str, str, str]]:
    """People whose consent expired, or was given to a notice no longer in force."""
    newest = (
        select(t.Notice.sha256)
        .where(t.Notice.deployment_id == t.Consent.deployment_id)
        .order_by(t.Notice.version.desc())
        .limit(1)
        .scalar_subquery()
    )
    with core.db.read() as s:
        rows = s.execute(
            select(
                t.Subject.deployment_id,
                t.Subject.id,
                t.Consent.expires_at,
                t.Consent.notice_sha256,
                newest,
            )
            .join(t.Consent, t.Consent.subject_id == t.Subject.id)
            .join(t.Deployment, t.Deployment.id == t.Subject.deployment_id)
            .where(
                t.Deployment.status == "live",
                or_(t.Consent.expires_at <= now, t.Consent.notice_sha256 != newest),
            )
        ).all()
    out = []
    for dep_id, subject_id, _expires_at, consented_to, current in rows:
        lapsed = consented_to != current
        out.append(
            (
                dep_id,
                subject_id,
                "consent lapsed: the notice changed" if lapsed else "consent expired",
            )
        )
    return out
