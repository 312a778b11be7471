"""Web pages for every party, served beside the API by the same app.

Server-rendered (Jinja2, htmx for partial updates; every form also works without script),
in English and Chinese (gettext catalogues), with strict security headers, and with no
request leaving the machine: scripts and styles are installed from the package registries
at build time (:mod:`facegate.web.build`) and served from ``/static``.

* ``/``: what this installation is, who runs it, the public checkpoint;
* ``/d/{deployment}``: a deployment's public notice page, with a QR code for the signs;
* ``/portal``: a person's portal, opened with the access code on their receipt;
* ``/console``: the operator console: deployments, consent desk, enrollment and
  verification, review, requests, ledger, reports, principals (``console_*.py``);
* ``/regulator``: public supervision figures of this operator's ledger (the regulator's own
  console is served by the regulator node, :mod:`facegate.regulator.web`);
* ``/docs``, ``/redoc``: the API documentation, offline.

``create_app`` calls :func:`mount` once.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Final

from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from facegate.api.errors import http_error
from facegate.errors import NotFound

STATIC: Final = Path(__file__).resolve().parent / "static"


def mount(app: FastAPI, *, principals: object | None = None) -> None:
    """Serve the pages from ``app`` (whose ``state.gate`` is set). ``principals`` replaces
    the Gate's principal directory (see :mod:`facegate.web.auth`)."""
    from facegate.web import (
        auth,
        build,
        console,
        console_admin,
        console_deployments,
        console_desk,
        console_faces,
        console_people,
        console_records,
        docs,
        pages,
        portal,
    )
    from facegate.web.security import SecurityHeaders
    from facegate.web.sessions import SessionCodec

    gate = app.state.gate
    app.state.web_sessions = SessionCodec.for_gate(gate)
    app.state.web_principals = principals if principals is not None else auth.GatePrincipals(gate)
    app.state.web_login_attempts = auth.limiter()
    app.state.web_figures = None
    docs.drop_cdn_pages(app)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    consoles = (
        console.routes,
        console_deployments.routes,
        console_desk.routes,
        console_faces.routes,
        console_people.routes,
        console_records.routes,
        console_admin.routes,
    )
    for routes in (pages.routes, portal.routes, *consoles, docs.routes):
        app.include_router(routes)
    app.add_exception_handler(StarletteHTTPException, _not_found_page)
    missing = build.missing_assets()
    if missing:
        logging.getLogger("facegate.web").warning(
            "web assets missing (%s): run `python -m facegate.web.build` (make install does)",
            ", ".join(missing),
        )


async def _not_found_page(request: Request, exc: Exception) -> Response:
    """A browser asking for a page that does not exist gets a page; API clients get the
    documented JSON error (facegate.api.errors.http_error)."""
    assert isinstance(exc, StarletteHTTPException)
    wants_html = "text/html" in request.headers.get("accept", "")
    if exc.status_code == 404 and wants_html and not request.url.path.startswith("/v1/"):
        from facegate.web.render import error_page

        return error_page(request, NotFound("there is no page at this address"))
    return await http_error(request, exc)


__all__ = ["STATIC", "mount"]
