"""Operator routes: deployments, their assessments and notices, consent, enroll / verify /
identify, erasure, reviews and people's requests. Every route acts as the principal whose
API key is the bearer token; the role decides what it may do."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.concurrency import run_in_threadpool

from facegate.api.deps import ActingGate
from facegate.api.errors import documented
from facegate.api.people_schemas import PendingReviewOut, RequestOut
from facegate.api.validation import IdPath, SafeId
from facegate.policy.facts import CONSENT_METHODS, ERASURE_EXEMPTIONS, METHOD_ALIASES
from facegate.results import (
    ConsentReceipt,
    DeploymentInfo,
    EndReceipt,
    EnrollResult,
    ErasureReceipt,
    IdentifyResult,
    NoticeInfo,
    PiaView,
    ReviewResult,
    VerifyResult,
)
from facegate.specs import (
    ConsentTerms,
    Days,
    DeploymentSpec,
    Flag,
    Number,
    PiaAnswers,
    PublicSecurityIn,
    Text,
)

router = APIRouter(prefix="/v1/deployments", tags=["operator"])

Image = Annotated[UploadFile, File(description="a JPEG, PNG, WebP, GIF or PGM photo")]
SubjectRef = Annotated[SafeId, Form(description="the operator's reference for the person")]
ChallengeId = Annotated[
    SafeId | None, Form(description="a passed liveness challenge (docs/liveness.md)")
]
DeploymentId = IdPath
ItemId = IdPath


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DeploymentChangeIn(_In):
    """Only the fields given change; every change makes the deployment a draft again."""

    # an empty change is refused: the document says so (minProperties), the model checks it
    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    @model_validator(mode="after")
    def _something(self) -> DeploymentChangeIn:
        if not self.model_fields_set:
            raise ValueError("name at least one field to change")
        return self

    purpose: Annotated[Text, Field(min_length=1, max_length=2000)] | None = None
    capabilities: list[Annotated[Text, Field(max_length=40)]] | None = None
    capture: Literal["on_request", "in_view"] | None = None
    location: Annotated[Text, Field(max_length=40)] | None = None
    signage: Flag | None = None
    egress: Flag | None = None
    alternative: Annotated[Text, Field(max_length=500)] | None = None
    retention_days: Days | None = None
    threshold: Number | None = None
    public_security: PublicSecurityIn | None = None
    purpose_ends_at: datetime | None = None
    risk_team: Annotated[Text, Field(max_length=200)] | None = None
    accountable: Annotated[Text, Field(max_length=200)] | None = None
    fairness_tested: Flag | None = None
    opt_out: Flag | None = None
    alternative_penalty: Flag | None = None
    law_enforcement: Flag | None = None
    liveness: Flag | None = None
    liveness_challenge: Flag | None = None
    unknown_alerts: Flag | None = None


class SignIn(_In):
    necessity: Annotated[Text, Field(min_length=1, max_length=5000)]
    answers: PiaAnswers | None = None


class EndIn(_In):
    reason: Annotated[Text, Field(min_length=10, max_length=500)]


class ConsentIn(ConsentTerms):
    subject_ref: Annotated[Text, Field(min_length=1, max_length=200)]
    # the methods the flow knows, listed in the document (an unknown one is a 400)
    method: Annotated[
        Text,
        Field(
            max_length=40,
            description=ConsentTerms.model_fields["method"].description,
            json_schema_extra={"enum": sorted(CONSENT_METHODS | set(METHOD_ALIASES))},
        ),
    ]


class SubjectIn(_In):
    subject_ref: Annotated[Text, Field(min_length=1, max_length=200)]
    reason: Annotated[Text, Field(max_length=200)] = ""


class HoldIn(_In):
    subject_ref: Annotated[Text, Field(min_length=1, max_length=200)]
    ground: Annotated[
        Text, Field(max_length=40, json_schema_extra={"enum": sorted(ERASURE_EXEMPTIONS)})
    ]


class RefusalIn(_In):
    method: Annotated[Text, Field(min_length=1, max_length=40)]


class RefusalOut(BaseModel):
    event_id: str
    alternative: str


class EventOut(BaseModel):
    event_id: str


@router.post(
    "", status_code=201, response_model=DeploymentInfo, responses=documented(401, 403, 404)
)
def create_deployment(body: DeploymentSpec, gate: ActingGate) -> Any:
    """Register a draft deployment; refused citing the rule if the law forbids it."""
    return gate.create_deployment(body)


@router.get("", response_model=list[DeploymentInfo], responses=documented(401))
def list_deployments(gate: ActingGate) -> Any:
    return gate.list_deployments()


@router.get("/{deployment_id}", response_model=DeploymentInfo, responses=documented(401, 403, 404))
def get_deployment(deployment_id: DeploymentId, gate: ActingGate) -> Any:
    return gate.get_deployment(deployment_id)


@router.patch(
    "/{deployment_id}", response_model=DeploymentInfo, responses=documented(401, 403, 404, 409)
)
def change_deployment(
    deployment_id: DeploymentId, body: DeploymentChangeIn, gate: ActingGate
) -> Any:
    """Change a deployment: it becomes a draft until the DPO signs again."""
    return gate.change_deployment(deployment_id, **body.model_dump(exclude_unset=True))


@router.post(
    "/{deployment_id}/end", response_model=EndReceipt, responses=documented(401, 403, 404, 409)
)
def end_deployment(deployment_id: DeploymentId, body: EndIn, gate: ActingGate) -> Any:
    """The purpose is met: everyone is erased, with a receipt each."""
    return gate.end_deployment(deployment_id, reason=body.reason)


@router.get("/{deployment_id}/pia", response_model=PiaView, responses=documented(401, 403, 404))
def show_pia(deployment_id: DeploymentId, gate: ActingGate) -> Any:
    return gate.pia(deployment_id)


@router.post(
    "/{deployment_id}/pia/sign",
    response_model=DeploymentInfo,
    responses=documented(401, 403, 404, 409),
)
def sign_pia(deployment_id: DeploymentId, body: SignIn, gate: ActingGate) -> Any:
    """The DPO (role dpo) signs the impact assessment; the deployment goes live."""
    return gate.sign_pia(deployment_id, necessity=body.necessity, answers=body.answers)


@router.get(
    "/{deployment_id}/notice", response_model=NoticeInfo, responses=documented(401, 403, 404)
)
def get_notice(
    deployment_id: DeploymentId, gate: ActingGate, language: Literal["en", "zh-CN"] = "en"
) -> Any:
    return gate.notice(deployment_id, language=language)


@router.post(
    "/{deployment_id}/consents",
    status_code=201,
    response_model=ConsentReceipt,
    responses=documented(401, 403, 404, 409),
)
def give_consent(deployment_id: DeploymentId, body: ConsentIn, gate: ActingGate) -> Any:
    terms = ConsentTerms(**body.model_dump(exclude={"subject_ref"}))
    return gate.give_consent(deployment_id, body.subject_ref, terms)


@router.post(
    "/{deployment_id}/refusals",
    status_code=201,
    response_model=RefusalOut,
    responses=documented(401, 403, 404),
)
def record_refusal(deployment_id: DeploymentId, body: RefusalIn, gate: ActingGate) -> Any:
    """Someone refused: recorded anonymously; the non-face alternative stays open."""
    event_id = gate.record_refusal(deployment_id, method=body.method)
    return RefusalOut(event_id=event_id, alternative=gate.get_deployment(deployment_id).alternative)


@router.post(
    "/{deployment_id}/consents/withdraw",
    response_model=ErasureReceipt,
    responses=documented(401, 403, 404, 409),
)
def withdraw_consent(deployment_id: DeploymentId, body: SubjectIn, gate: ActingGate) -> Any:
    return gate.withdraw_consent(deployment_id, body.subject_ref)


@router.post(
    "/{deployment_id}/erase",
    response_model=ErasureReceipt,
    responses=documented(401, 403, 404, 409),
)
def erase(deployment_id: DeploymentId, body: SubjectIn, gate: ActingGate) -> Any:
    return gate.erase(deployment_id, body.subject_ref, reason=body.reason)


@router.post(
    "/{deployment_id}/purpose-ended",
    response_model=ErasureReceipt,
    responses=documented(401, 403, 404, 409),
)
def purpose_ended(deployment_id: DeploymentId, body: SubjectIn, gate: ActingGate) -> Any:
    """This person's purpose ended (they left): their face data is erased now."""
    return gate.end_purpose(deployment_id, body.subject_ref)


