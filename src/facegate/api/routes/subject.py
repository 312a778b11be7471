"""Routes for the people whose faces are processed. They hold no password: the access code
printed on their consent receipt, sent in the ``X-Access-Code`` header (never in the URL,
which servers log). Rate limited per client address."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, ConfigDict, StringConstraints

from facegate.api.deps import GateDep
from facegate.api.people_schemas import HeldOut, RequestOut, SubjectActOut
from facegate.api.ratelimit import SubjectLimiter
from facegate.api.validation import SafeId
from facegate.config import ApiSettings
from facegate.errors import NotFound, Unauthenticated

router = APIRouter(prefix="/v1/subject", tags=["subject"])


def limiter(api: ApiSettings | None = None) -> SubjectLimiter:
    """One per app: per client address and per access code (ratelimit.py says why)."""
    api = api if api is not None else ApiSettings()
    return SubjectLimiter(
        per_address=(api.subject_rate_per_address, 60), per_code=(api.subject_rate_per_code, 60)
    )


def _code(request: Request, x_access_code: Annotated[SafeId | None, Header()] = None) -> str:
    # no code is a 401 like a wrong one (the code is these routes' only credential)
    if x_access_code is None:
        raise Unauthenticated(
            "no access code was sent",
            advice="Send the code on your consent receipt as X-Access-Code.",
        )
    # request.client is the TCP peer, or the forwarded client when the peer is a trusted proxy
    address = request.client.host if request.client else "unknown"
    request.app.state.subject_limiter.hit(address, x_access_code)
    return x_access_code


Code = Annotated[str, Depends(_code)]


#: 10 to 5000 characters once the ends are stripped, no control character but tab and line
#: breaks: the pattern states in the OpenAPI document what the flow checks after stripping
_ASKED = (
    r"^[\t\n\r ]*[^\s\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]"
    r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]{8,}"
    r"[^\s\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069][\t\n\r ]*$"
)


class ComplaintIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # stripped before the length check, as the flow does (a padded 9 is a 422 here, not a
    # 400 from the flow after the model accepted it)
    text: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=10, max_length=5000, pattern=_ASKED),
    ]


@router.get("/me", response_model=HeldOut)
def what_is_held(gate: GateDep, code: Code) -> Any:
    """What is held about me, where, until when, and under which consent."""
    return dict(gate.subject_view(code))


@router.post("/me/withdraw", response_model=SubjectActOut)
def withdraw(gate: GateDep, code: Code) -> Any:
    """Withdraw consent: everything held is erased and the key destroyed."""
    request, receipt = gate.subject_withdraw(code)
    return {"request": request.to_dict(), "erasure": receipt.to_dict()}


@router.post("/me/erase", response_model=SubjectActOut)
def erase(gate: GateDep, code: Code) -> Any:
    request, receipt = gate.subject_erase(code)
    return {"request": request.to_dict(), "erasure": receipt.to_dict()}


@router.post("/me/complaints", status_code=201, response_model=RequestOut)
def complain(body: ComplaintIn, gate: GateDep, code: Code) -> Any:
    """Lodge a complaint; the answer is due by ``due_at``."""
    return gate.subject_complaint(code, body.text).to_dict()


@router.post("/me/corrections", status_code=201, response_model=RequestOut)
def correct(body: ComplaintIn, gate: GateDep, code: Code) -> Any:
    """Ask for a correction (a wrong match, a wrong record); answered by ``due_at``."""
    return gate.subject_correction(code, body.text).to_dict()


@router.get("/me/evidence")
def my_evidence(gate: GateDep, code: Code) -> dict[str, Any]:
    """My evidence bundle: every event about me with its inclusion proof, the signed
    checkpoint, notices and receipts; verify it offline with `facegate evidence verify`."""
    try:
        return gate.export_evidence(access_code=code)
    except NotFound as err:  # an unknown (or erased) code: 401, as on every route here
        raise Unauthenticated(err.message, advice=err.advice) from None
