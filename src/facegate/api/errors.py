"""The one place where facegate's error tree becomes HTTP status codes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from facegate import errors as e
from facegate.api.ratelimit import TooManyRequests
from facegate.specs import FIELD_RULES

#: most specific first; the first isinstance match wins
STATUS: tuple[tuple[type[e.FacegateError], int], ...] = (
    (TooManyRequests, 429),
    (e.ImageTooLarge, 413),
    (e.UnsupportedImage, 415),
    (e.FaceError, 422),
    (e.InvalidInput, 400),
    (e.Unauthenticated, 401),
    (e.Forbidden, 403),
    (e.PolicyDenied, 403),
    (e.NotFound, 404),
    (e.Conflict, 409),
    (e.LedgerTampered, 409),
    (e.InvalidTemplate, 500),
    (e.ConfigError, 500),
    (e.FacegateError, 500),
)


def status_for(err: e.FacegateError) -> int:
    return next(code for cls, code in STATUS if isinstance(err, cls))


def install(app: FastAPI) -> None:
    @app.exception_handler(e.FacegateError)
    async def _facegate(_req: Request, err: e.FacegateError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(err, e.Unauthenticated) else None
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