@router.post(
    "/{deployment_id}/holds", response_model=EventOut, responses=documented(401, 403, 404, 409)
)
def hold(deployment_id: DeploymentId, body: HoldIn, gate: ActingGate) -> Any:
    """Keep a person's data past an erasure request on a legal ground (decided by the packs)."""
    return EventOut(event_id=gate.hold(deployment_id, body.subject_ref, ground=body.ground))


@router.post(
    "/{deployment_id}/enroll",
    status_code=201,
    response_model=EnrollResult,
    responses=documented(401, 403, 404, 409, 413, 415),
)
async def enroll(
    deployment_id: DeploymentId,
    subject_ref: SubjectRef,
    image: Image,
    gate: ActingGate,
    challenge_id: ChallengeId = None,
) -> Any:
    """Enroll the one face in the photo (after the liveness checks the deployment asks for
    and the quality gate: a refusal says why, and nothing is stored)."""
    data = await image.read()
    return await run_in_threadpool(
        partial(gate.enroll, challenge_id=challenge_id), deployment_id, subject_ref, data
    )


@router.post(
    "/{deployment_id}/verify",
    response_model=VerifyResult,
    responses=documented(401, 403, 404, 413, 415),
)
async def verify(
    deployment_id: DeploymentId,
    subject_ref: SubjectRef,
    image: Image,
    gate: ActingGate,
    challenge_id: ChallengeId = None,
) -> Any:
    data = await image.read()
    return await run_in_threadpool(
        partial(gate.verify, challenge_id=challenge_id), deployment_id, subject_ref, data
    )


