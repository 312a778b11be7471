"""Detect: every face in a photo, with its box, detection score and landmarks.

Which act is it? Finding the faces in a photo reads the face of everyone in it, whether or
not they ever met the deployment, which is what the deployment-level act of a search judges
(``Act.SCAN``): the deployment declared a search capability (CN-SPC-2: nothing beyond the
declared method), the people in view may lawfully be processed at all (EU-GDPR-9 for
bystanders, the capture mode, signage under cn, BIPA's notice under us-il), the assessment
is signed, the self-check passes and no regulator's order stops it. Detection names nobody,
so no person's consent is asked (there is no person to ask about); a deployment that only
verifies enrolled people cannot detect, because it declared no search. The act is ledgered
with the photo's SHA-256 and the number of faces; boxes and landmarks go to the caller only.
Nothing is stored.
"""

from __future__ import annotations

from facegate.actors import Actor
from facegate.core import Core
from facegate.errors import InvalidInput
from facegate.flows.biometrics import sha256_of_upload
from facegate.flows.enforce import enforce, require
from facegate.ledger.events import Event, Kind
from facegate.policy import Act
from facegate.recognition import FaceBox, decode_image
from facegate.recognition.faces import as_lists, find_faces, probability_of
from facegate.results import DetectedFace, DetectResult, FaceBoxOut
from facegate.storage import tables as t

#: names the detector whose scores the results carry
DETECTOR = "dlib-hog-frontal-v1"


def scan_admitted(
    core: Core, actor: Actor, deployment_id: str, kind: Kind, details: dict[str, object]
) -> tuple[t.Deployment, tuple[str, ...]]:
    """Ask the law for a deployment-level search (Act.SCAN) before a photo is decoded."""
    require(actor, "process_faces", f"{kind} faces")
    now = core.clock()
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, actor.operator_id)
        event = Event(
            kind,
            now,
            operator=dep.operator_id,
            deployment=dep.id,
            by=actor.principal_id,
            details=details,
        )
        decision = enforce(core, s, dep, Act.SCAN, event, now=now)
        s.expunge(dep)
    return dep, decision.rule_ids


def box_out(box: FaceBox) -> FaceBoxOut:
    return FaceBoxOut(box.left, box.top, box.right, box.bottom)


def detect(
    core: Core,
    actor: Actor,
    deployment_id: str,
    image: bytes,
    *,
    landmarks: int = 5,
    limit: int = 0,
) -> DetectResult:
    """Every face in ``image`` (largest first; ``limit`` > 0 keeps that many), with 0, 5
    or 68 ``landmarks`` each."""
    if limit < 0 or landmarks not in (0, 5, 68):
        raise InvalidInput("limit is 0 (every face) or more; landmarks is 0, 5 or 68")
    dep, rules = scan_admitted(
        core, actor, deployment_id, Kind.DETECTED, {"input_sha256": sha256_of_upload(image)}
    )
    decoded = decode_image(image, limits=core.settings.recognition)
    found = find_faces(core.engine, decoded, landmarks=landmarks, limit=limit)
    with core.db.transaction() as s:
        recorded = core.record(
            s,
            Event(
                Kind.DETECTED,
                core.clock(),
                operator=dep.operator_id,
                deployment=dep.id,
                rule_ids=rules,
                by=actor.principal_id,
                details={
                    "input_sha256": decoded.sha256,
                    "faces_found": len(found),
                    "detector": DETECTOR,
                },
            ),
        )
    faces = [
        DetectedFace(
            box=box_out(f.box),
            score=f.score,
            probability=round(probability_of(f.score), 4),
            landmarks=as_lists(f.landmarks),
        )
        for f in found
    ]
    return DetectResult(
        deployment_id=dep.id,
        faces=faces,
        width=decoded.width,
        height=decoded.height,
        detector=DETECTOR,
        event_id=recorded[0].event_id,
    )
