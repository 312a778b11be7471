"""Public routes for witnesses and auditors: no API key, nothing about any person.

What a witness needs (c2sp.org/tlog-witness style, pulled rather than pushed): the log's key,
its latest signed checkpoint (``GET /v1/ledger/checkpoint``, in ``ledger.py``), any earlier
one, consistency proofs between two sizes, inclusion proofs by index, and a place to hand
its cosignature back. Proofs are hashes only; entries themselves stay behind an API key.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from facegate.api.deps import GateDep
from facegate.api.ledger_schemas import ConsistencyOut, CosignatureOut, InclusionOut
from facegate.api.validation import IndexPath, bad_text, index_query
from facegate.errors import InvalidInput

router = APIRouter(prefix="/v1/ledger", tags=["witness"])

Size = Annotated[
    int | None, index_query(ge=1, description="tree size (default: the latest signed)")
]


@router.get("/key", response_class=PlainTextResponse)
def key(gate: GateDep) -> str:
    """The checkpoint verifier key, ``<origin>+<key id>+<base64>`` (c2sp.org/signed-note).
    Pin it from a second source (a filing, the regulator) rather than trusting this answer."""
    return gate.ledger_key() + "\n"


@router.get("/checkpoint/{size}", response_class=PlainTextResponse)
def checkpoint_at(size: IndexPath, gate: GateDep) -> str:
    """The checkpoint signed at ``size``, with the witness cosignatures received for it."""
    return gate.checkpoint_at(size)


@router.get("/consistency")
def consistency(
    gate: GateDep,
    old: Annotated[int, index_query(description="the smaller size")],
    new: Size = None,
) -> ConsistencyOut:
    """RFC 9162 proof that the tree of size ``new`` extends the tree of size ``old``."""
    proof = gate.consistency_proof(old, new)
    return ConsistencyOut(
        old_size=proof.old_size,
        new_size=proof.new_size,
        hashes=[h.hex() for h in proof.hashes],
    )


@router.get("/inclusion")
def inclusion(
    gate: GateDep, index: Annotated[int, index_query(description="leaf index")], size: Size = None
) -> InclusionOut:
    """RFC 9162 audit path of leaf ``index`` in the tree of ``size`` (hashes leaf end first)."""
    proof = gate.inclusion_proof(index, size)
    return InclusionOut(index=proof.index, size=proof.size, hashes=[h.hex() for h in proof.hashes])


@router.post(
    "/cosignatures",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
)
async def add_cosignature(request: Request, gate: GateDep) -> CosignatureOut:
    """A registered witness hands back a checkpoint it cosigned (the whole note as text/plain).
    Cosignatures from witnesses the operator has not registered are refused (403)."""
    try:
        note = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the cosigned checkpoint is not UTF-8 text") from None
    why = bad_text(note)
    if why is not None:
        raise InvalidInput(f"the cosigned checkpoint is not acceptable text: {why}")
    accepted = await run_in_threadpool(gate.add_cosignature, note)
    return CosignatureOut(
        size=accepted.size,
        witnesses=list(accepted.witnesses),
        timestamps=list(accepted.timestamps),
    )
