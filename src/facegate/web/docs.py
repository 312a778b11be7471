"""``/docs`` (Swagger UI) and ``/redoc`` served from this machine, not from a CDN.

FastAPI's own pages load their scripts from a CDN and start Swagger UI with an inline
script, which the Content Security Policy forbids; these pages load the vendored bundles
from ``/static/vendor/`` and start Swagger UI from ``/static/swagger-init.js``.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from facegate.web.render import page
from facegate.web.routing import router

routes = router()
#: FastAPI's CDN-backed pages, replaced by the ones below
REPLACED = ("/docs", "/docs/oauth2-redirect", "/redoc")


def drop_cdn_pages(app: FastAPI) -> None:
    """Remove FastAPI's default docs routes (they would answer first)."""

    def keep(route: BaseRoute) -> bool:
        return not (isinstance(route, Route) and route.path in REPLACED)

    app.router.routes[:] = [r for r in app.router.routes if keep(r)]


@routes.get("/docs", response_class=HTMLResponse)
async def swagger(request: Request) -> Response:
    return page(request, "swagger.html", {"openapi_url": request.app.openapi_url})


@routes.get("/redoc", response_class=HTMLResponse)
async def redoc(request: Request) -> Response:
    return page(request, "redoc.html", {"openapi_url": request.app.openapi_url})