@router.post(
    "/{deployment_id}/identify",
    response_model=IdentifyResult,
    responses=documented(401, 403, 404, 413, 415),
)
async def identify(
    deployment_id: DeploymentId,
    image: Image,
    gate: ActingGate,
    top: Annotated[int, Query(ge=1, le=10, description="candidates to name (top-N)")] = 1,
) -> Any:
    """1:N; a refusal is a 403 citing the rule (never "unknown"), and carries no score. With
    ``top`` > 1, the next candidates above the threshold whose consent is in force."""
    data = await image.read()
    return await run_in_threadpool(partial(gate.identify, top=top), deployment_id, data)


class ReviewIn(_In):
    confirm: bool


class AnswerIn(_In):
    reason: Annotated[Text, Field(min_length=1, max_length=5000)]
    refuse: bool = False
    exemption: Annotated[Text, Field(max_length=40)] = ""


ops = APIRouter(prefix="/v1", tags=["operator"])


@ops.get("/identifications", response_model=list[PendingReviewOut], responses=documented(401, 403))
def pending_reviews(gate: ActingGate) -> Any:
    """Remote-identification matches awaiting two reviewers (nobody is named)."""
    return gate.pending_reviews()


@ops.post(
    "/identifications/{identification_id}/reviews",
    response_model=ReviewResult,
    responses=documented(401, 403, 404, 409),
)
def review_identification(identification_id: ItemId, body: ReviewIn, gate: ActingGate) -> Any:
    """The acting reviewer confirms or rejects a pending match (two reviewers name it)."""
    return gate.review_identification(identification_id, confirm=body.confirm)


@ops.get("/requests", response_model=list[RequestOut], responses=documented(401, 403))
def open_requests(gate: ActingGate) -> Any:
    """People's open requests and complaints, soonest deadline first."""
    return gate.open_requests()


@ops.post(
    "/requests/{request_id}/answer",
    response_model=RequestOut,
    responses=documented(401, 403, 404, 409),
)
def answer_request(request_id: ItemId, body: AnswerIn, gate: ActingGate) -> Any:
    return gate.answer_request(
        request_id, reason=body.reason, refuse=body.refuse, exemption=body.exemption
    ).to_dict()
