"""Recognition routes beyond enroll / verify / identify (issue 17): detect every face, compare
two photos, active liveness challenges for a camera page, flag a wrong match, the threshold
report and unknown-face alerts. Every route acts as the principal whose API key is the
bearer token; a key scoped to a deployment works on that deployment's routes only."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from facegate.api.deps import ActingGate
from facegate.api.errors import documented
from facegate.api.validation import IdPath, SafeId
from facegate.flows.challenges import MAX_FRAMES, MIN_FRAMES
from facegate.results import (
    ChallengeAnswer,
    ChallengeIssued,
    CompareResult,
    DetectResult,
    FlagResult,
    ThresholdReport,
    UnknownFaceAlert,
)
from facegate.specs import Text

router = APIRouter(prefix="/v1/deployments", tags=["recognition"])

Photo = Annotated[UploadFile, File(description="a JPEG, PNG, WebP, GIF or PGM photo")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChallengeIn(_In):
    subject_ref: SafeId
    act: Literal["enroll", "verify"]
    challenge: Literal["blink", "turn_left", "turn_right"] | None = Field(
        None, description="leave out to have one drawn at random (better: harder to prepare)"
    )


class FlagIn(_In):
    verdict: Literal["false_accept", "false_reject"]
    note: Annotated[Text, Field(max_length=2000)] = ""


@router.post(
    "/{deployment_id}/detect",
    response_model=DetectResult,
    responses=documented(401, 403, 404, 413, 415),
)
async def detect(
    deployment_id: IdPath,
    image: Photo,
    gate: ActingGate,
    landmarks: Annotated[Literal["0", "5", "68"], Query(description="points per face")] = "5",
    limit: Annotated[int, Query(ge=0, le=1000, description="0: every face")] = 0,
) -> Any:
    """Every face in the photo: box, detection score, landmarks. Asked of the law as a
    search (a deployment that declared one); nothing is stored; the act is ledgered."""
    data = await image.read()
    act = partial(gate.detect, landmarks=int(landmarks), limit=limit)
    return await run_in_threadpool(act, deployment_id, data)


@router.post(
    "/{deployment_id}/compare",
    response_model=CompareResult,
    responses=documented(401, 403, 404, 413, 415),
)
async def compare(deployment_id: IdPath, source: Photo, target: Photo, gate: ActingGate) -> Any:
    """Is the largest face of ``source`` the person in ``target``? Neither photo is stored;
    the act is decided and ledgered with both photos' SHA-256."""
    first, second = await source.read(), await target.read()
    return await run_in_threadpool(gate.compare, deployment_id, first, second)


@router.post(
    "/{deployment_id}/liveness/challenges",
    status_code=201,
    response_model=ChallengeIssued,
    responses=documented(401, 403, 404),
)
def issue_challenge(deployment_id: IdPath, body: ChallengeIn, gate: ActingGate) -> Any:
    """A liveness challenge for a camera page, for one person's next enroll or verify."""
    return gate.liveness_challenge(
        deployment_id, body.subject_ref, act=body.act, challenge=body.challenge
    )


@router.post(
    "/{deployment_id}/liveness/challenges/{challenge_id}/frames",
    response_model=ChallengeAnswer,
    responses=documented(401, 403, 404, 413, 415),
)
async def answer_challenge(
    deployment_id: IdPath,
    challenge_id: IdPath,
    frames: Annotated[
        list[UploadFile],
        File(
            min_length=MIN_FRAMES,
            max_length=MAX_FRAMES,
            description=f"{MIN_FRAMES} to {MAX_FRAMES} camera frames (JPEG), in time order",
        ),
    ],
    gate: ActingGate,
    mirrored: Annotated[bool, Form(description="the frames are a mirrored preview")] = False,
) -> Any:
    """Judge the frames for the challenge (one answer per challenge, pass or fail)."""
    data = [await f.read() for f in frames]
    act = partial(gate.answer_challenge, mirrored=mirrored)
    return await run_in_threadpool(act, deployment_id, challenge_id, data)


@router.post(
    "/{deployment_id}/events/{event_id}/flag",
    status_code=201,
    response_model=FlagResult,
    responses=documented(401, 403, 404, 409),
)
def flag(deployment_id: IdPath, event_id: IdPath, body: FlagIn, gate: ActingGate) -> Any:
    """Flag the decision of a verify, identify or compare event as wrong (once)."""
    return gate.flag_match(event_id, body.verdict, note=body.note, deployment_id=deployment_id)


@router.get(
    "/{deployment_id}/threshold-report",
    response_model=ThresholdReport,
    responses=documented(401, 403, 404),
)
def threshold_report(deployment_id: IdPath, gate: ActingGate) -> Any:
    """Decisions and flagged mistakes per threshold in use when they were taken."""
    return gate.threshold_report(deployment_id)


@router.get(
    "/{deployment_id}/alerts",
    response_model=list[UnknownFaceAlert],
    responses=documented(401, 403, 404),
)
def alerts(deployment_id: IdPath, gate: ActingGate, since: datetime | None = None) -> Any:
    """Unknown-face alerts (a deployment with ``unknown_alerts``), oldest first."""
    return gate.alerts(deployment_id, since=since)
