"""Identify (1:N) with threshold encrypted templates (issue 16): who in one deployment is
the face a capture device encrypted, without the server seeing a face, an embedding or a
score.

The law is asked as for a photo: for the deployment before the ciphertext is read
(``Act.SCAN``), and for the person found before they are named (``Act.IDENTIFY``: their
consent in force); a refusal is a refusal citing the rule, never "unknown". The probe meets
every encrypted template of the deployment, 128 to a block (:mod:`facegate.encrypted.blocks`),
and the decision holder learns one bit a template: within the distance threshold or not. No
score exists anywhere, so the search cannot rank: one person within the threshold is a
match; several are ``ambiguous`` and nobody is named (the operator verifies 1:1 a claimed
identity instead); nobody is ``unknown``. Everything else is identify's own: the
remote-identification hold for two reviewers (EU-AI-14), unknown-face alerts, the ledger
(:mod:`facegate.flows.searches`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Final

from sqlalchemy import select

from facegate.actors import Actor
from facegate.core import Core
from facegate.encrypted.setup import MODE, EncryptedSetup
from facegate.errors import Conflict, InvalidCiphertext, InvalidInput
from facegate.flows.candidates import ask_identify
from facegate.flows.encrypted import _ad, _ciphertext, _no_face_checks
from facegate.flows.enforce import require
from facegate.flows.searches import Search, ask_scan, ledger_search
from facegate.results import EncryptedIdentifyResult
from facegate.storage import tables as t
from facegate.templates.hazmat import aead

__all__ = ["MAX_GALLERY", "admit_search", "identify"]

#: templates one encrypted search meets: each costs a one-bit comparison (about 29 ms through
#: the service on 2 cores), so 1,024 take about half a minute; a larger gallery is refused
MAX_GALLERY: Final = 1024


def identify(
    core: Core, actor: Actor, deployment_id: str, ciphertext: bytes
) -> EncryptedIdentifyResult:
    digest = hashlib.sha256(ciphertext if isinstance(ciphertext, bytes) else b"").hexdigest()
    now = core.clock()
    dep, rules = admit_search(core, actor, deployment_id, input_sha256=digest)
    _ciphertext(ciphertext)  # after the law: a refusal is about the act, not the bytes
    setup = EncryptedSetup.load(core, dep.id)
    gallery, found = _search(core, dep, setup, ciphertext, now)
    named = _named(core, actor, dep, found, now=now, digest=digest, rules=rules)
    search = replace(
        named,
        gallery_size=len(gallery),
        about={"scheme": MODE, "distance_threshold": setup.threshold, "matched_people": len(found)},
        ambiguous=len(found) > 1,
    )
    done = ledger_search(core, actor, dep, search)
    return EncryptedIdentifyResult(
        deployment_id=dep.id,
        decision=done.decision,
        subject_ref=done.subject_ref,
        scheme=MODE,
        distance_threshold=setup.threshold,
        gallery_size=len(gallery),
        matched_people=len(found),
        event_id=done.event_id,
        identification_id=done.identification_id,
    )


def admit_search(
    core: Core, actor: Actor, deployment_id: str, *, input_sha256: str | None = None
) -> tuple[t.Deployment, tuple[str, ...]]:
    """Ask the law whether this deployment may search the people in view at all (Act.SCAN),
    before any face or ciphertext is read; a refusal is ledgered and raised citing the rule.
    A capture device asks it before it embeds and encrypts."""
    require(actor, "process_faces", "identify faces")
    dep, rules = ask_scan(core, actor, deployment_id, input_sha256=input_sha256, now=core.clock())
    _no_face_checks(dep)
    return dep, rules


class _GalleryChanged(Exception):
    """A template or a person's key went while the search read them (an erasure)."""


def _search(
    core: Core, dep: t.Deployment, setup: EncryptedSetup, probe: bytes, now: datetime
) -> tuple[list[tuple[str, str]], set[str]]:
    """The gallery met, and the people found in it; read again if an erasure changed it
    mid-search (the answer must be about one gallery)."""
    for _ in range(3):
        gallery = _gallery(core, dep, setup, now)
        try:
            return gallery, _matched(core, dep, setup, probe, gallery)
        except _GalleryChanged:
            continue
    raise Conflict(
        "the deployment's encrypted gallery changed during the search, three times",
        advice="Search again.",
    )


def _gallery(
    core: Core, dep: t.Deployment, setup: EncryptedSetup, now: datetime
) -> list[tuple[str, str]]:
    """(template id, person id) of every live encrypted template, in enrolment order."""
    held = t.EncryptedTemplate
    with core.db.read() as s:
        rows = s.execute(
            select(held.id, held.subject_id)
            .where(
                held.deployment_id == dep.id,
                held.expires_at > now,
                held.ceremony == setup.ceremony,
            )
            .order_by(held.created_at, held.id)
        ).all()
    if len(rows) > MAX_GALLERY:
        raise Conflict(
            f"this deployment holds {len(rows)} encrypted templates; an encrypted search meets "
            f"at most {MAX_GALLERY}, each with a one-bit comparison",
            advice="Verify 1:1 against the identity the person claims, or split the gallery "
            "among deployments (docs/template-protection.md).",
        )
    return [(str(a), str(b)) for a, b in rows]


def _matched(
    core: Core,
    dep: t.Deployment,
    setup: EncryptedSetup,
    probe: bytes,
    gallery: Sequence[tuple[str, str]],
) -> set[str]:
    """The people with a template within the threshold, block after block."""
    if not gallery:
        return set()
    owner = dict(gallery)
    verifier, decider = setup.verifier(core), setup.decider_client(core)

    def opened(run: Sequence[str]) -> list[bytes]:
        held = t.EncryptedTemplate
        with core.db.read() as s:
            sealed = dict(s.execute(select(held.id, held.sealed).where(held.id.in_(run))).all())
        keys = core.keyring.data_keys(dep, sorted({owner[i] for i in run}))
        if any(i not in sealed or owner[i] not in keys for i in run):
            raise _GalleryChanged
        return [
            aead.open_sealed(keys[owner[i]], sealed[i], ad=_ad(dep.id, owner[i], i)) for i in run
        ]

    found: set[str] = set()
    for block in setup.blocks(core).blocks([i for i, _ in gallery], opened):
        positions = range(len(block.template_ids))
        try:
            request = verifier.decision_request(probe, block.ciphertext, positions)
        except InvalidInput as err:
            raise InvalidCiphertext(f"the probe is not one OpenFHE can read ({err})") from None
        bits = decider.decide_all(request, verifier)
        found |= {owner[block.template_ids[p]] for p, inside in bits.items() if inside}
    return found


def _named(
    core: Core,
    actor: Actor,
    dep: t.Deployment,
    found: set[str],
    *,
    now: datetime,
    digest: str,
    rules: tuple[str, ...],
) -> Search:
    """The one person found, named once the law allows it (Act.IDENTIFY: their consent in
    force; a refusal is ledgered and raised); several or none: nobody named."""
    nobody = Search(digest, 0, None, None, None, None, rules)
    if len(found) != 1:
        return nobody
    with core.db.read() as s:
        subject = s.get(t.Subject, next(iter(found)))
        if subject is None:  # erased since the gallery was read
            return nobody
        person = ask_identify(core, s, actor, dep, subject, now=now, input_sha256=digest)
        return Search(
            digest,
            0,
            core.keyring.open_ref(dep, subject),
            subject.pseudonym,
            subject.id,
            None,
            tuple(dict.fromkeys((*rules, *person))),
        )
