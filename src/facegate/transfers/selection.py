"""Who leaves in a share or export, with the consent facts each is judged on, and the counts
the law reads: the people sent abroad this calendar year by all of the operator's exports
(CN-PIPL-38), and the people a recipient has received (its agreement's volume)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from facegate.core import Core, aware, clean_ref
from facegate.errors import Conflict, InvalidInput, NotFound
from facegate.flows.facts import consent_facts
from facegate.policy import ConsentFacts
from facegate.storage import tables as t
from facegate.transfers.specs import TransferRequest

__all__ = ["Person", "people_abroad", "received_by", "select_people"]


@dataclasses.dataclass(frozen=True)
class Person:
    subject_id: str
    pseudonym: str
    ref: str | None  # the operator's reference, when it named the person
    consent: ConsentFacts


def select_people(
    core: Core,
    s: Session,
    dep: t.Deployment,
    rec: t.TransferRecipient,
    request: TransferRequest,
    *,
    now: datetime,
) -> list[Person]:
    """The people who leave, each with the consent facts a transfer to ``rec`` is judged on:
    the deployment consent, with egress and disclosure also from a consent to ``rec``.
    Everyone: each person with a face enrolled and a consent in force; a person named who
    has none of that is a conflict, naming them."""
    if request.everyone:
        subjects = list(s.scalars(select(t.Subject).where(t.Subject.deployment_id == dep.id)))
        named: dict[str, str] = {}
    else:
        subjects, named = [], {}
        for ref in dict.fromkeys(request.subjects or ()):
            found = core.subject(s, dep, clean_ref(ref))
            if found is None:
                raise NotFound(f"no person {ref!r} in this deployment (never consented, or erased)")
            subjects.append(found)
            named[found.id] = ref
    ids = [x.id for x in subjects]
    consents = {
        c.subject_id: c for c in s.scalars(select(t.Consent).where(t.Consent.subject_id.in_(ids)))
    }
    later = {
        c.subject_id: c
        for c in s.scalars(
            select(t.TransferConsent)
            .where(t.TransferConsent.recipient_id == rec.id, t.TransferConsent.subject_id.in_(ids))
            .order_by(t.TransferConsent.given_at)
        )
    }
    enrolled = set(
        s.scalars(
            select(t.Template.subject_id).where(
                t.Template.subject_id.in_(ids), t.Template.expires_at > now
            )
        )
    )
    people = []
    for x in subjects:
        why_not = _unusable(x, consents.get(x.id), enrolled=x.id in enrolled, now=now)
        if why_not is not None:
            if x.id in named:
                raise Conflict(f"{named[x.id]}: {why_not}")
            continue
        people.append(_person(x, consents[x.id], later.get(x.id), named.get(x.id)))
    if not people:
        raise InvalidInput(
            "nobody to send: no one selected has a face enrolled and a consent in force"
        )
    return people


def _unusable(
    subject: t.Subject, consent: t.Consent | None, *, enrolled: bool, now: datetime
) -> str | None:
    """Why a person's data cannot leave at all (a state, not a judgement of the law)."""
    if consent is None:
        return "has no consent on record"
    if subject.hold_ground is not None:
        return "asked for erasure; their data is held on a legal ground and not used"
    if consent.expires_at is not None and aware(consent.expires_at) <= now:
        return "their consent expired"
    if not enrolled:
        return "has no face enrolled"
    return None


def _person(
    subject: t.Subject, consent: t.Consent, later: t.TransferConsent | None, ref: str | None
) -> Person:
    facts = consent_facts(consent)
    if later is not None:
        facts = dataclasses.replace(
            facts,
            egress=facts.egress or later.egress,
            disclosure=facts.disclosure or later.disclosure,
        )
    return Person(subject.id, subject.pseudonym, ref, facts)


def people_abroad(s: Session, operator_id: str, now: datetime) -> set[str]:
    """Pseudonyms of everyone the operator sent abroad this calendar year (UTC), by any of
    its exports (a person in two deployments has two pseudonyms: counted twice, the
    stricter way)."""
    year = datetime(now.astimezone(UTC).year, 1, 1, tzinfo=UTC)
    return set(
        s.scalars(
            select(func.distinct(t.TransferItem.pseudonym))
            .join(t.TransferExport, t.TransferExport.id == t.TransferItem.export_id)
            .where(
                t.TransferExport.operator_id == operator_id,
                t.TransferExport.cross_border.is_(True),
                t.TransferExport.created_at >= year,
            )
        )
    )


def received_by(s: Session, recipient_id: str) -> set[str]:
    """Pseudonyms of everyone a recipient has received, by all its exports."""
    return set(
        s.scalars(
            select(func.distinct(t.TransferItem.pseudonym))
            .join(t.TransferExport, t.TransferExport.id == t.TransferItem.export_id)
            .where(t.TransferExport.recipient_id == recipient_id)
        )
    )
