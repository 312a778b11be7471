"""Threshold encrypted verification (issue 16): the capture device fetches the deployment's
joint public key, encrypts the embedding it computed, and sends only the ciphertext. The
server never sees a face, an embedding or a score; the answer is one bit."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from facegate.api.deps import ActingGate
from facegate.api.errors import documented
from facegate.api.validation import IdPath, SafeId
from facegate.encrypted.setup import MODE
from facegate.results import EncryptedEnrollResult, EncryptedIdentifyResult, EncryptedVerifyResult

router = APIRouter(prefix="/v1/deployments", tags=["encrypted"])

Ciphertext = Annotated[
    UploadFile, File(description="the capture device's ciphertext (ThresholdDevice.encrypt)")
]
SubjectRef = Annotated[SafeId, Form(description="the operator's reference for the person")]


class PublicKeyOut(BaseModel):
    scheme: str = Field(description="the encrypted mode")
    ceremony: str = Field(description="SHA-256 of the joint public key, hex")
    context: str = Field(description="OpenFHE's serialised context, base64")
    public_key: str = Field(description="the joint public key, base64 (about 1 MB)")


@router.get(
    "/{deployment_id}/encrypted/public-key",
    response_model=PublicKeyOut,
    responses=documented(401, 403, 404),
)
async def public_key(deployment_id: IdPath, gate: ActingGate) -> Any:
    """What a capture device encrypts under; anyone may hold it."""
    ceremony, context, key = await run_in_threadpool(gate.encrypted_public_key, deployment_id)
    return PublicKeyOut(
        scheme=MODE,
        ceremony=ceremony,
        context=base64.b64encode(context).decode(),
        public_key=base64.b64encode(key).decode(),
    )


@router.post(
    "/{deployment_id}/encrypted/enroll",
    status_code=201,
    response_model=EncryptedEnrollResult,
    responses=documented(401, 403, 404, 409, 413, 422),
)
async def enroll(
    deployment_id: IdPath, subject_ref: SubjectRef, ciphertext: Ciphertext, gate: ActingGate
) -> Any:
    """Store an encrypted template, once the law allows it (asked before it is read)."""
    data = await ciphertext.read()
    return await run_in_threadpool(gate.enroll_encrypted, deployment_id, subject_ref, data)


@router.post(
    "/{deployment_id}/encrypted/verify",
    response_model=EncryptedVerifyResult,
    responses=documented(401, 403, 404, 409, 413, 422, 503),
)
async def verify(
    deployment_id: IdPath, subject_ref: SubjectRef, ciphertext: Ciphertext, gate: ActingGate
) -> Any:
    """1:1 under encryption: match or no match, decided by the decision holder's one bit."""
    data = await ciphertext.read()
    return await run_in_threadpool(gate.verify_encrypted, deployment_id, subject_ref, data)


@router.post(
    "/{deployment_id}/encrypted/identify",
    response_model=EncryptedIdentifyResult,
    responses=documented(401, 403, 404, 409, 413, 422, 503),
)
async def identify(deployment_id: IdPath, ciphertext: Ciphertext, gate: ActingGate) -> Any:
    """1:N under encryption: match (one person within the threshold, named once the law
    allows), ambiguous (several, none named), unknown or pending review; never a score."""
    data = await ciphertext.read()
    return await run_in_threadpool(gate.identify_encrypted, deployment_id, data)
