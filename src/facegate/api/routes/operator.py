"""Operator routes: deployments, notices, consent, enroll / verify / identify, erasure."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from facegate.api.deps import GateDep, OperatorDep
from facegate.api.schemas import ConsentIn, DeploymentIn, SubjectIn

router = APIRouter(prefix="/v1/deployments", tags=["operator"])

Image = Annotated[UploadFile, File(description="a JPEG, PNG, WebP, GIF or PGM photo")]
SubjectRef = Annotated[str, Form(min_length=1, max_length=200)]


@router.post("", status_code=201)
def create_deployment(body: DeploymentIn, gate: GateDep, op: OperatorDep) -> dict[str, Any]:
    kwargs = body.gate_kwargs()
    kwargs["confirmed_by"] = kwargs["confirmed_by"] or f"operator {op.id} (API)"
    return gate.create_deployment(operator_id=op.id, **kwargs).to_dict()  # type: ignore[arg-type]


@router.get("")
def list_deployments(gate: GateDep, op: OperatorDep) -> list[dict[str, Any]]:
    return [d.to_dict() for d in gate.list_deployments(operator_id=op.id)]


@router.get("/{deployment_id}")
def get_deployment(deployment_id: str, gate: GateDep, op: OperatorDep) -> dict[str, Any]:
    return gate.get_deployment(deployment_id, operator_id=op.id).to_dict()


@router.get("/{deployment_id}/notice")
def get_notice(deployment_id: str, gate: GateDep, op: OperatorDep) -> dict[str, Any]:
    return gate.notice(deployment_id, operator_id=op.id).to_dict()


@router.post("/{deployment_id}/consents", status_code=201)
def give_consent(
    deployment_id: str, body: ConsentIn, gate: GateDep, op: OperatorDep
) -> dict[str, Any]:
    return gate.give_consent(deployment_id, operator_id=op.id, **body.model_dump()).to_dict()


@router.post("/{deployment_id}/refusals", status_code=201)
def record_refusal(deployment_id: str, gate: GateDep, op: OperatorDep) -> dict[str, Any]:
    """Someone refused: recorded anonymously; the non-face alternative stays open."""
    event_id = gate.record_refusal(deployment_id, operator_id=op.id)
    alternative = gate.get_deployment(deployment_id, operator_id=op.id).alternative
    return {"event_id": event_id, "alternative": alternative}


@router.post("/{deployment_id}/consents/withdraw")
def withdraw_consent(
    deployment_id: str, body: SubjectIn, gate: GateDep, op: OperatorDep
) -> dict[str, Any]:
    return gate.withdraw_consent(deployment_id, body.subject_ref, operator_id=op.id).to_dict()


@router.post("/{deployment_id}/erase")
def erase(deployment_id: str, body: SubjectIn, gate: GateDep, op: OperatorDep) -> dict[str, Any]:
    return gate.erase(
        deployment_id, body.subject_ref, reason=body.reason, operator_id=op.id
    ).to_dict()


@router.post("/{deployment_id}/enroll", status_code=201)
async def enroll(
    deployment_id: str, subject_ref: SubjectRef, image: Image, gate: GateDep, op: OperatorDep
) -> dict[str, Any]:
    data = await image.read()
    result = await run_in_threadpool(
        gate.enroll, deployment_id, subject_ref, data, operator_id=op.id
    )
    return result.to_dict()


@router.post("/{deployment_id}/verify")
async def verify(
    deployment_id: str, subject_ref: SubjectRef, image: Image, gate: GateDep, op: OperatorDep
) -> dict[str, Any]:
    data = await image.read()
    result = await run_in_threadpool(
        gate.verify, deployment_id, subject_ref, data, operator_id=op.id
    )
    return result.to_dict()


@router.post("/{deployment_id}/identify")
async def identify(
    deployment_id: str, image: Image, gate: GateDep, op: OperatorDep
) -> dict[str, Any]:
    data = await image.read()
    result = await run_in_threadpool(gate.identify, deployment_id, data, operator_id=op.id)
    return result.to_dict()


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reviewer: str = Field(min_length=1, max_length=100, description="the reviewer's staff id")
    confirm: bool


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=10, max_length=5000)
    refuse: bool = False


ops = APIRouter(prefix="/v1", tags=["operator"])


@ops.post("/identifications/{identification_id}/reviews")
def review_identification(
    identification_id: str, body: ReviewIn, gate: GateDep, op: OperatorDep
) -> dict[str, Any]:
    """Confirm or reject a pending remote-identification match (two reviewers name it)."""
    return gate.review_identification(
        identification_id, reviewer=body.reviewer, confirm=body.confirm, operator_id=op.id
    ).to_dict()


@ops.get("/requests")
def open_requests(gate: GateDep, op: OperatorDep) -> list[dict[str, Any]]:
    """People's open requests and complaints, soonest deadline first."""
    return [r.to_dict() for r in gate.open_requests(operator_id=op.id)]


@ops.post("/requests/{request_id}/answer")
def answer_request(
    request_id: str, body: AnswerIn, gate: GateDep, op: OperatorDep
) -> dict[str, Any]:
    return gate.answer_request(
        request_id, reason=body.reason, refuse=body.refuse, operator_id=op.id
    ).to_dict()
