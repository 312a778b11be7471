"""What anyone may read without a key: a live deployment's notice, retention schedule (BIPA
15(a) wants it public), alternative, operator contact and DPO."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from facegate.api.deps import GateDep
from facegate.api.errors import documented
from facegate.api.people_schemas import PublicDeploymentOut
from facegate.api.validation import IdPath

router = APIRouter(prefix="/v1/public", tags=["public"])


@router.get(
    "/deployments/{deployment_id}", response_model=PublicDeploymentOut, responses=documented(404)
)
def public_deployment(deployment_id: IdPath, gate: GateDep) -> Any:
    return gate.public_deployment(deployment_id)
