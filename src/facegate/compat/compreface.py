"""CompreFace's REST API (the subset its SDKs call), served by facegate's lawful flows.

Every route is a facegate act acting as the service key's principal on the key's deployment
(:mod:`facegate.compat.service`): adding a face is an enrollment (the person's consent in
force, the liveness and quality checks the deployment asks for), recognizing is a 1:N search
asked of the law, detection and the two-photo verification are searches too, and deleting a
subject erases the person. No route returns an embedding or keeps a photo. Refusals are
facegate's error body (``error``, ``message``, ``advice``, ``rule_id`` for the law's). The
differences from CompreFace are listed in docs/compreface.md.
"""

from __future__ import annotations

import math
import time
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Path, Query, UploadFile
from starlette.concurrency import run_in_threadpool

from facegate.api.errors import documented
from facegate.api.validation import SafeId
from facegate.compat.service import ServiceDep, plugins
from facegate.errors import Conflict, NotFound
from facegate.flows.candidates import MAX_TOP
from facegate.flows.detect import DETECTOR
from facegate.results import FaceBoxOut

router = APIRouter(prefix="/api/v1", tags=["compreface"])

Upload = Annotated[UploadFile, File(description="a JPEG, PNG, WebP, GIF or PGM photo")]
Subject = Annotated[SafeId, Query(description="the operator's reference for the person")]
SubjectPath = Annotated[SafeId, Path(description="the operator's reference for the person")]
FaceId = Annotated[SafeId, Path(max_length=40, description="a face (template) id")]
Plugins = Annotated[
    str | None,
    Query(max_length=200, pattern=r"^[^\x00-\x1f\x7f-\x9f]*$", description="landmarks only"),
]
Ignored = Annotated[
    float | None, Query(ge=0, le=1, description="accepted, not applied (docs/compreface.md)")
]
Limit = Annotated[int, Query(ge=0, le=1000, description="largest faces first; 0: all")]
Status = Annotated[bool, Query(description="add execution_time")]
_ERRORS = documented(401, 403, 404, 409, 413, 415)


def _box(box: FaceBoxOut | None, probability: float | None = None) -> dict[str, Any]:
    if box is None:
        return {}
    return {
        "probability": probability,
        "x_min": box.left,
        "y_min": box.top,
        "x_max": box.right,
        "y_max": box.bottom,
    }


def _versions(model_version: str | None = None) -> dict[str, str]:
    found = {"detector": DETECTOR}
    if model_version:
        found["calculator"] = model_version
    return found


def _timed(started: float, status: bool) -> dict[str, Any]:
    return (
        {"execution_time": {"facegate": round((time.perf_counter() - started) * 1000, 1)}}
        if status
        else {}
    )


# --- subjects -------------------------------------------------------------------------------


@router.post("/recognition/subjects", status_code=201, responses=_ERRORS)
def add_subject(svc: ServiceDep, subject: Annotated[SafeId, Body(embed=True)]) -> dict[str, str]:
    """Admit a person for enrollment: their consent must be in force (recorded through
    facegate's consent desk), else the law's refusal cites the rule."""
    svc.gate.admit_subject(svc.deployment_id, subject)
    return {"subject": subject}


@router.get("/recognition/subjects", responses=_ERRORS)
@router.get("/recognition/subjects/", include_in_schema=False)
def list_subjects(svc: ServiceDep) -> dict[str, list[str]]:
    return {"subjects": svc.gate.list_subjects(svc.deployment_id)}


@router.put("/recognition/subjects/{subject}", responses=_ERRORS)
def rename_subject(subject: SubjectPath, svc: ServiceDep) -> dict[str, bool]:
    """Refused: a person's reference is bound to their signed consent receipt."""
    raise Conflict(
        "facegate does not rename a subject: the reference is bound to the person's consent",
        advice="Withdraw or erase the person and record a new consent under the new name.",
    )


@router.delete("/recognition/subjects/{subject}", responses=_ERRORS)
def delete_subject(subject: SubjectPath, svc: ServiceDep) -> dict[str, str]:
    """Erase the person: templates deleted, their key destroyed, a receipt in the ledger."""
    svc.gate.erase(svc.deployment_id, subject, reason="deleted through the CompreFace API")
    return {"subject": subject}


@router.delete("/recognition/subjects", responses=_ERRORS)
def delete_all_subjects(svc: ServiceDep) -> dict[str, int]:
    """Erase everyone in the deployment (a receipt each)."""
    people = svc.gate.list_subjects(svc.deployment_id)
    for ref in people:
        svc.gate.erase(svc.deployment_id, ref, reason="deleted through the CompreFace API")
    return {"deleted": len(people)}


# --- faces ----------------------------------------------------------------------------------


@router.post("/recognition/faces", status_code=201, responses=_ERRORS)
async def add_face(
    svc: ServiceDep,
    file: Upload,
    subject: Subject,
    det_prob_threshold: Ignored = None,
    challenge_id: Annotated[SafeId | None, Query(max_length=40)] = None,
) -> dict[str, str]:
    """Enroll the one face in the photo for a person whose consent is in force."""
    data = await file.read()
    act = partial(svc.gate.enroll, challenge_id=challenge_id)
    done = await run_in_threadpool(act, svc.deployment_id, subject, data)
    return {"image_id": done.template_id, "subject": subject}


