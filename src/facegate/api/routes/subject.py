"""Routes for the people whose faces are processed. They hold no password: the access code
printed on their consent receipt, sent in the ``X-Access-Code`` header (never in the URL,
which servers log). Rate limited per client address."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, ConfigDict, Field

from facegate.api.deps import GateDep
from facegate.api.ratelimit import SubjectLimiter
from facegate.api.validation import SafeId
from facegate.config import ApiSettings

router = APIRouter(prefix="/v1/subject", tags=["subject"])


def limiter(api: ApiSettings | None = None) -> SubjectLimiter:
    """One per app: per client address and per access code (ratelimit.py says why)."""
    api = api if api is not None else ApiSettings()
    return SubjectLimiter(
        per_address=(api.subject_rate_per_address, 60), per_code=(api.subject_rate_per_code, 60)
    )


def _code(request: Request, x_access_code: Annotated[SafeId, Header()]) -> str:
    # request.client is the TCP peer, or the forwarded client when the peer is a trusted proxy
    address = request.client.host if request.client else "unknown"
    request.app.state.subject_limiter.hit(address, x_access_code)
    return x_access_code


Code = Annotated[str, Depends(_code)]


class ComplaintIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=10, max_length=5000)


@router.get("/me")
def what_is_held(gate: GateDep, code: Code) -> dict[str, Any]:
    """What is held about me, where, until when, and under which consent."""
    return dict(gate.subject_view(code))


@router.post("/me/withdraw")
def withdraw(gate: GateDep, code: Code) -> dict[str, Any]:
    """Withdraw consent: everything held is erased and the key destroyed."""
    request, receipt = gate.subject_withdraw(code)
    return {"request": request.to_dict(), "erasure": receipt.to_dict()}


@router.post("/me/erase")
def erase(gate: GateDep, code: Code) -> dict[str, Any]:
    request, receipt = gate.subject_erase(code)
    return {"request": request.to_dict(), "erasure": receipt.to_dict()}


@router.post("/me/complaints", status_code=201)
def complain(body: ComplaintIn, gate: GateDep, code: Code) -> dict[str, Any]:
    """Lodge a complaint; the answer is due by ``due_at``."""
    return gate.subject_complaint(code, body.text).to_dict()


@router.post("/me/corrections", status_code=201)
def correct(body: ComplaintIn, gate: GateDep, code: Code) -> dict[str, Any]:
    """Ask for a correction (a wrong match, a wrong record); answered by ``due_at``."""
    return gate.subject_correction(code, body.text).to_dict()


@router.get("/me/evidence")
def my_evidence(gate: GateDep, code: Code) -> dict[str, Any]:
    """My evidence bundle: every event about me with its inclusion proof, the signed
    checkpoint, notices and receipts; verify it offline with `facegate evidence verify`."""
    return gate.export_evidence(access_code=code)
