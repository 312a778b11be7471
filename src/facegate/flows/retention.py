"""The retention sweeper: nothing is kept past its time (CN-PIPL-19, US-IL-15a, CN-FR-8).

Every template carries a TTL (``expires_at``) set at enrollment from the deployment's
retention, which the policy packs cap (BIPA: three years after the last interaction, which
a cap at enrollment already guarantees). Consents may expire too. The sweeper deletes what
is due and writes a deletion receipt to the ledger for each person, in the same transaction.
The ledger itself is never pruned (EU-AI-19 asks for at least six months).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import delete, select

from facegate.core import Core
from facegate.ledger.events import Event, Kind
from facegate.storage import tables as t


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
    """Delete expired templates and erase people whose consent expired."""
    now = core.clock()
    events: list[str] = []
    with core.db.transaction() as s:
        expired = s.execute(
            select(t.Template.id, t.Template.subject_id, t.Template.deployment_id).where(
                t.Template.expires_at <= now
            )
        ).all()
        by_subject: dict[tuple[str, str], list[str]] = defaultdict(list)
        for template_id, subject_id, dep_id in expired:
            by_subject[(subject_id, dep_id)].append(template_id)
        for (subject_id, dep_id), template_ids in sorted(by_subject.items()):
            subject = s.get(t.Subject, subject_id)
            dep = s.get(t.Deployment, dep_id)
            s.execute(delete(t.Template).where(t.Template.id.in_(template_ids)))
            events += [
                r.event_id
                for r in core.record(
                    s,
                    Event(
                        Kind.ERASED,
                        now,
                        operator=dep.operator_id if dep else None,
                        deployment=dep_id,
                        subject=subject.pseudonym if subject else None,
                        rule_ids=("CN-PIPL-19",),
                        details={
                            "reason": "retention period ended",
                            "templates_erased": len(template_ids),
                            "key_destroyed": False,
                        },
                    ),
                )
            ]
        lapsed = s.execute(
            select(t.Subject, t.Deployment.operator_id)
            .join(t.Consent, t.Consent.subject_id == t.Subject.id)
            .join(t.Deployment, t.Deployment.id == t.Subject.deployment_id)
            .where(t.Consent.expires_at.is_not(None), t.Consent.expires_at <= now)
        ).all()
        doomed: list[tuple[str, str]] = []
        for subject, operator_id in lapsed:
            doomed.append((subject.deployment_id, subject.id))
            s.delete(subject)
            events += [
                r.event_id
                for r in core.record(
                    s,
                    Event(
                        Kind.ERASED,
                        now,
                        operator=operator_id,
                        deployment=subject.deployment_id,
                        subject=subject.pseudonym,
                        rule_ids=("CN-PIPL-15",),
                        details={"reason": "consent expired", "key_destroyed": True},
                    ),
                )
            ]
    destroyed = sum(core.keyring.keystore.destroy(sid) for _, sid in doomed)
    for dep_id, subject_id in doomed:
        core.galleries.remove_subject(dep_id, subject_id)
    for (_subject_id, dep_id), template_ids in by_subject.items():
        core.galleries.remove_templates(dep_id, template_ids)
    return SweepReport(
        templates_expired=len(expired),
        subjects_erased=len(doomed),
        keys_destroyed=destroyed,
        event_ids=tuple(events),
    )
