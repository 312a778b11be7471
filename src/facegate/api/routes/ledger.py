"""Ledger routes: the signed checkpoint anyone may fetch, and a full verification."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from facegate.api.deps import GateDep, OperatorDep

router = APIRouter(prefix="/v1/ledger", tags=["ledger"])


@router.get("/checkpoint", response_class=PlainTextResponse)
def checkpoint(gate: GateDep) -> str:
    """The latest signed checkpoint (C2SP signed note). Public: witnesses poll it."""
    return gate.checkpoint()


@router.get("/verify")
def verify(gate: GateDep, _op: OperatorDep) -> dict[str, Any]:
    return gate.verify_ledger().to_dict()
