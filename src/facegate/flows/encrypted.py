"""Enroll and verify with threshold encrypted templates (issue 16): the server never sees a
face, an embedding or a score.

The capture device encrypts the embedding under the deployment's joint public key
(:class:`~facegate.templates.he.threshold.ThresholdDevice`) and sends the ciphertext. The law
is asked first, exactly as for a photo (consent, PIA, purpose: ``biometrics._admit``), and a
refusal is ledgered with the ciphertext's SHA-256 only. A stored template is the ciphertext
sealed under the person's data key. A verification asks the decision holder node, which
learns one bit; the server turns it into match or no match and ledgers that. A deployment
that asks for liveness checks is refused: the server has no face to check them on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Final, Literal

from sqlalchemy import func, select

from facegate._internal.ids import new_id
from facegate.actors import Actor
from facegate.core import Core
from facegate.encrypted.setup import MODE, EncryptedSetup
from facegate.errors import Conflict, InvalidCiphertext, InvalidInput, NotFound
from facegate.flows.biometrics import (
    MAX_TEMPLATES_PER_SUBJECT,
    _admit,
    _filing_after_enroll,
    _still_there,
    expires_at,
)
from facegate.flows.enforce import require
from facegate.ledger.events import Event, Kind
from facegate.policy import Act
from facegate.results import EncryptedEnrollResult, EncryptedVerifyResult
from facegate.storage import tables as t
from facegate.templates.hazmat import aead

__all__ = ["enroll", "public_key", "verify"]

#: a device's ciphertext is about 1 MB (16384 slots under a 2-limb BFV modulus)
MAX_CIPHERTEXT: Final = 4 * 1024 * 1024


def _ad(dep_id: str, subject_id: str, template_id: str) -> bytes:
    return f"facegate/v1/encrypted-template\n{dep_id}\n{subject_id}\n{template_id}".encode()


def _ciphertext(blob: object) -> None:
    if not isinstance(blob, bytes) or not blob:
        raise InvalidCiphertext("the ciphertext is empty")
    if len(blob) > MAX_CIPHERTEXT:
        raise InvalidCiphertext(f"the ciphertext is larger than {MAX_CIPHERTEXT} bytes")


def _readable(setup: EncryptedSetup, core: Core, blob: bytes) -> None:
    """OpenFHE reads it (the server packs it once, and forgets the result), or it is refused."""
    try:
        setup.verifier(core).pack(None, blob, 0)
    except InvalidInput as err:
        raise InvalidCiphertext(f"the ciphertext is not one OpenFHE can read ({err})") from None


def _no_face_checks(dep: t.Deployment) -> None:
    if dep.liveness or dep.liveness_challenge:
        raise Conflict(
            "this deployment requires liveness checks, which need the face: an encrypted "
            "probe cannot pass them on the server",
            advice="Use the photo routes for this deployment, or change it to a deployment "
            "without liveness checks (a new PIA).",
        )


def public_key(core: Core, actor: Actor, deployment_id: str) -> tuple[str, bytes, bytes]:
    """The ceremony id, OpenFHE context and joint public key a capture device encrypts under
    (for the staff and devices that process faces: nobody else needs it)."""
    require(actor, "process_faces", "encrypt faces")
    with core.db.read() as s:
        core.deployment(s, deployment_id, actor.operator_id)
    setup = EncryptedSetup.load(core, deployment_id)
    return (setup.ceremony, *setup.public_key(core))


def _admitted(
    core: Core,
    actor: Actor,
    deployment_id: str,
    subject_ref: str,
    ciphertext: bytes,
    *,
    act: Act,
) -> tuple[t.Deployment, t.Subject, tuple[str, ...], EncryptedSetup]:
    """The law first, exactly as for a photo (its refusal ledgered with the ciphertext's
    SHA-256 only); then the deployment's face checks, the bytes, and its setup."""
    digest = hashlib.sha256(ciphertext if isinstance(ciphertext, bytes) else b"").hexdigest()
    kind = Kind.ENROLLED if act is Act.ENROLL else Kind.VERIFIED
    dep, subject, rules = _admit(
        core, actor, deployment_id, subject_ref, act=act, kind=kind, input_sha256=digest
    )
    _no_face_checks(dep)
    _ciphertext(ciphertext)  # after the law: a refusal is about the act, not the bytes
    return dep, subject, rules, EncryptedSetup.load(core, dep.id)


