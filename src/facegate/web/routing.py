"""Routers of the web pages: a facegate error becomes an HTML page, never JSON or a 500.

The app's own handlers (``facegate.api.errors``) answer JSON to API clients; a route built
here catches the error tree first and renders it for people, with the same status code.
Pages read their forms themselves (see :func:`form_text`) so that a bad field is a message
on the page rather than a validation error in JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Final
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from facegate.errors import FacegateError, InvalidInput, Unauthenticated
from facegate.gate import Gate
from facegate.web.render import error_page

LOGIN: Final = "/console/login"


class SignInNeeded(Unauthenticated):
    """No valid console session (:mod:`facegate.web.guard`): the page answers with a way to
    the sign-in page instead."""

    code = "sign_in_needed"
    default_advice = "Sign in to the operator console with your own name and password."


def login_url(request: Request) -> str:
    """The sign-in page, coming back here afterwards (only a console page's address)."""
    path = request.url.path
    if request.method == "GET" and path.startswith("/console/") and path != LOGIN:
        return f"{LOGIN}?next={quote(path, safe='/')}"
    return LOGIN


class WebRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInNeeded:
                if request.headers.get("hx-request") == "true":  # htmx follows this header
                    return Response(status_code=204, headers={"HX-Redirect": LOGIN})
                return RedirectResponse(login_url(request), status_code=303)
            except FacegateError as err:
                return error_page(request, err)

        return guarded


def router(**kwargs: Any) -> APIRouter:
    return APIRouter(route_class=WebRoute, include_in_schema=False, **kwargs)


def gate_of(request: Request) -> Gate:
    gate: Gate = request.app.state.gate
    return gate


def limit(request: Request, code: str | None = None) -> None:
    """Count one use of an access code against the client (and, where the app's limiter
    keeps one, against the code), in the same windows as the subject API
    (``X-Access-Code``), so two doors do not double the guesses. TooManyRequests: a 429 page."""
    host = request.client.host if request.client else "unknown"
    limiter = request.app.state.subject_limiter
    if code is not None and hasattr(limiter, "code"):  # per address and per code
        limiter.hit(host, code)
    else:
        limiter.hit(host)


async def read_form(request: Request, *, max_files: int = 1, max_fields: int = 40) -> FormData:
    try:
        return await request.form(max_files=max_files, max_fields=max_fields)
    except Exception as exc:  # a malformed body is the sender's error, not ours
        raise InvalidInput(f"the form could not be read: {exc}") from None


def form_text(form: FormData, name: str, *, max_len: int = 5000) -> str:
    """A text field, stripped; :class:`InvalidInput` if it is a file, too long, or sent more
    than once (which of two values counts would be ambiguous; see api/single.py)."""
    if len(form.getlist(name)) > 1:
        raise InvalidInput(
            f"the field {name!r} is sent more than once",
            advice="Send the form from its page once more: each field holds one answer.",
        )
    value = form.get(name, "")
    if isinstance(value, UploadFile):
        raise InvalidInput(f"the field {name!r} must be text, not a file")
    if len(value) > max_len:
        raise InvalidInput(f"the field {name!r} is longer than {max_len} characters")
    return value.strip()


async def upload_bytes(form: FormData, name: str, *, limit: int) -> bytes | None:
    """The bytes of the uploaded file ``name`` (None when no file was chosen);
    :class:`InvalidInput` if it is larger than ``limit``."""
    value = form.get(name)
    if not isinstance(value, UploadFile) or not value.filename:
        return None
    data = await value.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput(f"the file {value.filename!r} is larger than {limit // 2**20} MiB")
    return data
