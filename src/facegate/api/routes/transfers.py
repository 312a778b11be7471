"""Transfer routes: recipients and their agreements, a person's consent to one recipient,
share and export, trace a leaked file, alerts (issue 14; ``docs/transfers.md``). Every route
acts as the principal whose API key is the bearer token."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, File, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from facegate.api.deps import ActingGate
from facegate.api.errors import documented
from facegate.api.validation import IdPath
from facegate.errors import InvalidInput
from facegate.specs import Text
from facegate.transfers.alerts import AlertInfo
from facegate.transfers.fileformat import MAX_TRACE_BYTES
from facegate.transfers.results import RecipientInfo, TraceReport, TransferConsentReceipt
from facegate.transfers.specs import RecipientAgreement, TransferConsentTerms, TransferRequest

router = APIRouter(prefix="/v1", tags=["transfers"])

DeploymentId = IdPath
ItemId = IdPath


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReasonIn(_In):
    reason: Annotated[Text, Field(min_length=10, max_length=500)]


class TransferConsentIn(TransferConsentTerms):
    subject_ref: Annotated[Text, Field(min_length=1, max_length=200)]


class TransferOut(BaseModel):
    """The transfer, the export file to hand over, and its key (shown once, to send apart)."""

    export_id: str
    act: str
    deployment_id: str
    recipient_id: str
    people: int
    rows: int
    cross_border: bool
    people_abroad_this_year: int
    scheme: str
    key_id: str
    file_sha256: str
    rule_ids: list[str]
    event_id: str
    file: dict[str, Any] = Field(description="the export file (facegate-export/1)")
    key_file: dict[str, Any] = Field(description="its key (facegate-export-key/1): send apart")


_RECIPIENTS = "/deployments/{deployment_id}/recipients"


@router.post(
    _RECIPIENTS,
    status_code=201,
    response_model=RecipientInfo,
    responses=documented(401, 403, 404),
)
def add_recipient(deployment_id: DeploymentId, body: RecipientAgreement, gate: ActingGate) -> Any:
    """Record a recipient and its agreement: every term is required (CN-SPC-7)."""
    return gate.add_recipient(deployment_id, body)


@router.get(_RECIPIENTS, response_model=list[RecipientInfo], responses=documented(401, 403, 404))
def list_recipients(deployment_id: DeploymentId, gate: ActingGate) -> Any:
    return gate.list_recipients(deployment_id)


@router.post(
    _RECIPIENTS + "/{recipient_id}/revoke",
    response_model=RecipientInfo,
    responses=documented(401, 403, 404, 409),
)
def revoke_recipient(
    deployment_id: DeploymentId, recipient_id: ItemId, body: ReasonIn, gate: ActingGate
) -> Any:
    """End the agreement: nothing more goes to it; its export keys are revoked."""
    return gate.revoke_recipient(recipient_id, reason=body.reason, deployment_id=deployment_id)


@router.post(
    "/deployments/{deployment_id}/transfer-consents",
    status_code=201,
    response_model=TransferConsentReceipt,
    responses=documented(401, 403, 404, 409),
)
def give_transfer_consent(
    deployment_id: DeploymentId, body: TransferConsentIn, gate: ActingGate
) -> Any:
    """A person's separate consent to their face data going to one recipient."""
    terms = TransferConsentTerms(**body.model_dump(exclude={"subject_ref"}))
    return gate.give_transfer_consent(deployment_id, body.subject_ref, terms)


def _out(result: Any) -> dict[str, Any]:
    return {
        **result.summary(),
        "file": json.loads(result.file),
        "key_file": json.loads(result.key_file),
    }


@router.post(
    "/deployments/{deployment_id}/shares",
    status_code=201,
    response_model=TransferOut,
    responses=documented(401, 403, 404, 409),
)
def share(deployment_id: DeploymentId, body: TransferRequest, gate: ActingGate) -> Any:
    """Disclose people's face data to a recipient, each decided by the packs."""
    return _out(
        gate.share(deployment_id, body.recipient_id, subjects=body.subjects, everyone=body.everyone)
    )


@router.post(
    "/deployments/{deployment_id}/exports",
    status_code=201,
    response_model=TransferOut,
    responses=documented(401, 403, 404, 409),
)
def export(deployment_id: DeploymentId, body: TransferRequest, gate: ActingGate) -> Any:
    """Move people's face data off the device or abroad, each decided by the packs."""
    return _out(
        gate.export(
            deployment_id, body.recipient_id, subjects=body.subjects, everyone=body.everyone
        )
    )


@router.post("/traces", response_model=TraceReport, responses=documented(401, 403))
async def trace(
    file: Annotated[UploadFile, File(description="a leaked file: any part, any encoding")],
    gate: ActingGate,
) -> Any:
    """Which export a leaked file came from, how sure, and the ledger events to show."""
    data = await file.read(MAX_TRACE_BYTES + 1)
    if len(data) > MAX_TRACE_BYTES:
        raise InvalidInput("the file is too large to trace; a handful of templates is enough")
    return await run_in_threadpool(gate.trace, data)


@router.get("/alerts", response_model=list[AlertInfo], responses=documented(401, 403))
def list_alerts(gate: ActingGate, open_only: bool = False) -> Any:
    return gate.list_alerts(open_only=open_only)


@router.post(
    "/alerts/{alert_id}/clear",
    response_model=AlertInfo,
    responses=documented(401, 403, 404, 409),
)
def clear_alert(alert_id: ItemId, body: ReasonIn, gate: ActingGate) -> Any:
    """Lift an alert's block early (admin or DPO), with reasons."""
    return gate.clear_alert(alert_id, reason=body.reason)
