"""The one place where facegate's error tree becomes HTTP status codes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from facegate import errors as e
from facegate.api.ratelimit import TooManyRequests
from facegate.specs import FIELD_RULES

#: most specific first; the first isinstance match wins
STATUS: tuple[tuple[type[e.FacegateError], int], ...] = (
    (TooManyRequests, 429),
    (e.Busy, 503),
    (e.ImageTooLarge, 413),
    (e.UnsupportedImage, 415),
    (e.FaceError, 422),
    (e.InvalidCiphertext, 422),
    (e.InvalidInput, 400),
    (e.Unauthenticated, 401),
    (e.Forbidden, 403),
    (e.PolicyDenied, 403),
    (e.NotFound, 404),
    (e.Conflict, 409),
    (e.LedgerTampered, 409),
    (e.RecordAltered, 409),
    (e.InvalidTemplate, 500),
    (e.ConfigError, 500),
    (e.FacegateError, 500),
)


class ErrorBody(BaseModel):
    """Every error answer: what went wrong, what to do, and the legal rule for a refusal."""

    error: str = Field(description="stable machine-readable code, e.g. not_found")
    message: str = Field(description="one line saying what went wrong")
    advice: str = Field(description="what to do next (may be empty)")
    rule_id: str | None = Field(None, description="the rule that refused the act (403)")
    rule_ids: list[str] | None = Field(None, description="every rule that refused it")


_MEANING = {
    400: "bad input (control characters, a value no column holds); nothing changed",
    401: "no or unknown credential (API key or access code)",
    403: "refused by a legal rule (rule_id) or another operator's resource",
    404: "no such resource",
    409: "conflicts with the current state",
    413: "the body or image is too large",
    415: "not an image format facegate accepts",
    422: "missing or malformed fields, a face problem (no face, many faces), or a "
    "ciphertext that is not one",
    429: "rate limited; see Retry-After",
    500: "an internal error (never caused by input)",
    503: "at capacity (e.g. decoding many large photos); see Retry-After",
}


def documented(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` declaring ``codes`` (plus 400, 413, 422 and 500, which any
    route can answer) with the error body."""
    wanted = sorted({400, 413, 422, 500, *codes})
    # the schema inline rather than as "model": FastAPI would file a model under the route's
    # own media type (text/plain for the checkpoint routes), but errors are always JSON
    body = {"application/json": {"schema": ErrorBody.model_json_schema()}}
    return {code: {"description": _MEANING[code], "content": body} for code in wanted}


def status_for(err: e.FacegateError) -> int:
    return next(code for cls, code in STATUS if isinstance(err, cls))


#: error codes of the HTTP errors Starlette and FastAPI raise themselves
_HTTP_CODES = {400: "invalid_request", 404: "not_found", 405: "method_not_allowed"}


async def http_error(_req: Request, err: Exception) -> Response:
    """Starlette's own HTTP errors (no such route, wrong method, a body it cannot parse, a
    multipart part too large) in the documented error shape rather than ``{"detail"}``."""
    assert isinstance(err, StarletteHTTPException)
    if err.status_code < 400:  # not an error (e.g. 304): nothing to say
        return Response(status_code=err.status_code, headers=err.headers)
    body = {
        "error": _HTTP_CODES.get(err.status_code, "http_error"),
        "message": str(err.detail),
        "advice": "See /docs for the routes and the fields each takes.",
    }
    return JSONResponse(body, status_code=err.status_code, headers=err.headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, http_error)

    @app.exception_handler(e.FacegateError)
    async def _facegate(_req: Request, err: e.FacegateError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(err, e.Unauthenticated) else None
        if isinstance(err, e.Busy | TooManyRequests):
            headers = {"Retry-After": "5" if isinstance(err, e.Busy) else "60"}
        return JSONResponse(err.to_dict(), status_code=status_for(err), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, err: RequestValidationError) -> JSONResponse:
        problems = [_problem(x) for x in err.errors()]
        return JSONResponse(
            {
                "error": "invalid_request",
                "message": "the request is missing fields or has wrong ones: "
                + "; ".join(problems),
                "advice": "See /docs for the fields each route takes.",
            },
            status_code=422,
        )


def _problem(error: Mapping[str, Any]) -> str:
    """``field: what is wrong (the rules that need the field)``."""
    loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "form")]
    field = ".".join(loc) or "body"
    rule = FIELD_RULES.get(loc[0], "") if loc else ""
    return f"{field}: {error.get('msg', '')}" + (f" ({rule})" if rule else "")
