"""Compare two photos: is the largest face of each the same person? Neither is stored.

The same act as a search (``Act.SCAN``, see :mod:`facegate.flows.detect` for why): two faces
of people who may never have consented are embedded in memory and compared under the
deployment's key, and nobody is named, so no person's consent is asked and no enrolled
person is involved (the score says nothing about anyone the deployment holds). The act is
ledgered with both photos' SHA-256, the decision and the score; both embeddings die with
the call.
"""

from __future__ import annotations

from typing import Literal

from facegate.actors import Actor
from facegate.core import Core
from facegate.errors import FaceError
from facegate.flows.biometrics import sha256_of_upload
from facegate.flows.detect import box_out, scan_admitted
from facegate.ledger.events import Event, Kind
from facegate.policy import Act
from facegate.recognition import decode_image
from facegate.results import CompareResult
from facegate.transfers.watch import watch_probe


def compare(
    core: Core, actor: Actor, deployment_id: str, source: bytes, target: bytes
) -> CompareResult:
    details: dict[str, object] = {
        "input_sha256": sha256_of_upload(source),
        "target_sha256": sha256_of_upload(target),
    }
    dep, rules = scan_admitted(core, actor, deployment_id, Kind.COMPARED, details)
    limits = core.settings.recognition
    images = [decode_image(source, limits=limits), decode_image(target, limits=limits)]
    extracted = core.engine.embed_many(images, enrollment=False)
    for which, one in zip(("source", "target"), extracted, strict=True):
        if isinstance(one, FaceError):
            raise type(one)(f"{which} photo: {one.message}", advice=one.advice)
    first, second = (e for e in extracted if not isinstance(e, FaceError))
    for one in (first, second):  # a leaked canary or a wolf probe is stopped here too
        watch_probe(core, actor, dep, one.embedding, Act.SCAN)
    protector = core.keyring.protector(dep)
    score = round(
        protector.similarity(
            protector.protect(first.embedding), protector.protect(second.embedding)
        ),
        6,
    )
    decision: Literal["match", "no_match"] = "match" if score >= dep.threshold else "no_match"
    with core.db.transaction() as s:
        recorded = core.record(
            s,
            Event(
                Kind.COMPARED,
                core.clock(),
                operator=dep.operator_id,
                deployment=dep.id,
                rule_ids=rules,
                by=actor.principal_id,
                details={
                    **details,
                    "decision": decision,
                    "score": score,
                    "threshold": dep.threshold,
                    "model_version": first.model_version,
                },
            ),
        )
    return CompareResult(
        deployment_id=dep.id,
        decision=decision,
        score=score,
        threshold=dep.threshold,
        model_version=first.model_version,
        source_box=box_out(first.box),
        target_box=box_out(second.box),
        faces_ignored=first.others_ignored + second.others_ignored,
        event_id=recorded[0].event_id,
    )
