"""Ledger routes: the signed checkpoint anyone may fetch; entries, verification and evidence
bundles for the operator (API key)."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from facegate.api.deps import GateDep, OperatorDep

router = APIRouter(prefix="/v1/ledger", tags=["ledger"])


@router.get("/checkpoint", response_class=PlainTextResponse)
def checkpoint(gate: GateDep) -> str:
    """The latest signed checkpoint (C2SP signed note). Public: witnesses poll it."""
    return gate.checkpoint()


@router.get("/verify")
def verify(gate: GateDep, _op: OperatorDep) -> dict[str, Any]:
    return gate.verify_ledger().to_dict()


@router.get("/entries/{index}")
def entry(index: int, gate: GateDep, _op: OperatorDep) -> dict[str, Any]:
    """Entry ``index``: the exact leaf bytes (base64) and their RFC 9162 leaf hash."""
    e = gate.ledger_entry(index)
    return {
        "index": e.index,
        "event_id": e.event_id,
        "kind": e.kind,
        "leaf": base64.b64encode(e.data).decode(),
        "leaf_hash": e.leaf_hash.hex(),
    }


@router.get("/evidence")
async def evidence(
    gate: GateDep,
    op: OperatorDep,
    deployment: Annotated[str | None, Query(description="a deployment id")] = None,
    pseudonym: Annotated[str | None, Query(description="a person's ledger pseudonym")] = None,
) -> dict[str, Any]:
    """An evidence bundle for one of this operator's deployments or one person in them;
    check it offline with ``facegate evidence verify``."""
    return await run_in_threadpool(
        gate.export_evidence, deployment_id=deployment, pseudonym=pseudonym, operator_id=op.id
    )
