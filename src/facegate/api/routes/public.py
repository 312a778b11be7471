"""What anyone may read without a key: a live deployment's notice, retention schedule (BIPA
15(a) wants it public), alternative, operator contact and DPO."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from facegate.api.deps import GateDep
from facegate.api.errors import documented

router = APIRouter(prefix="/v1/public", tags=["public"])


@router.get("/deployments/{deployment_id}", responses=documented(404))
def public_deployment(
    deployment_id: Annotated[str, Path(max_length=40)], gate: GateDep
) -> dict[str, Any]:
    return gate.public_deployment(deployment_id)
