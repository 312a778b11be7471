"""What every route documents: the error shape, and which statuses it may answer."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorOut(BaseModel):
    """Every error: what went wrong, what to do next, and for a legal refusal the rule."""

    error: str = Field(description="a stable code, e.g. policy_denied, invalid_input")
    message: str
    advice: str
    rule_id: str | None = Field(None, description="the LEGAL-RULES id a refusal rests on")
    rule_ids: list[str] | None = None


_WHY = {
    400: "bad input; nothing was changed",
    401: "no valid API key",
    403: "refused by a legal rule (rule_id), or not allowed to this principal's role",
    404: "not found (or not yours)",
    409: "conflicts with the current state",
    413: "the upload is too large",
    415: "not a supported image",
    422: "a field is missing or malformed, or the photo has no usable face",
    429: "too many requests",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route answering these error statuses (plus 422)."""
    return {code: {"model": ErrorOut, "description": _WHY[code]} for code in sorted({*codes, 422})}


#: what every authenticated operator route may answer
AUTHED = (400, 401, 403, 404)
