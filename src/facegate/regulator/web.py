"""The regulator console: pages on the regulator node, for its officials.

Mounted on the regulator's app (:func:`mount`), with the operator pages' templates, styles,
sealed sessions, CSRF tokens and security headers. Officials sign in with a name and
password kept in the regulator's home (:mod:`.web_logins`; ``facegate regulator login``);
the session key is derived (HKDF) from the regulator's authority key, which only this node
holds. The pages read the regulator's own records:

* ``/console``: every supervised operator, its state, risk level, open findings, overdue
  obligations, people held and the witness's freshness;
* ``/console/logs/{n}``: one operator: findings, filings and incident notifications
  received, orders issued and acknowledged, and charts over time.
"""

from __future__ import annotations

import hashlib
from typing import Final

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from facegate.errors import Unauthenticated
from facegate.regulator import web_logins, web_views
from facegate.regulator.node import Regulator
from facegate.web import STATIC, auth, charts, i18n, sessions
from facegate.web.render import page
from facegate.web.routing import SignInNeeded, form_text, read_form, router
from facegate.web.security import SecurityHeaders

routes = router(prefix="/console")
LOGIN: Final = "/console/login"
_AD: Final = b"facegate/regulator/web-session/v1"


def mount(app: FastAPI, reg: Regulator) -> None:
    """Serve the console from the regulator's ``app``."""
    secret = hashlib.sha256(_AD + reg.core.authority.private_key.private_bytes_raw()).digest()
    app.state.web_sessions = sessions.SessionCodec(secret + _AD)
    app.state.web_login_attempts = auth.limiter()
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(routes)
    app.add_api_route("/", _to_console, methods=["GET"], include_in_schema=False)


async def _to_console() -> Response:
    """The node's address opens the console (its root serves the witness's POST only)."""
    return RedirectResponse("/console", status_code=303)


def _reg(request: Request) -> Regulator:
    reg: Regulator = request.app.state.regulator
    return reg


def official(request: Request) -> web_logins.Official:
    """The signed-in official; :class:`SignInNeeded` otherwise (the page then redirects)."""
    session = sessions.current(request)
    found = None
    if session is not None and session.kind == "regulator":
        found = web_logins.still_valid(_reg(request).core, session.data["name"], session.data["pw"])
    if found is None:
        raise SignInNeeded("officials sign in to the regulator console")
    return found


@routes.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> Response:
    return page(request, "reg_login.html", {"error": None, "name": ""})


@routes.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    form = await read_form(request)
    sessions.check_post(request, form)
    name = form_text(form, "name", max_len=200)
    password = str(form.get("password", ""))[:2048]
    attempts = request.app.state.web_login_attempts
    attempts.hit(f"client:{request.client.host if request.client else 'unknown'}")
    attempts.hit(f"name:{name.casefold()}")
    try:
        found = await run_in_threadpool(web_logins.verify_login, _reg(request).core, name, password)
    except Unauthenticated as err:
        return page(request, "reg_login.html", {"error": err.message, "name": name}, status=401)
    sessions.start(request, "regulator", name=found.name, pw=found.password_set_at.isoformat())
    response = RedirectResponse("/console", status_code=303)
    sessions.write_cookie(request, response)
    return response


@routes.post("/logout")
async def logout(request: Request) -> Response:
    form = await read_form(request)
    sessions.check_post(request, form)
    sessions.end(request)
    response = RedirectResponse(LOGIN, status_code=303)
    sessions.write_cookie(request, response)
    return response


@routes.get("", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    who = await run_in_threadpool(official, request)
    logs = await run_in_threadpool(web_views.overview, _reg(request))
    return page(request, "reg_home.html", {"official": who, "logs": logs})


@routes.get("/logs/{log_id}", response_class=HTMLResponse)
async def log_page(request: Request, log_id: str) -> Response:
    """One operator, by the id of its log (an origin holds slashes: not in a path)."""
    who = await run_in_threadpool(official, request)
    reg = _reg(request)
    origin = await run_in_threadpool(web_views.origin_of, reg, log_id)

    def read() -> dict[str, object]:
        return {
            "risk": reg.risk(origin)[0],
            "findings": reg.findings(origin),
            "inbox": reg.inbox(origin),
            "orders": web_views.orders_of(reg, origin),
            **charts.supervision_charts(web_views.figures(reg, origin), i18n.negotiate(request)),
        }

    context = {"official": who, **await run_in_threadpool(read)}
    return page(request, "reg_log.html", context)
