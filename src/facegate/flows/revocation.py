"""Deployment keys: revoking one (every template dies at once; people whose consent carries
over are asked to enroll again) and the re-enrollment campaign that follows (ISO-24745:
renewability and revocability)."""

from __future__ import annotations

import contextlib

from sqlalchemy import delete, func, select

from facegate._internal.canonical import sha256_hex
from facegate.core import Core, aware
from facegate.errors import Conflict, InvalidInput, NotFound
from facegate.flows.erasure import erase_subject
from facegate.flows.facts import current_notice
from facegate.keyring import (
    ref_hmac,
    seal_ref,
)
from facegate.ledger.events import Event, Kind
from facegate.policy import Act
from facegate.storage import tables as t
from facegate.sync import feed

__all__ = ["campaign", "revoke_deployment_key"]

from facegate.flows.keys import NOT_CARRIED, RULES, Campaign, CampaignEntry, KeyRevocation


def _carried(consent: t.Consent | None, notice_sha256: str, purpose_sha256: str) -> bool:
    return (
        consent is not None
        and consent.notice_sha256 == notice_sha256
        and consent.purpose_sha256 == purpose_sha256
    )


def revoke_deployment_key(
    core: Core, deployment_id: str, *, reason: str, operator_id: str | None = None
) -> KeyRevocation:
    """Replace a deployment's key: all its templates die at once; its people re-enroll."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("a revocation needs a reason, for the ledger")
    kr = core.keyring
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, operator_id)
        notice = current_notice(s, dep)
        subjects = list(s.scalars(select(t.Subject).where(t.Subject.deployment_id == dep.id)))
        consent_of = {
            c.subject_id: c
            for c in s.scalars(select(t.Consent).where(t.Consent.deployment_id == dep.id))
        }
    purpose = sha256_hex(dep.purpose)
    old = kr.protector(dep)
    data_keys = kr.data_keys(dep, [x.id for x in subjects])
    refs = {x.id: kr.open_ref(dep, x) if x.id in data_keys else "" for x in subjects}
    current = notice.sha256 if notice is not None else ""
    dropped = [x for x in subjects if not _carried(consent_of.get(x.id), current, purpose)]
    for x in dropped:
        with contextlib.suppress(NotFound):  # erased meanwhile
            erase_subject(
                core,
                dep.id,
                x.id,
                reason=NOT_CARRIED,
                act=Act.ERASE,
                kind=Kind.ERASED,
                actor=None,
            )
    carried = [x for x in subjects if x not in dropped and x.id in data_keys]

    new, wrapped_key = kr.replacement_key(dep)
    staged: dict[str, bytes] = {}
    sealed: dict[str, tuple[str, bytes]] = {}
    for x in carried:
        data_key, wrapped = new.new_data_key(subject_id=x.id)
        staged[x.id] = wrapped
        sealed[x.id] = (
            ref_hmac(new, refs[x.id]),
            seal_ref(dep.id, x.id, data_key, refs[x.id], entropy=core.entropy),
        )
    now = core.clock()
    # The successors are written beside the old data keys first: if the process stops
    # after the commit below, the keyring finds and promotes them (Keyring.data_keys).
    kr.stage_data_keys(staged, now=now)
    with core.db.transaction() as s:
        row = s.get(t.Deployment, dep.id)
        if row is None or row.key_id != old.key_id:
            raise Conflict("the deployment's key changed meanwhile; nothing was revoked")
        template_ids = list(
            s.scalars(select(t.Template.id).where(t.Template.deployment_id == dep.id))
        )
        s.execute(delete(t.Template).where(t.Template.deployment_id == dep.id))
        feed.key_changed(s, dep.id)
        for x in carried:
            subject = s.get(t.Subject, x.id)
            if subject is None:  # erased meanwhile
                staged.pop(x.id, None)
                continue
            subject.ref_hmac, subject.ref_sealed = sealed[x.id]
        row.wrapped_key, row.key_id = wrapped_key, new.key_id
        recorded = core.record(
            s,
            Event(
                Kind.DEPLOYMENT_KEY_REVOKED,
                now,
                operator=dep.operator_id,
                deployment=dep.id,
                rule_ids=(*RULES, "CN-PIPL-14"),
                details={
                    "reason": reason,
                    "old_key_id": old.key_id,
                    "new_key_id": new.key_id,
                    "templates_revoked": len(template_ids),
                    "subjects_to_reenroll": len(staged),
                    "consents_not_carried": len(dropped),
                },
            ),
        )
        event_id = recorded[0].event_id
        for sid in staged:
            s.merge(
                t.Reenrollment(
                    subject_id=sid,
                    deployment_id=dep.id,
                    key_id=new.key_id,
                    event_id=event_id,
                    requested_at=now,
                )
            )
    kr.swap_data_keys(staged, destroy=())  # the old data keys are overwritten: shredded
    kr.install(new)
    core.galleries.remove_templates(dep.id, template_ids)
    core.caught_up()
    return KeyRevocation(
        deployment_id=dep.id,
        old_key_id=old.key_id,
        new_key_id=new.key_id,
        reason=reason,
        templates_revoked=len(template_ids),
        to_reenroll=tuple(sorted(refs[sid] for sid in staged)),
        consents_not_carried=tuple(sorted(refs[x.id] for x in dropped if refs[x.id])),
        event_id=event_id,
    )


def campaign(core: Core, deployment_id: str, *, operator_id: str | None = None) -> Campaign:
    """The people asked to enroll again after the deployment's key was revoked, and whether
    they have (a template under the new key)."""
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, operator_id)
        rows = s.execute(
            select(t.Reenrollment, t.Subject)
            .join(t.Subject, t.Subject.id == t.Reenrollment.subject_id)
            .where(t.Reenrollment.deployment_id == dep.id)
            .order_by(t.Reenrollment.requested_at, t.Subject.pseudonym)
        ).all()
        counts = dict(
            s.execute(
                select(t.Template.subject_id, func.count())
                .where(t.Template.deployment_id == dep.id)
                .group_by(t.Template.subject_id)
            ).all()
        )
    entries = sorted(
        (
            CampaignEntry(
                subject_ref=core.keyring.open_ref(dep, subject),
                pseudonym=subject.pseudonym,
                requested_at=aware(req.requested_at),
                enrolled=counts.get(subject.id, 0) > 0,
            )
            for req, subject in rows
        ),
        key=lambda e: (e.requested_at, e.subject_ref),
    )
    return Campaign(deployment_id=dep.id, key_id=dep.key_id, entries=tuple(entries))
