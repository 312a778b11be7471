"""The operator's own identity, its principals and their API keys, the self-check, and the
records the law makes it keep (each deletion decided by the packs)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from facegate.actors import Role
from facegate.api.deps import ActingGate
from facegate.api.errors import documented
from facegate.api.validation import IdPath
from facegate.results import (
    ApiKeyInfo,
    IssuedApiKey,
    NewPrincipal,
    OperatorInfo,
    PrincipalInfo,
    SelfCheckReport,
)
from facegate.specs import OperatorProfile, Text

router = APIRouter(prefix="/v1", tags=["principals"])
ItemId = IdPath


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PrincipalIn(_In):
    name: Annotated[Text, Field(min_length=1, max_length=200)]
    role: Role


class KeyIn(_In):
    principal_id: Annotated[Text, Field(max_length=40)] | None = None
    label: Annotated[Text, Field(max_length=200)] = ""
    expires_days: int | None = Field(None, ge=1, le=3650)
    deployment_id: Annotated[Text, Field(max_length=40)] | None = None


class PurgeIn(_In):
    before: datetime


class DeletedOut(BaseModel):
    deleted: int | None = None
    event_id: str


@router.get("/operator", response_model=OperatorInfo, responses=documented(401))
def get_operator(gate: ActingGate) -> Any:
    return gate.operator()


@router.put("/operator", response_model=OperatorInfo, responses=documented(401, 403, 404))
def set_operator(body: OperatorProfile, gate: ActingGate) -> Any:
    """Name, contact, DPO, e-mail, address, web site: what notices and receipts say."""
    return gate.set_operator(**body.model_dump(exclude_unset=True))


@router.get("/principals", response_model=list[PrincipalInfo], responses=documented(401, 403))
def list_principals(gate: ActingGate) -> Any:
    return gate.list_principals()


@router.post(
    "/principals",
    status_code=201,
    response_model=NewPrincipal,
    responses=documented(401, 403, 404, 409),
)
def create_principal(body: PrincipalIn, gate: ActingGate) -> Any:
    """A principal with one role, and its first key (shown once)."""
    return gate.create_principal(body.name, body.role)


@router.post(
    "/principals/{principal_id}/revoke",
    response_model=PrincipalInfo,
    responses=documented(401, 403, 404, 409),
)
def revoke_principal(principal_id: ItemId, gate: ActingGate) -> Any:
    return gate.revoke_principal(principal_id)


@router.get("/apikeys", response_model=list[ApiKeyInfo], responses=documented(401))
def list_keys(gate: ActingGate) -> Any:
    return gate.list_api_keys()


@router.post(
    "/apikeys", status_code=201, response_model=IssuedApiKey, responses=documented(401, 403, 404)
)
def issue_key(body: KeyIn, gate: ActingGate) -> Any:
    """A new key (shown once); scoped to one deployment when ``deployment_id`` is given."""
    return gate.issue_api_key(**body.model_dump())


@router.post(
    "/apikeys/{key_id}/revoke", response_model=ApiKeyInfo, responses=documented(401, 403, 404)
)
def revoke_key(key_id: ItemId, gate: ActingGate) -> Any:
    return gate.revoke_api_key(key_id)


@router.post("/selfcheck", response_model=SelfCheckReport, responses=documented(401, 403))
def self_check(gate: ActingGate) -> Any:
    """Measure every security control now (CN-FR-14); ledgered."""
    return gate.self_check(watching_intrusions=True)


@router.post(
    "/deployments/{deployment_id}/pia/{version}/delete",
    response_model=DeletedOut,
    responses=documented(401, 403, 404, 409),
)
def delete_pia(
    deployment_id: ItemId, version: Annotated[int, Path(ge=1, le=10**6)], gate: ActingGate
) -> Any:
    """Delete an old impact assessment once kept long enough (CN-FR-9: 3 years)."""
    return DeletedOut(event_id=gate.delete_pia(deployment_id, version))


@router.post(
    "/deployments/{deployment_id}/identification-logs/purge",
    response_model=DeletedOut,
    responses=documented(401, 403, 404),
)
def purge_logs(deployment_id: ItemId, body: PurgeIn, gate: ActingGate) -> Any:
    """Delete remote-identification logs older than a date, once kept six months (EU-AI-19)."""
    n = gate.purge_identification_logs(deployment_id, before=body.before)
    return DeletedOut(deleted=n, event_id="")
