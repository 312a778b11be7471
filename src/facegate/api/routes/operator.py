"""Operator routes: deployments, notices, consent, enroll / verify / identify, erasure."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from starlette.concurrency import run_in_threadpool

from facegate.api.deps import GateDep, OperatorDep
from facegate.api.schemas import ConsentIn, DeploymentIn, SubjectIn

router = APIRouter(prefix="/v1/deployments", tags=["operator"])

Image = Annotated[UploadFile, File(description="a JPEG, PNG, WebP, GIF or PGM photo")]
SubjectRef = Annotated[str, Form(min_length=1, max_length=200)]


@router.post("", status_code=201)
def create_deployment(body: DeploymentIn, gate: GateDep, op: OperatorDep) -> dict[str, Any]:
    return gate.create_deployment(operator_id=op.id, **body.model_dump()).to_dict()


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
    return gate.give_consent(
        deployment_id,
        body.subject_ref,
        notice_version=body.notice_version,
        method=body.method,
        expires_at=body.expires_at,
        operator_id=op.id,
    ).to_dict()


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