@router.get("/recognition/faces", responses=_ERRORS)
def list_faces(
    svc: ServiceDep,
    page: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    size: Annotated[int, Query(ge=1, le=1000)] = 20,
    subject: Annotated[SafeId | None, Query()] = None,
) -> dict[str, Any]:
    faces = svc.gate.list_faces(svc.deployment_id, subject)
    shown = faces[page * size : (page + 1) * size]
    return {
        "faces": [{"image_id": f.template_id, "subject": f.subject_ref} for f in shown],
        "page_number": page,
        "page_size": size,
        "total_pages": math.ceil(len(faces) / size),
        "total_elements": len(faces),
    }


@router.delete("/recognition/faces", responses=_ERRORS)
def delete_faces(
    svc: ServiceDep, subject: Annotated[SafeId | None, Query()] = None
) -> dict[str, int]:
    """Delete every face of ``subject`` (every face, without it); the people stay."""
    return {"deleted": len(svc.gate.delete_faces(svc.deployment_id, subject_ref=subject))}


@router.delete("/recognition/faces/{image_id}", responses=_ERRORS)
def delete_face(image_id: FaceId, svc: ServiceDep) -> dict[str, str]:
    (face,) = svc.gate.delete_faces(svc.deployment_id, template_id=image_id)
    return {"image_id": face.template_id, "subject": face.subject_ref}


@router.post("/recognition/faces/{image_id}/verify", responses=_ERRORS)
async def verify_face(
    *,
    image_id: FaceId,
    svc: ServiceDep,
    file: Upload,
    limit: Limit = 0,
    det_prob_threshold: Ignored = None,
    face_plugins: Plugins = None,
    status: Status = False,
) -> dict[str, Any]:
    """Verify the photo against the person the face belongs to (all their templates)."""
    started, _ = time.perf_counter(), plugins(face_plugins)
    owner = svc.gate.list_faces(svc.deployment_id, template_id=image_id)
    if not owner:
        raise NotFound(f"no face {image_id!r} in this deployment")
    data = await file.read()
    done = await run_in_threadpool(svc.gate.verify, svc.deployment_id, owner[0].subject_ref, data)
    face = {
        "box": _box(done.box),
        "similarity": done.score,
        "facegate": {
            "decision": done.decision,
            "threshold": done.threshold,
            "event_id": done.event_id,
        },
        **_timed(started, status),
    }
    return {"result": [face], "plugins_versions": _versions(done.model_version)}


# --- recognition, detection, verification services ------------------------------------------


@router.post("/recognition/recognize", responses=_ERRORS)
async def recognize(
    *,
    svc: ServiceDep,
    file: Upload,
    limit: Limit = 0,
    prediction_count: Annotated[int, Query(ge=1, le=1000)] = 1,
    det_prob_threshold: Ignored = None,
    face_plugins: Plugins = None,
    status: Status = False,
) -> dict[str, Any]:
    """Who is the largest face? Only people above the threshold whose consent is in force
    are named, best first (at most 10); a stranger gets no subjects and no score."""
    started, _ = time.perf_counter(), plugins(face_plugins)
    data = await file.read()
    act = partial(svc.gate.identify, top=min(prediction_count, MAX_TOP))
    found = await run_in_threadpool(act, svc.deployment_id, data)
    face = {
        "box": _box(found.box),
        "subjects": [{"subject": c.subject_ref, "similarity": c.score} for c in found.candidates],
        "facegate": {
            "decision": found.decision,
            "threshold": found.threshold,
            "event_id": found.event_id,
            "identification_id": found.identification_id,
        },
        **_timed(started, status),
    }
    return {"result": [face], "plugins_versions": _versions(found.model_version)}


@router.post("/detection/detect", responses=_ERRORS)
async def detect(
    *,
    svc: ServiceDep,
    file: Upload,
    limit: Limit = 0,
    det_prob_threshold: Ignored = None,
    face_plugins: Plugins = None,
    status: Status = False,
) -> dict[str, Any]:
    """Every face (largest first), with landmarks when the plugin is asked for."""
    started, asked = time.perf_counter(), plugins(face_plugins)
    data = await file.read()
    act = partial(svc.gate.detect, landmarks=5 if "landmarks" in asked else 0, limit=limit)
    found = await run_in_threadpool(act, svc.deployment_id, data)
    result = []
    for face in found.faces:
        item: dict[str, Any] = {"box": _box(face.box, face.probability)}
        if "landmarks" in asked:
            item["landmarks"] = face.landmarks
        result.append(item | _timed(started, status))
    return {"result": result, "plugins_versions": _versions()}


@router.post("/verification/verify", responses=_ERRORS)
async def verify_images(
    *,
    svc: ServiceDep,
    source_image: Upload,
    target_image: Upload,
    limit: Limit = 0,
    det_prob_threshold: Ignored = None,
    face_plugins: Plugins = None,
    status: Status = False,
) -> dict[str, Any]:
    """Compare the largest face of each photo; neither is stored."""
    started, _ = time.perf_counter(), plugins(face_plugins)
    source, target = await source_image.read(), await target_image.read()
    done = await run_in_threadpool(svc.gate.compare, svc.deployment_id, source, target)
    match = {
        "box": _box(done.target_box),
        "similarity": done.score,
        "facegate": {
            "decision": done.decision,
            "threshold": done.threshold,
            "event_id": done.event_id,
        },
        **_timed(started, status),
    }
    pair = {"source_image_face": {"box": _box(done.source_box)}, "face_matches": [match]}
    return {"result": [pair], "plugins_versions": _versions(done.model_version)}
