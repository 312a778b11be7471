"""Identify (1:N): who in one deployment is the face in a photo.

The law is asked twice. For the deployment, before the photo is decoded (Act.SCAN: the
capability declared, the people in view lawfully scanned, a signed assessment, the self-check,
orders in force); and for the person matched, before they are named (Act.IDENTIFY: their
consent in force). A refusal is a refusal (PolicyDenied citing the rule), never "unknown",
and carries no score; an "unknown" answer carries no score either (it would say how close the
nearest enrolled person came). A remote-identification match waits for two reviewers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple

from facegate.actors import Actor
from facegate.core import Core
from facegate.flows.biometrics import sha256_of_upload
from facegate.flows.candidates import Named, ask_identify, check_top, more_candidates
from facegate.flows.enforce import require
from facegate.flows.facts import capabilities_of
from facegate.flows.searches import Search, ask_scan, ledger_search
from facegate.policy import Act
from facegate.policy.facts import REMOTE_IDENTIFICATION
from facegate.recognition import decode_image
from facegate.results import Candidate, FaceBoxOut, IdentifyResult
from facegate.storage import tables as t
from facegate.transfers.watch import watch_probe


def identify(
    core: Core, actor: Actor, deployment_id: str, image: bytes, *, top: int = 1
) -> IdentifyResult:
    require(actor, "process_faces", "identify faces")
    check_top(top)
    input_sha256 = sha256_of_upload(image)
    now = core.clock()
    dep, rules = ask_scan(core, actor, deployment_id, input_sha256=input_sha256, now=now)
    decoded = decode_image(image, limits=core.settings.recognition)
    core.caught_up()  # every change committed before this search, by any process
    gallery = core.galleries.get(dep.id, key_id=dep.key_id)
    extraction = core.engine.extract_probe(decoded)
    watch_probe(core, actor, dep, extraction.embedding, Act.SCAN)
    probe = core.keyring.protector(dep).protect(extraction.embedding)
    hits = gallery.search(probe, top=top)
    matched = hits[0] if hits and hits[0].score >= dep.threshold else None
    subject_ref: str | None = None
    pseudonym: str | None = None
    if matched is not None:
        with core.db.read() as s:
            subject = s.get(t.Subject, matched.subject_id)
            if subject is not None:  # else erased since the gallery was read
                person = ask_identify(
                    core, s, actor, dep, subject, now=now, input_sha256=input_sha256
                )
                rules = tuple(dict.fromkeys((*rules, *person)))
                subject_ref = core.keyring.open_ref(dep, subject)
                pseudonym = subject.pseudonym
    top_score = round(matched.score, 6) if matched is not None and subject_ref else None
    extra = (
        more_candidates(core, actor, dep, hits[1:], now=now, input_sha256=input_sha256)
        if top > 1 and subject_ref and not capabilities_of(dep) & REMOTE_IDENTIFICATION
        else []
    )
    return _record_identification(
        core,
        actor,
        dep,
        input_sha256=decoded.sha256,
        model_version=extraction.model_version,
        faces_ignored=extraction.others_ignored,
        box=FaceBoxOut(*astuple(extraction.box)),
        gallery_size=len(gallery),
        subject_ref=subject_ref,
        pseudonym=pseudonym,
        subject_id=matched.subject_id if matched is not None else None,
        score=top_score,
        rules=rules,
        candidates=extra,
    )


def _record_identification(
    core: Core,
    actor: Actor,
    dep: t.Deployment,
    *,
    input_sha256: str,
    model_version: str,
    faces_ignored: int,
    box: FaceBoxOut,
    gallery_size: int,
    subject_ref: str | None,
    pseudonym: str | None,
    subject_id: str | None,
    score: float | None,
    rules: tuple[str, ...],
    candidates: Sequence[Named] = (),
) -> IdentifyResult:
    """Ledger the search (:func:`facegate.flows.searches.ledger_search`) and say what it found."""
    about = {"threshold": dep.threshold, "model_version": model_version}
    search = Search(
        input_sha256, gallery_size, subject_ref, pseudonym, subject_id, score, rules, about
    )
    done = ledger_search(core, actor, dep, search, candidates)
    decision, named = done.decision, done.subject_ref
    assert decision != "ambiguous"  # a scored search ranks its hits
    first = [Candidate(named, score)] if named and score is not None else []
    return IdentifyResult(
        deployment_id=dep.id,
        decision=decision,
        subject_ref=named,
        score=score if decision != "pending" else None,
        threshold=dep.threshold,
        model_version=model_version,
        faces_ignored=faces_ignored,
        gallery_size=gallery_size,
        event_id=done.event_id,
        identification_id=done.identification_id,
        candidates=tuple(first + [c.candidate for c in candidates]),
        box=box,
    )
