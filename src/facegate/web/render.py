"""Rendering pages: one autoescaping Jinja2 environment per language, and the error page.

Every value reaches the HTML through Jinja2's autoescaping (no ``|safe`` on data anywhere;
the only markup built in Python is the SVG of the charts and the QR codes, which escape
their text themselves). Pages are never cached: some show a person's data.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from facegate import __version__
from facegate.errors import FacegateError
from facegate.web import i18n, labels, sessions

TEMPLATES: Final = Path(__file__).resolve().parent / "templates"


@functools.cache
def environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters["when"] = lambda v, date_only=False: i18n.when(v, language, date_only=date_only)
    env.globals.update(
        LANGUAGES=i18n.LANGUAGES,
        NAMES=i18n.NAMES,
        version=__version__,
        lang=language,
        STATUS=labels.STATUS,
        ROLES=labels.ROLES,
        PIA_LABELS=labels.PIA_LABELS,
        REQUEST_KINDS=labels.REQUEST_KINDS,
        METHOD_NAMES=labels.METHOD_NAMES,
        place_name=lambda name: labels.place_name(name, language),
        span=lambda delta: labels.span(delta, language),
    )
    return env


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def render(request: Request, template: str, context: Mapping[str, Any] | None = None) -> str:
    language = i18n.negotiate(request)
    ctx = {
        "path": request.url.path,
        "csrf_token": lambda: sessions.csrf_token(request),
        "signed_in": sessions.current(request),
        **(context or {}),
    }
    return environment(language).get_template(template).render(ctx)


def page(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    partial: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """``template`` rendered for this request (``partial`` instead, for an htmx request),
    with the session and language cookies it needs."""
    name = partial if partial is not None and is_htmx(request) else template
    response = HTMLResponse(render(request, name, context), status_code=status, headers=headers)
    response.headers["Cache-Control"] = "no-store"
    picked = i18n.choice(request)
    if picked is not None:
        response.set_cookie(
            i18n.COOKIE, picked, max_age=365 * 86400, path="/", secure=True, samesite="lax"
        )
    sessions.write_cookie(request, response)
    return response


def error_page(request: Request, err: FacegateError) -> HTMLResponse:
    """A facegate error as a page with the same status code the API would answer."""
    from facegate.api.errors import status_for

    status = status_for(err)
    headers = {"Retry-After": "60"} if status == 429 else None
    return page(
        request,
        "error.html",
        {"status": status, "code": err.code, "message": err.message, "advice": err.advice},
        status=status,
        partial="_error.html",
        headers=headers,
    )
