"""Ledger routes: the signed checkpoint anyone may fetch; for an operator (API key), its own
entries, whether the ledger verifies, and evidence bundles of its own deployments and people.

Scoped so that an operator's key reaches nothing of another operator's, and no error names it:
an entry of someone else's is answered exactly as an entry that does not exist."""

from __future__ import annotations

import base64
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from facegate.api.deps import ActingGate, GateDep, OperatorDep
from facegate.api.ledger_schemas import EntryOut
from facegate.api.validation import IndexPath, SafeId
from facegate.ledger.scoping import own_entry, public_problem

router = APIRouter(prefix="/v1/ledger", tags=["ledger"])


@router.get("/checkpoint", response_class=PlainTextResponse)
def checkpoint(gate: GateDep) -> str:
    """The latest signed checkpoint (C2SP signed note). Public: witnesses poll it."""
    return gate.checkpoint()


@router.get("/verify")
def verify(gate: GateDep, _op: OperatorDep) -> dict[str, Any]:
    """Whether the whole ledger verifies. The values a failure found (which may name other
    operators' objects) stay on the server: 'facegate ledger verify' shows them."""
    report = gate.verify_ledger().to_dict()
    if not report["ok"]:
        report["problem"] = public_problem(report)
    return report


@router.get("/entries/{index}")
def entry(index: IndexPath, gate: GateDep, op: OperatorDep) -> EntryOut:
    """Entry ``index`` if it is one of this operator's events: the exact leaf bytes (base64)
    and their RFC 9162 leaf hash. Any other index is a 404 that names nothing."""
    e = own_entry(gate, index, op.id)
    return EntryOut(
        index=e.index,
        event_id=e.event_id,
        kind=e.kind,
        leaf=base64.b64encode(e.data).decode(),
        leaf_hash=e.leaf_hash.hex(),
    )


@router.get("/evidence")
async def evidence(
    gate: ActingGate,
    deployment: Annotated[SafeId | None, Query(description="a deployment id")] = None,
    pseudonym: Annotated[SafeId | None, Query(description="a person's ledger pseudonym")] = None,
) -> dict[str, Any]:
    """An evidence bundle for one of this operator's deployments or one person in them (the
    Gate acting as the key's principal scopes it); check it offline with ``facegate evidence
    verify``."""
    return await run_in_threadpool(
        partial(gate.export_evidence, deployment_id=deployment, pseudonym=pseudonym)
    )
