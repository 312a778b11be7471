"""Enroll and verify (1:1), and the 1:N gallery load: with :mod:`flows.identify`, the only
places a face is looked at.

Order of work: ask the law first (a refusal is ledgered and nothing of the photo is read but
its hash); then decode (bad input stops here, nothing recorded); detect, align and embed
outside any database lock; protect the embedding; then store or compare, and record the act
in the ledger in the same transaction as any change. ``identify`` asks twice: for the
deployment before the photo is decoded (capability declared, people in view lawfully
scanned, signed PIA, self-check, orders), and for the person matched before they are named.
A refusal is a refusal (PolicyDenied, with the rule id), never "unknown", and carries no score.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import astuple
from datetime import datetime
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from facegate._internal.ids import new_id
from facegate.actors import Actor
from facegate.core import Core, aware, packs_of
from facegate.errors import Conflict, NotFound
from facegate.flows.enforce import enforce, require
from facegate.flows.facts import consent_facts, scale_facts
from facegate.flows.liveness import check_passive, liveness_details, use_challenge
from facegate.flows.quality import check_quality
from facegate.gallery import Gallery
from facegate.ledger.events import Event, Kind
from facegate.policy import Act
from facegate.policy.facts import ConsentFacts
from facegate.policy.retention import template_expiry
from facegate.recognition import decode_image
from facegate.results import EnrollResult, FaceBoxOut, VerifyResult
from facegate.storage import tables as t
from facegate.sync import feed
from facegate.transfers.watch import watch_probe

MAX_TEMPLATES_PER_SUBJECT = 5


def consent_of(s: Session, subject: t.Subject | None) -> ConsentFacts | None:
    if subject is None:
        return None
    row = s.scalar(select(t.Consent).where(t.Consent.subject_id == subject.id))
    return consent_facts(row, held=subject.hold_ground is not None) if row is not None else None


def _admit(
    core: Core,
    actor: Actor,
    deployment_id: str,
    subject_ref: str,
    *,
    act: Act,
    kind: Kind,
    input_sha256: str,
) -> tuple[t.Deployment, t.Subject, tuple[str, ...]]:
    """The policy gate for 1:1 acts, before any face is looked at."""
    require(actor, "process_faces", f"{act} faces")
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, actor.operator_id)
        subject = core.subject(s, dep, subject_ref)
        event = Event(
            kind,
            core.clock(),
            operator=dep.operator_id,
            deployment=dep.id,
            subject=subject.pseudonym if subject else None,
            by=actor.principal_id,
            details={"input_sha256": input_sha256},
        )
        scale = scale_facts(s, dep.operator_id) if act is Act.ENROLL else None
        decision = enforce(core, s, dep, act, event, consent=consent_of(s, subject), scale=scale)
        if subject is None:  # pragma: no cover - the consent rules refuse this
            raise NotFound("no such person in this deployment")
        s.expunge(subject)
        s.expunge(dep)
        return dep, subject, decision.rule_ids


def _still_there(s: Session, subject_id: str) -> t.Subject:
    # The person may have withdrawn while their photo was being processed; the row lock
    # serialises this enrollment with their erasure and with other enrollments of theirs.
    subject = s.get(t.Subject, subject_id, with_for_update=True)
    if subject is None:
        raise NotFound("this person withdrew or was erased while the photo was processed")
    return subject


def expires_at(dep: t.Deployment, now: datetime) -> datetime:
    """When a template enrolled ``now`` must be gone: the TTL the packs allow (retention,
    purpose end, BIPA's three years: CN-PIPL-19, US-IL-15a, US-TX-503)."""
    return template_expiry(
        packs_of(dep.jurisdiction),
        enrolled_at=now,
        retention_days=dep.retention_days,
        purpose_ends_at=aware(dep.purpose_ends_at) if dep.purpose_ends_at else None,
    )


def sha256_of_upload(image: bytes) -> str:
    return hashlib.sha256(image).hexdigest()


def enroll(
    core: Core,
    actor: Actor,
    deployment_id: str,
    subject_ref: str,
    image: bytes,
    *,
    challenge_id: str | None = None,
) -> EnrollResult:
    digest = sha256_of_upload(image)
    dep, subject, rules = _admit(
        core,
        actor,
        deployment_id,
        subject_ref,
        act=Act.ENROLL,
        kind=Kind.ENROLLED,
        input_sha256=digest,
    )
    challenge = use_challenge(
        core, dep, subject.id, challenge_id, act="enroll", image_sha256=digest
    )
    decoded = decode_image(image, limits=core.settings.recognition)
    extraction = core.engine.extract_for_enrollment(decoded)
    watch_probe(core, actor, dep, extraction.embedding, Act.ENROLL, subject=subject.pseudonym)
    # liveness, then quality, before anything is stored (issue 17)
    live = check_passive(
        core, actor, dep, decoded, extraction.box, act=Kind.ENROLLED, subject=subject.pseudonym
    )
    quality = check_quality(core.settings.recognition, decoded, extraction.box)
    protector = core.keyring.protector(dep)
    template = protector.protect(extraction.embedding)
    template_id = new_id("tpl", core.entropy)
    sealed = protector.seal_template(
        template,
        subject_id=subject.id,
        template_id=template_id,
        data_key=core.keyring.data_key(dep, subject.id),
    )
    now = core.clock()
    expires = expires_at(dep, now)
    with core.db.transaction() as s:
        _still_there(s, subject.id)
        count = (
            s.scalar(
                select(func.count())
                .select_from(t.Template)
                .where(t.Template.subject_id == subject.id)
            )
            or 0
        )
        if count >= MAX_TEMPLATES_PER_SUBJECT:
            raise Conflict(
                f"this person already has {count} templates enrolled",
                advice="Erase and re-enroll them if their appearance changed.",
            )
        s.add(
            t.Template(
                id=template_id,
                subject_id=subject.id,
                deployment_id=dep.id,
                scheme=dep.scheme,
                sealed=sealed,
                created_at=now,
                expires_at=expires,
            )
        )
        feed.template_added(s, dep.id, template_id, subject.id)
        recorded = core.record(
            s,
            Event(
                Kind.ENROLLED,
                now,
                operator=dep.operator_id,
                deployment=dep.id,
                subject=subject.pseudonym,
                rule_ids=rules,
                by=actor.principal_id,
                details={
                    "input_sha256": decoded.sha256,
                    "template_id": template_id,
                    "model_version": extraction.model_version,
                    "scheme": dep.scheme,
                    "faces_found": extraction.faces_found,
                    "quality": quality.to_dict(),
                    **liveness_details(live, challenge),
                },
            ),
        )
    core.caught_up()  # this and every earlier change, in feed order, into the galleries
    _filing_after_enroll(core, dep.operator_id)
    return EnrollResult(
        deployment_id=dep.id,
        template_id=template_id,
        model_version=extraction.model_version,
        scheme=dep.scheme,
        faces_found=extraction.faces_found,
        expires_at=expires,
        event_id=recorded[0].event_id,
    )


def _filing_after_enroll(core: Core, operator_id: str) -> None:
    """CN-FR-15 as a live obligation: at 100,000 people the filing clock starts (ledgered);
    a material change of what was filed starts a new one."""
    from facegate.supervision.filings import FILING_THRESHOLD, check_filing

    with core.db.read() as s:
        people = scale_facts(s, operator_id)
    if people.people_stored >= FILING_THRESHOLD or people.clock_started_at or people.filed_at:
        check_filing(core, operator_id=operator_id)


def verify(
    core: Core,
    actor: Actor,
    deployment_id: str,
    subject_ref: str,
    image: bytes,
    *,
    challenge_id: str | None = None,
) -> VerifyResult:
    digest = sha256_of_upload(image)
    dep, subject, rules = _admit(
        core,
        actor,
        deployment_id,
        subject_ref,
        act=Act.VERIFY,
        kind=Kind.VERIFIED,
        input_sha256=digest,
    )
    challenge = use_challenge(
        core, dep, subject.id, challenge_id, act="verify", image_sha256=digest
    )
    now = core.clock()
    with core.db.read() as s:
        rows = s.execute(
            select(t.Template.id, t.Template.sealed).where(
                t.Template.subject_id == subject.id, t.Template.expires_at > now
            )
        ).all()
    if not rows:
        raise NotFound(
            "this person has consented but has no face enrolled",
            advice="Enroll a photo of them first.",
        )
    decoded = decode_image(image, limits=core.settings.recognition)
    extraction = core.engine.extract_probe(decoded)
    watch_probe(core, actor, dep, extraction.embedding, Act.VERIFY, subject=subject.pseudonym)
    live = check_passive(
        core, actor, dep, decoded, extraction.box, act=Kind.VERIFIED, subject=subject.pseudonym
    )
    protector = core.keyring.protector(dep)
    probe = protector.protect(extraction.embedding)
    data_key = core.keyring.data_key(dep, subject.id)
    score = round(
        max(
            protector.similarity(
                probe,
                protector.open(
                    sealed, subject_id=subject.id, template_id=template_id, data_key=data_key
                ),
            )
            for template_id, sealed in rows
        ),
        6,
    )
    decision: Literal["match", "no_match"] = "match" if score >= dep.threshold else "no_match"
    recorded = core.record_alone(
        Event(
            Kind.VERIFIED,
            now,
            operator=dep.operator_id,
            deployment=dep.id,
            subject=subject.pseudonym,
            rule_ids=rules,
            by=actor.principal_id,
            details={
                "input_sha256": decoded.sha256,
                "decision": decision,
                "score": score,
                "threshold": dep.threshold,
                "model_version": extraction.model_version,
                **liveness_details(live, challenge),
            },
        ),
    )
    return VerifyResult(
        deployment_id=dep.id,
        decision=decision,
        score=score,
        threshold=dep.threshold,
        model_version=extraction.model_version,
        faces_ignored=extraction.others_ignored,
        event_id=recorded[0].event_id,
        box=FaceBoxOut(*astuple(extraction.box)),
    )


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause Python's cycle collector: a load makes millions of short-lived row tuples and
    none of them in cycles, and the collector's passes over them cost a quarter of the time
    at 300k templates (more at 1M)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_gallery(core: Core, deployment_id: str) -> Gallery:
    """Rebuild one deployment's 1:N gallery from the store (at first use after start).

    Every template is stored sealed under its subject's data key, so each is opened here:
    one key-store read for the data keys, then two AES-GCM openings per template (the data
    key, the template), in bulk. At 1M templates this takes ~19 CPU seconds on this
    machine, most of it Python around the cryptography calls (``python bench/identify.py``).
    Templates of shredded subjects stay shut; opened ones exist only in memory.
    """
    with _no_cyclic_gc():
        return _load_gallery(core, deployment_id)


def _load_gallery(core: Core, deployment_id: str) -> Gallery:
    now = core.clock()
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, None)
        s.expunge(dep)
        rows = s.execute(
            select(t.Template.id, t.Template.subject_id, t.Template.sealed).where(
                t.Template.deployment_id == dep.id, t.Template.expires_at > now
            )
        ).all()
    protector = core.keyring.protector(dep)
    data_keys = core.keyring.data_keys(dep, list({r.subject_id: None for r in rows}))
    # templates of shredded subjects have no key: nothing can open them
    live = [
        (sealed, subject_id, template_id, data_keys[subject_id])
        for template_id, subject_id, sealed in rows
        if subject_id in data_keys
    ]
    opened = protector.open_many(live)
    template_ids = [row[2] for row in live]
    subject_ids = [row[1] for row in live]
    gallery = Gallery(
        protector.scheme.template_bytes,
        protector.similarity_many,
        capacity=len(opened) + len(opened) // 4,  # room to enroll before the first growth
        prefix_bytes=protector.scheme.search_prefix_bytes,
        key_id=dep.key_id,
    )
    gallery.add_many(template_ids, subject_ids, b"".join(opened))
    return gallery