def enroll(
    core: Core, actor: Actor, deployment_id: str, subject_ref: str, ciphertext: bytes
) -> EncryptedEnrollResult:
    dep, subject, rules, setup = _admitted(
        core, actor, deployment_id, subject_ref, ciphertext, act=Act.ENROLL
    )
    blob, digest = ciphertext, hashlib.sha256(ciphertext).hexdigest()
    _readable(setup, core, blob)
    template_id = new_id("etp", core.entropy)
    sealed = aead.seal(
        core.keyring.data_key(dep, subject.id), blob, ad=_ad(dep.id, subject.id, template_id)
    )
    now = core.clock()
    expires = expires_at(dep, now)
    row = t.EncryptedTemplate(
        id=template_id,
        subject_id=subject.id,
        deployment_id=dep.id,
        ceremony=setup.ceremony,
        sealed=sealed,
        created_at=now,
        expires_at=expires,
    )
    details = {"input_sha256": digest, "template_id": template_id, "scheme": MODE}
    event = _event(
        Kind.ENROLLED, now, dep=dep, subject=subject, actor=actor, rules=rules, details=details
    )
    event_id = _store(core, row, event)
    _filing_after_enroll(core, dep.operator_id)  # encrypted templates count as people held
    return EncryptedEnrollResult(
        deployment_id=dep.id,
        template_id=template_id,
        scheme=MODE,
        ceremony=setup.ceremony,
        expires_at=expires,
        event_id=event_id,
    )


def _store(core: Core, row: t.EncryptedTemplate, event: Event) -> str:
    """The template and its ledger event in one transaction, within the per-person limit
    (the person's row lock serialises concurrent enrolments and their erasure)."""
    with core.db.transaction() as s:
        _still_there(s, row.subject_id)
        held = t.EncryptedTemplate
        count = s.scalar(select(func.count()).where(held.subject_id == row.subject_id)) or 0
        if count >= MAX_TEMPLATES_PER_SUBJECT:
            raise Conflict(
                f"this person already has {count} encrypted templates enrolled",
                advice="Erase and re-enroll them if their appearance changed.",
            )
        s.add(row)
        return core.record(s, event)[0].event_id


def verify(
    core: Core, actor: Actor, deployment_id: str, subject_ref: str, ciphertext: bytes
) -> EncryptedVerifyResult:
    dep, subject, rules, setup = _admitted(
        core, actor, deployment_id, subject_ref, ciphertext, act=Act.VERIFY
    )
    blob, digest = ciphertext, hashlib.sha256(ciphertext).hexdigest()
    now = core.clock()
    held = t.EncryptedTemplate
    with core.db.read() as s:
        rows = s.execute(
            select(held.id, held.sealed).where(
                held.subject_id == subject.id,
                held.expires_at > now,
                held.ceremony == setup.ceremony,
            )
        ).all()
    if not rows:
        raise NotFound(
            "this person has consented but has no encrypted template enrolled",
            advice="Enroll their encrypted embedding first.",
        )
    data_key = core.keyring.data_key(dep, subject.id)
    templates = [
        aead.open_sealed(data_key, sealed, ad=_ad(dep.id, subject.id, template_id))
        for template_id, sealed in rows
    ]
    decision = _decide(core, setup, blob, templates)
    details = {
        "input_sha256": digest,
        "decision": decision,
        "scheme": MODE,
        "distance_threshold": setup.threshold,
    }
    recorded = core.record_alone(
        _event(
            Kind.VERIFIED, now, dep=dep, subject=subject, actor=actor, rules=rules, details=details
        )
    )
    return EncryptedVerifyResult(
        deployment_id=dep.id,
        decision=decision,
        scheme=MODE,
        distance_threshold=setup.threshold,
        event_id=recorded[0].event_id,
    )


def _decide(
    core: Core, setup: EncryptedSetup, probe: bytes, templates: list[bytes]
) -> Literal["match", "no_match"]:
    """A match when the decision holder's bit says so for any of the person's templates."""
    verifier, decider = setup.verifier(core), setup.decider_client(core)
    for template in templates:
        try:
            request = verifier.decision_request(probe, template)
        except InvalidInput as err:
            raise InvalidCiphertext(f"the probe is not one OpenFHE can read ({err})") from None
        if decider.decide_all(request, verifier)[0]:
            return "match"
    return "no_match"


def _event(
    kind: Kind,
    now: datetime,
    *,
    dep: t.Deployment,
    subject: t.Subject,
    actor: Actor,
    rules: tuple[str, ...],
    details: Mapping[str, object],
) -> Event:
    return Event(
        kind,
        now,
        operator=dep.operator_id,
        deployment=dep.id,
        subject=subject.pseudonym,
        rule_ids=rules,
        by=actor.principal_id,
        details=details,
    )
