"""A deployment's people and templates as collections: what a CompreFace-style client lists
and deletes (:mod:`facegate.compat`), mapped onto facegate's lawful flows.

* A *subject* is a person with a consent record in the deployment, named by the operator's
  reference (sealed at rest, opened here for the operator). Admitting a subject asks the law
  whether enrolling them is allowed (their consent in force) without touching a face.
* A *face* is a protected template (never a photo, which is not kept): its id is the
  template id. Deleting faces deletes templates only; the person and their consent stay, and
  the deletion is a decided act (``Act.ERASE``: erasure on request) ledgered as
  ``template.deleted``. Erasing the person is :func:`facegate.flows.erasure.erase`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select

from facegate._internal.canonical import sha256_hex
from facegate.actors import Actor
from facegate.core import Core
from facegate.errors import Conflict, InvalidTemplate, NotFound
from facegate.flows.biometrics import consent_of
from facegate.flows.enforce import enforce, require
from facegate.ledger.events import Event, Kind
from facegate.policy import Act
from facegate.storage import tables as t
from facegate.sync import feed


@dataclass(frozen=True)
class Face:
    template_id: str
    subject_ref: str


def service_deployment(core: Core, api_key: str) -> str | None:
    """The deployment an API key is scoped to (None: unscoped or unknown; the caller still
    authenticates the key, which refuses unknown, revoked and expired ones)."""
    if not api_key or len(api_key) > 200:
        return None
    with core.db.read() as s:
        return s.scalar(
            select(t.ApiKey.deployment_id).where(t.ApiKey.key_hash == sha256_hex(api_key))
        )


def admit_subject(core: Core, actor: Actor, deployment_id: str, subject_ref: str) -> None:
    """Whether this person may be enrolled: asked of the law (their consent in force, the
    deployment live), refused (ledgered, citing the rule) otherwise. No face is touched."""
    require(actor, "process_faces", "add subjects")
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, actor.operator_id)
        subject = core.subject(s, dep, subject_ref)
        event = Event(
            Kind.ENROLLED,
            core.clock(),
            operator=dep.operator_id,
            deployment=dep.id,
            subject=subject.pseudonym if subject else None,
            by=actor.principal_id,
            details={"step": "subject admitted before enrollment"},
        )
        enforce(core, s, dep, Act.ENROLL, event, consent=consent_of(s, subject))


def subjects(core: Core, actor: Actor, deployment_id: str) -> list[str]:
    """The references of the people the deployment holds a consent record for, sorted."""
    require(actor, "read", "list people")
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, actor.operator_id)
        rows = s.scalars(select(t.Subject).where(t.Subject.deployment_id == dep.id)).all()
        refs = [_ref(core, dep, row) for row in rows]
    return sorted(r for r in refs if r is not None)


def faces(
    core: Core,
    actor: Actor,
    deployment_id: str,
    subject_ref: str | None = None,
    *,
    template_id: str | None = None,
) -> list[Face]:
    """The deployment's templates (of one person, or the one template, when named), oldest
    first. Each listed person's reference is unsealed, so a lookup by id filters in SQL."""
    require(actor, "read", "list templates")
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, actor.operator_id)
        q = (
            select(t.Template.id, t.Subject)
            .join(t.Subject, t.Subject.id == t.Template.subject_id)
            .where(t.Template.deployment_id == dep.id)
            .order_by(t.Template.created_at, t.Template.id)
        )
        if subject_ref is not None:
            q = q.where(t.Subject.ref_hmac == core.keyring.ref_hmac(dep, subject_ref.strip()))
        if template_id is not None:
            q = q.where(t.Template.id == template_id)
        found: list[Face] = []
        refs: dict[str, str | None] = {}
        for tid, subject in s.execute(q).all():
            if subject.id not in refs:
                refs[subject.id] = _ref(core, dep, subject)
            ref = refs[subject.id]
            if ref is not None:
                found.append(Face(tid, ref))
    return found


def delete_faces(
    core: Core,
    actor: Actor,
    deployment_id: str,
    *,
    subject_ref: str | None = None,
    template_id: str | None = None,
) -> list[Face]:
    """Delete one template, or every template of one person (the person stays)."""
    require(actor, "erase", "delete templates")
    chosen = faces(core, actor, deployment_id, subject_ref, template_id=template_id)
    if template_id is not None and not chosen:
        raise NotFound(f"no face {template_id!r} in this deployment")
    by_person: dict[str, list[Face]] = {}
    for face in chosen:
        by_person.setdefault(face.subject_ref, []).append(face)
    for ref, theirs in by_person.items():
        _delete_templates(core, actor, deployment_id, ref, [f.template_id for f in theirs])
    return chosen


def _delete_templates(
    core: Core, actor: Actor, deployment_id: str, subject_ref: str, template_ids: list[str]
) -> None:
    now = core.clock()
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, actor.operator_id)
        subject = core.subject(s, dep, subject_ref)
        if subject is None:
            raise NotFound("no such person in this deployment (erased meanwhile?)")
        if subject.hold_ground:
            raise Conflict(
                f"this person's data is held ({subject.hold_ground}); nothing of it is deleted "
                "until the hold is released"
            )
        event = Event(
            Kind.TEMPLATES_DELETED,
            now,
            operator=dep.operator_id,
            deployment=dep.id,
            subject=subject.pseudonym,
            by=actor.principal_id,
        )
        decision = enforce(core, s, dep, Act.ERASE, event, now=now)
        subject_id, pseudonym = subject.id, subject.pseudonym
    with core.db.transaction() as s:
        gone = s.execute(
            delete(t.Template).where(
                t.Template.subject_id == subject_id, t.Template.id.in_(template_ids)
            )
        )
        feed.templates_removed(s, dep.id, template_ids)  # every process's gallery, in order
        core.record(
            s,
            Event(
                Kind.TEMPLATES_DELETED,
                now,
                operator=dep.operator_id,
                deployment=dep.id,
                subject=pseudonym,
                rule_ids=decision.rule_ids,
                by=actor.principal_id,
                details={
                    "templates_deleted": getattr(gone, "rowcount", len(template_ids)),
                    "template_ids": sorted(template_ids),
                },
            ),
        )
    core.caught_up()


def _ref(core: Core, dep: t.Deployment, subject: t.Subject) -> str | None:
    """The operator's reference, or None when the person's key is gone (erased)."""
    try:
        return core.keyring.open_ref(dep, subject)
    except (NotFound, InvalidTemplate):
        return None
